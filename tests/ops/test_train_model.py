import shutil

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
