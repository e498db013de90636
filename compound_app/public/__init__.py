"""Public links: the pages a printed poster's QR code opens, without signing in."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/p")
