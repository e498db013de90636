"""Messages: each person's inbox (消息), the SMS outbox and its delivery worker."""

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/messages")

from . import cli  # noqa: E402, F401  (flask messages work / remind, on the blueprint's group)
