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


# --- what the assistant's language understanding reads -------------------------------------------

# Punctuation customers repeat for emphasis (after NFKC: ！→!, ？→?, ，→, …→...); a run of them,
# mixed or not (!!!, ？？？, 。。。, ?!?!), says what its first character says.
_PUNCTUATION_RUN = re.compile(r"([!?.,;:~。、])[!?.,;:~。、]+")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A character said three or more times (啊啊啊啊, 闪闪闪, 急急急) is said twice: doubled characters
# are ordinary Chinese (谢谢, 哈哈, 看看), longer runs are only emphasis.
_CHARACTER_RUN = re.compile(rf"([{_CJK}])\1{{2,}}")
# A phrase of 2–4 characters repeated at once (人工人工人工, 客服客服, 在吗在吗, 人工!人工!) is said once.
_PHRASE_RUN = re.compile(rf"([{_CJK}]{{2,4}}[!?.,;:~。、 ]?)\1+")
# Taiwan and Hong Kong words for the service's things, after character conversion (網路 → 网路 → 网络;
# 帳單 → 帐单 → 账单): customers writing Traditional mean what the Simplified word means.
_REGIONAL_WORDS = {
    "网路": "网络",
    "宽频": "宽带",
    "讯号": "信号",
    "软体": "软件",
    "简讯": "短信",
    "登入": "登录",
    "帐单": "账单",
    "帐号": "账号",
    "帐户": "账户",
    "帐务": "账务",
    "到帐": "到账",
    "对帐": "对账",
}
_REGIONAL = re.compile("|".join(_REGIONAL_WORDS))


def normalize_utterance(text: str) -> str:
    """What the assistant's NLU reads of a customer message, the same at training time (the examples
    in ``bot/`` are kept in this form, ``python -m ops.nlu_data``) and at run time (the gateway sends
    every typed message to Rasa in this form; the transcript keeps what was typed): NFKC (full-width
    → half-width), Simplified characters and words (網路 → 网络), no control characters, single spaces, and the noise of
    emotion folded — runs of punctuation to one mark, a character repeated three or more times to
    two, a repeated short phrase to one. Letters, digits and case are left as they are (phone and
    ticket numbers, amounts)."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(strip_control(text))
    text = _REGIONAL.sub(lambda match: _REGIONAL_WORDS[match.group()], text)
    text = _SPACE.sub(" ", text).strip()
    text = _PUNCTUATION_RUN.sub(r"\1", text)
    text = _CHARACTER_RUN.sub(r"\1\1", text)
    previous = None
    while previous != text:  # 人工!!!人工!!! → 人工!人工! → 人工!
        previous, text = text, _PHRASE_RUN.sub(r"\1", text)
    return text
