"""The registry: communities, compounds, management areas, buildings, units, homes, residents."""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/registry")
