"""The Rasa project itself, checked with the bot env's own tools: data validation and the
end-to-end test stories in bot/tests/ against the trained model."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from actions.ticket_extract import names_a_ticket
from griddesk.settings import REPO_ROOT, get_settings
from ops.train_model import BOT_DIR, bot_env, current_model_path

REQUIRED_INTENTS = {"greet", "goodbye", "thank", "affirm", "deny", "request_human", "create_ticket",
                    "check_ticket", "complain", "chitchat", "out_of_scope", "ask_faq", "cancel",
                    "change_ticket_field", "inform"}


def rasa(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    settings = get_settings()
    return subprocess.run([settings.rasa_bin, *args], check=False, cwd=REPO_ROOT, env=bot_env(settings),
                          capture_output=True, text=True, timeout=timeout)


def nlu_examples() -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {}
    for path in sorted((BOT_DIR / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                lines = [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
                examples.setdefault(item["intent"], []).extend(lines)
    return examples


def test_training_data_validates():
    result = rasa("data", "validate", "--domain", str(BOT_DIR / "domain.yml"), "--data",
                  str(BOT_DIR / "data"), "--config", str(BOT_DIR / "config.yml"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_required_intent_has_15_examples():
    examples = nlu_examples()
    for intent in REQUIRED_INTENTS:
        assert len(examples.get(intent, [])) >= 15, intent


def test_every_check_ticket_example_names_a_ticket():
    """action_check_ticket answers a check_ticket message that names no ticket from the knowledge base
    (actions.ticket_lookup): every way the data teaches to ask about a ticket must name one."""
    unnamed = [text for text in nlu_examples()["check_ticket"] if not names_a_ticket(re.sub(r"\]\(\w+\)|\[", "", text))]
    assert unnamed == []


def test_examples_and_test_stories_are_in_the_form_the_gateway_sends():
    """Traditional characters, full-width punctuation and emphasis never reach Rasa (the gateway sends
    griddesk.text.normalize_utterance of every message), so the examples are kept in that form too:
    training and live traffic read the same text. `python -m ops.nlu_data --write` rewrites them."""
    from ops.nlu_data import check

    assert check() == []


def test_every_intent_gets_a_reply_outside_any_form():
    """Each intent the NLU can give (and the low-confidence nlu_fallback) starts a rule that holds in any
    state, so no message ends in silence (change_ticket_field outside a form once did)."""
    domain = yaml.safe_load((BOT_DIR / "domain.yml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((BOT_DIR / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    answered = {
        rule["steps"][0]["intent"]
        for rule in rules
        if not rule.get("condition") and rule["steps"] and "intent" in rule["steps"][0]
    }
    assert {*domain["intents"], "nlu_fallback"} - answered == set()


def test_end_to_end_test_stories_pass(tmp_path):
    model = current_model_path()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make model` (make test does)")
    # `core --e2e` checks the intents predicted from the stories' user text, not just the labels.
    result = rasa("test", "core", "--e2e", "--model", str(model), "--stories", str(BOT_DIR / "tests"),
                  "--out", str(tmp_path), "--fail-on-prediction-errors")
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, detail
