"""From a property management committee (物管会) to an elected owners' committee (业委会)
or a property company chosen by the owners: the transition path, step by step, and the
hand-over of everything to the new body."""

from flask import Blueprint

bp = Blueprint("transition", __name__, url_prefix="/transition")
