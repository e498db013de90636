"""The maintenance fund (专项维修资金): its balance as the fund centre reports it, use
applications through the owners' vote and the 公示 to the disbursement, and the payments
made for works by others than the fee ledger."""

from flask import Blueprint

bp = Blueprint("fund", __name__, url_prefix="/fund")
