"""Errors a person caused and can fix: each carries one line to show them."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, a missing case, a refused action: shown to the user as is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the input it is about, when there is one ("note", "session")


class NotFound(UserError):
    pass


class Forbidden(UserError):
    pass
