"""Rectification (整改清单) and inspections (督导检查): projects that fix the problems of the
register, with their plan, budget, progress, evidence and verification; and the staff's
visits to the pilots, item by item of the subdistrict's checklist, whose failed items
become problems."""

from flask import Blueprint

bp = Blueprint("rectify", __name__, url_prefix="/rectify")
