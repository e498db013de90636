"""Owners' votes and consultations: questions put to residents, ballots, counts, notices."""

from flask import Blueprint

bp = Blueprint("votes", __name__, url_prefix="/votes")
