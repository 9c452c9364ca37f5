import pytest

from griddesk.settings import Secret, SettingsError, load_settings


def test_defaults_put_data_under_var_and_derive_urls_from_ports(tmp_path):
    settings = load_settings(
        {"GRIDDESK_DATA_DIR": str(tmp_path), "GRIDDESK_RASA_PORT": "6005", "GRIDDESK_ACTION_PORT": "6055"}
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'griddesk.db'}"
    assert settings.rasa_url == "http://127.0.0.1:6005"
    assert settings.action_server_url == "http://127.0.0.1:6055/webhook"
    assert settings.gateway_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GRIDDESK_GATEWAY_PORT": "eighty"}, "whole number"),
        ({"GRIDDESK_GATEWAY_PORT": "70000"}, "between"),
        ({"GRIDDESK_KB_ANSWER_THRESHOLD": "1.5"}, "between"),
        ({"GRIDDESK_KB_ANSWER_THRESHOLD": "0.3", "GRIDDESK_KB_SUGGEST_THRESHOLD": "0.5"}, "must not exceed"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env, message):
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(env)
    assert next(iter(env)) in str(info.value) or "THRESHOLD" in str(info.value)


def test_secrets_never_show_in_reprs():
    settings = load_settings({"GRIDDESK_API_TOKEN": "s3cret-value"})
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in str(settings.api_token)
    assert settings.api_token.reveal() == "s3cret-value"
    assert not Secret("")


def test_web_sender_ids_are_strict_unless_legacy_ids_are_asked_for():
    assert load_settings({}).legacy_sender_ids is False
    assert load_settings({"GRIDDESK_LEGACY_SENDER_IDS": "true"}).legacy_sender_ids is True
    with pytest.raises(SettingsError, match="GRIDDESK_LEGACY_SENDER_IDS"):
        load_settings({"GRIDDESK_LEGACY_SENDER_IDS": "maybe"})


def test_by_default_only_the_gateways_own_pages_may_frame_the_chat_or_open_its_sockets():
    assert load_settings({}).widget_origins == ""
    sites = load_settings({"GRIDDESK_WIDGET_ORIGINS": "https://shop.example.com  https://m.example.com:8443"})
    assert sites.widget_origins == "https://shop.example.com https://m.example.com:8443"
    with pytest.raises(SettingsError, match="GRIDDESK_WIDGET_ORIGINS"):
        load_settings({"GRIDDESK_WIDGET_ORIGINS": "shop.example.com"})
