"""Text normalisation applied before anything is matched or embedded.

Customers write Simplified and Traditional characters, full-width letters and digits, and stray
control characters; the index holds one canonical form so they all meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACE = re.compile(r"\s+")
# Sentence-final punctuation says nothing about which FAQ is meant (怎么开发票 = 怎么开发票?).
_EDGE_PUNCTUATION = re.compile(r"^[\s?!.,;:~…?!。,;:、]+|[\s?!.,;:~…?!。,;:、]+$")
# Characters that carry meaning for lexical matching: CJK ideographs, letters and digits.
_TOKEN_CHARS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def strip_control(text: str) -> str:
    """Replace control and invisible formatting characters by spaces (keeps newlines and tabs out)."""
    return _CONTROL.sub(" ", text)


def normalize(text: str) -> str:
    """Canonical form for matching: NFKC (full-width → half-width), Simplified, lower case,
    no control characters, single spaces, no punctuation at either end."""
    text = unicodedata.normalize("NFKC", text)
    text = strip_control(text)
    text = to_simplified(text).lower()
    return _EDGE_PUNCTUATION.sub("", _SPACE.sub(" ", text))


def lexical_chars(normalized: str) -> str:
    """The characters of an already normalised text that lexical matching looks at."""
    return "".join(_TOKEN_CHARS.findall(normalized))
