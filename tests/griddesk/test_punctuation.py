"""What staff and customers read uses full-width punctuation next to Chinese (，。：？！；（）), never "您好,我是…".

Scans the pages' text (HTML and JavaScript outside comments) and the Chinese messages in the Python code
(string constants that are not docstrings or patterns). A hit is an ASCII , : ? ! ; ( ) touching a Chinese
character.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHINESE = "[\u4e00-\u9fff\u3002\uff0c\uff1a\uff1f\u300c\u300d\uff08\uff09]"
HALF_WIDTH = re.compile(rf"{CHINESE} ?[,:?!;(]|[,:?!;)] ?{CHINESE}")
COMMENT = re.compile(r"^\s*(//|\*|/\*|<!--)")
PAGES = [
    "accounts/static", "handoff/web/static", "tickets/web/static", "griddesk/web/static", "reports/static",
    "gateway/static", "knowledge_base/web/static",
]  # fmt: skip
MESSAGES = [
    "handoff", "tickets", "grids", "accounts/management.py", "accounts/staff_seed.py", "reports", "gateway", "ops",
    "knowledge_base",
]  # fmt: skip
PATTERN = re.compile(r"\\[dswbDSWB]|\(\?|\|")  # a regular expression, not a message
NAMES = re.compile(r"\b(?:tg|wecom):")  # channel prefixes quoted in a message


def _page_lines() -> list[str]:
    hits = []
    for folder in PAGES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".js", ".html"} or "vendor" in path.parts or ".min." in path.name:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not COMMENT.match(line) and HALF_WIDTH.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return hits


def _message_constants() -> list[str]:
    hits = []
    for entry in MESSAGES:
        target = ROOT / entry
        for path in sorted([target] if target.is_file() else target.rglob("*.py")):
            if "openapi" in path.name:  # API documentation: English, Chinese only as examples
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and HALF_WIDTH.search(NAMES.sub("", node.value))
                    and not PATTERN.search(node.value)
                ):
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    return hits


def test_the_pages_use_full_width_punctuation_next_to_chinese():
    assert _page_lines() == []


def test_the_messages_use_full_width_punctuation_next_to_chinese():
    assert _message_constants() == []


@pytest.mark.parametrize("text", ["您好,我是", "第一位,预计", "提醒:超时", "为什么?", "金额(元)"])
def test_the_check_finds_half_width_punctuation(text):
    assert HALF_WIDTH.search(text)


@pytest.mark.parametrize("text", ["您好，我是", "Enter 发送", "（元）", "a, b: c", "提醒：超时"])
def test_the_check_leaves_full_width_and_ascii_text_alone(text):
    assert not HALF_WIDTH.search(text)
