"""Accounts: signing in, activation codes, passwords, role grants."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
