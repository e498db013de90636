"""Notices (通知公告): what the committee, representatives and staff post to residents,
and who has been told."""

from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/notices")
