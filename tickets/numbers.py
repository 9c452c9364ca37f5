"""Ticket numbers: ``GD-`` and six random characters from an alphabet without look-alikes.

31^6 ≈ 887 million possibilities, drawn with ``secrets``: a number says nothing about any other
ticket, and guessing one is hopeless behind the lookup's verification and lock-out.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
MAX_NUMBER_CHARS = 32  # what an API path may carry as a number (GD-7K3QX9, any case, the dash optional)
PATTERN = re.compile(r"GD-?([A-Z0-9]{6})", re.IGNORECASE)


def new_number() -> str:
    return "GD-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_number(text: str) -> str | None:
    """``gd-7k3qx9`` / ``GD7K3QX9`` / ``查一下GD-7K3QX9`` → ``GD-7K3QX9``; None when there is none."""
    match = PATTERN.search(text or "")
    return f"GD-{match.group(1).upper()}" if match else None
