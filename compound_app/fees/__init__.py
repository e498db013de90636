"""Fees: schedules, bills, payments, receipts, arrears, cash, expenses, finance boards."""

from flask import Blueprint

bp = Blueprint("fees", __name__, url_prefix="/fees")
