"""Problems and responsibility (问题清单、责任清单): complaints, suggestions, hotline tickets
and what surveys, meetings and grid workers find, each with its level, owner, deadlines
and timeline; the subdistrict's kinds and deadlines; grids and their grid workers."""

from flask import Blueprint

bp = Blueprint("problems", __name__, url_prefix="/problems")

from . import cli  # noqa: E402, F401  (flask problems escalate, on the blueprint's group)
