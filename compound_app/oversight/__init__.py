"""Oversight of the pilots: the subdistrict's dashboard, stages, milestones, certification."""

from flask import Blueprint

bp = Blueprint("oversight", __name__, url_prefix="/oversight")

from . import cli  # noqa: E402, F401  (flask oversight check-lists, on the blueprint's group)
