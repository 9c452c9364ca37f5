"""The one base of every feature's domain errors.

A domain error carries a stable machine ``code`` and a ``message`` fit to show people (Simplified
Chinese, full-width punctuation), and, for bad input, the ``field`` it is about. Services raise them
and never choose an HTTP status: the edge does, once, in :mod:`griddesk.web.errors` (rasa-sdk style).
"""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.field = field


class InvalidInput(DomainError):
    """A value a person or a client sent cannot be used; ``field`` names it (machine name)."""

    code = "invalid_field"
