"""Repairs: reports, triage, the work on the common parts, facilities and meetings."""

from flask import Blueprint

bp = Blueprint("repairs", __name__, url_prefix="/repairs")
