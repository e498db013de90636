"""Property committees: their members, positions and terms."""

from flask import Blueprint

bp = Blueprint("committees", __name__, url_prefix="/committees")
