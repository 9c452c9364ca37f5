"""ops.nlu_data: the training examples and test stories kept in the gateway's normal form."""

from __future__ import annotations

from ops import nlu_data

NLU = """version: "3.1"
nlu:
- intent: ask_faq
  examples: |
    - 網路斷了怎麼辦？？？
    - 网络断了怎么办?

    - 改一下[電話](ticket_field)
- regex: phone_number
  examples: |
    - 1[3-9]\\d{9}
- intent: greet
  examples: |
    - 你好你好
"""
STORIES = """version: "3.1"
stories:
- story: one
  steps:
  - user: |
      人工！！！人工！！！
    intent: request_human
"""


def bot_dir(tmp_path, monkeypatch, nlu: str = NLU):
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / "data" / "nlu" / "faq.yml").write_text(nlu, encoding="utf-8")
    (tmp_path / "tests" / "stories.yml").write_text(STORIES, encoding="utf-8")
    monkeypatch.setattr(nlu_data, "BOT_DIR", tmp_path)
    monkeypatch.setattr(nlu_data, "REPO_ROOT", tmp_path)
    return tmp_path


def test_examples_not_in_normal_form_repeated_or_split_by_blank_lines_are_found(tmp_path, monkeypatch):
    bot_dir(tmp_path, monkeypatch)
    problems = "\n".join(nlu_data.check())
    assert "網路斷了怎麼辦？？？" in problems and "网络断了怎么办?" in problems  # the normal form it should have
    assert "repeated in ask_faq" in problems
    assert "a blank line between examples" in problems
    assert "人工！！！人工！！！" in problems  # test stories too
    assert "1[3-9]" not in problems  # regexes are patterns, not customer text


def test_write_puts_everything_in_normal_form_and_keeps_annotations(tmp_path, monkeypatch):
    bot = bot_dir(tmp_path, monkeypatch)
    nlu_data.write()
    assert nlu_data.check() == []
    faq = (bot / "data" / "nlu" / "faq.yml").read_text(encoding="utf-8")
    assert faq.count("网络断了怎么办?") == 1
    assert "    - 改一下[电话](ticket_field)\n- regex" in faq
    assert "    - 1[3-9]\\d{9}\n" in faq
    assert "    - 你好\n" in faq
    assert "      人工!\n" in (bot / "tests" / "stories.yml").read_text(encoding="utf-8")


def test_an_example_of_two_intents_is_a_conflict(tmp_path, monkeypatch):
    bot_dir(tmp_path, monkeypatch, NLU.replace("- 你好你好", "- 網路斷了怎麼辦？"))
    assert any("two intents" in problem and "ask_faq, greet" in problem for problem in nlu_data.check())
