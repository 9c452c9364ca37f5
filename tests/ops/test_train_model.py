import shutil
from dataclasses import replace

from ops import train_model


def test_model_hash_changes_with_bot_data_but_not_with_test_stories(tmp_path, monkeypatch):
    bot = tmp_path / "bot"
    shutil.copytree(train_model.BOT_DIR, bot)
    monkeypatch.setattr(train_model, "BOT_DIR", bot)
    before = train_model.model_inputs_hash()
    assert train_model.model_inputs_hash() == before
    (bot / "tests" / "test_stories.yml").write_text("stories: []\n", encoding="utf-8")
    assert train_model.model_inputs_hash() == before
    with (bot / "data" / "nlu" / "basics.yml").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert train_model.model_inputs_hash() != before


def test_bot_python_is_the_interpreter_of_the_rasa_executable(tmp_path, settings):
    rasa = tmp_path / "venv" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text("#!/opt/bot/bin/python3.10\nimport sys\n", encoding="utf-8")
    assert train_model.bot_python(replace(settings, rasa_bin=str(rasa))) == "/opt/bot/bin/python3.10"
    rasa.write_bytes(b"\x7fELF")  # not a script: the python next to it
    assert train_model.bot_python(replace(settings, rasa_bin=str(rasa))) == str(rasa.parent / "python")
