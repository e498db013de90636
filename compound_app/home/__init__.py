"""The home page: what each person has to do and where they belong."""

from flask import Blueprint

bp = Blueprint("home", __name__)
