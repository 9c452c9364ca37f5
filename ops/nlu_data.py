"""Keep the bot's training examples in the form the assistant reads at run time.

The gateway sends every customer message to Rasa as ``griddesk.text.normalize_utterance`` makes it
(Simplified, half-width, the noise of emotion folded); the NLU examples in ``bot/data/nlu`` and the
customer lines of the test stories in ``bot/tests`` are kept in exactly that form, so training,
cross-validation, the test stories and live traffic see the same text.

    python -m ops.nlu_data            # list the examples that are not in that form (exit 1 if any)
    python -m ops.nlu_data --write    # rewrite them in place (duplicates within an intent dropped)

``ops.train_model`` refuses to train while any example is not in that form.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from griddesk.settings import REPO_ROOT
from griddesk.text import normalize_utterance

BOT_DIR = REPO_ROOT / "bot"
# `[text](entity)` or `[text]{"entity": …}`: the text is what the customer typed
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_ITEM = re.compile(r"^\s*- (intent|regex|lookup|synonym):\s*(.*?)\s*$")
_EXAMPLES = re.compile(r"^(\s*)examples:\s*\|")
_EXAMPLE = re.compile(r"^(\s*)- (.*?)\s*$")
_USER = re.compile(r"^(\s*)- user:\s*\|")


def plain(example: str) -> str:
    """An example as the customer types it: 改一下[电话](ticket_field) → 改一下电话."""
    return _ANNOTATION.sub(r"\1", example)


def normal(example: str) -> str:
    """The example in normal form, annotations kept."""
    return normalize_utterance(example)


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    text: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}: {self.problem}: {self.text}"


def _rewrite_lines(path: Path, lines: list[str]) -> tuple[list[str], list[Finding]]:
    """The file's lines with every customer text in normal form (an example repeated within its
    intent dropped), and what was wrong with them."""
    out: list[str] = []
    findings: list[Finding] = []
    intent: str | None = None  # the NLU intent whose examples are being read
    block: str | None = None  # "examples" (NLU) or "user" (a test story's customer line)
    block_indent = -1
    seen: dict[str, set[str]] = {}
    blanks: list[str] = []  # blank lines inside a block: kept at its end, dropped between examples
    for number, line in enumerate(lines, 1):
        indent = len(line) - len(line.lstrip(" "))
        if block is not None and not line.strip():
            blanks.append(line)
            continue
        if block is not None and indent <= block_indent:
            block = None
        if blanks and block is None:
            out += blanks
        elif blanks and block == "examples":
            findings.append(Finding(path, number - 1, "", "a blank line between examples (Rasa skips it; dropped)"))
        elif blanks:
            out += blanks
        blanks = []
        if block is None:
            if match := _ITEM.match(line):
                intent = match.group(2) if match.group(1) == "intent" else None
            elif (match := _EXAMPLES.match(line)) and intent is not None:
                block, block_indent = "examples", len(match.group(1))
            elif match := _USER.match(line):
                block, block_indent = "user", len(match.group(1))
            out.append(line)
            continue
        if block == "examples" and (match := _EXAMPLE.match(line)):
            prefix, text = line[: len(match.group(1)) + 2], match.group(2)
        elif block == "user" and line.strip():
            prefix, text = line[:indent], line.strip()
        else:
            out.append(line)
            continue
        fixed = normal(text)
        if plain(fixed) != normalize_utterance(plain(text)):
            findings.append(Finding(path, number, text, "an annotation is in the way; write it in normal form by hand"))
        elif fixed != text:
            findings.append(Finding(path, number, text, f"not in normal form (→ {fixed})"))
        if block == "examples" and intent is not None:
            examples = seen.setdefault(intent, set())
            if plain(fixed) in examples:
                findings.append(Finding(path, number, text, f"repeated in {intent} (dropped)"))
                continue
            examples.add(plain(fixed))
        out.append(prefix + fixed + "\n")
    return out + blanks, findings


def files() -> list[Path]:
    return sorted((BOT_DIR / "data" / "nlu").glob("*.yml")) + sorted((BOT_DIR / "tests").glob("*.yml"))


def conflicts() -> list[str]:
    """Examples (in normal form) that two intents share: the classifier cannot learn both."""
    intents: dict[str, set[str]] = {}
    for path in sorted((BOT_DIR / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in (item.get("examples") or "").splitlines() if "intent" in item else []:
                if line.strip().startswith("- "):
                    key = normalize_utterance(plain(line.strip()[2:]))
                    intents.setdefault(key, set()).add(item["intent"])
    return [f"{text}: {', '.join(sorted(names))}" for text, names in sorted(intents.items()) if len(names) > 1]


def check() -> list[str]:
    """Every training example and test-story line not in normal form, repeated, or shared by two intents."""
    problems: list[str] = []
    for path in files():
        problems += map(str, _rewrite_lines(path, path.read_text(encoding="utf-8").splitlines(keepends=True))[1])
    return problems + [f"an example of two intents: {conflict}" for conflict in conflicts()]


def write() -> list[str]:
    """Rewrite every file in normal form; returns what was changed."""
    changed: list[str] = []
    for path in files():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        out, findings = _rewrite_lines(path, lines)
        changed += map(str, findings)
        if out != lines:
            path.write_text("".join(out), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.nlu_data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the files in normal form")
    args = parser.parse_args(argv)
    if args.write:
        for change in write():
            print(change)
    problems = check()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
