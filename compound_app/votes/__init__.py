"""Owners' votes and consultations: questions put to residents, ballots, counts, notices."""

from flask import Blueprint

bp = Blueprint("votes", __name__, url_prefix="/votes")

from . import cli  # noqa: E402, F401  (flask votes close-due, on the blueprint's group)
