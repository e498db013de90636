"""Treasury: where an area's money is kept (资金账户), movements between its accounts, and
their balances."""

from flask import Blueprint

bp = Blueprint("treasury", __name__, url_prefix="/treasury")
