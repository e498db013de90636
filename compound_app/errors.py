"""The one exception for a rule a change would break, shown to the user next to a field."""

from __future__ import annotations


class RuleError(Exception):
    """A service refused a change; ``field`` names the form field to show ``message`` on."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
