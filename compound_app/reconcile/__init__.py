"""Reconciliation (对账): bank, WeChat Pay and Alipay statements checked against the money
accounts and the fee payments, and the transfers residents say they made (我已转账)."""

from flask import Blueprint

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")
