"""Common-part income (公共收益): contracts, their instalments, receipts and their totals."""

from flask import Blueprint

bp = Blueprint("income", __name__, url_prefix="/income")
