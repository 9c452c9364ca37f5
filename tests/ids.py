"""Sender ids for tests that talk to the web channels: the shape they accept (≥ 128 random bits)."""

from __future__ import annotations

import hashlib


def web_id(label: str = "c") -> str:
    """A sender id of the shape the web channels accept, readable in failures: ``<label>-<32 hex digits>``.

    The hex part is derived from ``label`` (the same in every pytest-xdist worker, so parametrised tests
    collect alike); every test has a database of its own. ``label``: letters, digits, ``_`` and ``-``.
    """
    return f"{label}-{hashlib.sha256(label.encode()).hexdigest()[:32]}"
