"""People and roles: the staff's pages for accounts, role grants and invite codes."""

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")
