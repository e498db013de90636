"""Oversight of the pilots: the subdistrict's dashboard, stages, milestones, certification."""

from flask import Blueprint

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
