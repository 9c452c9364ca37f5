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


def test_the_integration_token_has_a_name_for_audit_trails():
    assert load_settings({}).api_token_name == "integration"
    assert load_settings({"GRIDDESK_API_TOKEN_NAME": " crm-sync "}).api_token_name == "crm-sync"


@pytest.mark.parametrize("name", ["客服系统", "crm sync", "a" * 65, "crm:1"])
def test_a_token_name_that_audit_trails_could_not_show_plainly_is_refused(name):
    with pytest.raises(SettingsError, match="GRIDDESK_API_TOKEN_NAME"):
        load_settings({"GRIDDESK_API_TOKEN_NAME": name})


def test_identity_secrets_are_read_as_secrets_current_first_then_the_one_being_retired():
    current, previous = "site-secret-2026-aaaaaaaa", "site-secret-2025-bbbbbbbb"
    settings = load_settings({"GRIDDESK_IDENTITY_SECRET": current, "GRIDDESK_IDENTITY_SECRET_PREVIOUS": previous})
    assert current not in repr(settings) and previous not in repr(settings)
    assert [secret.reveal() for secret in settings.identity_secrets] == [current, previous]
    assert load_settings({}).identity_secrets == ()


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GRIDDESK_IDENTITY_SECRET": "short"}, "at least 16"),
        ({"GRIDDESK_IDENTITY_SECRET_PREVIOUS": "site-secret-2025-bbbbbbbb"}, "GRIDDESK_IDENTITY_SECRET"),
    ],
)
def test_unusable_identity_secrets_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_rate_limits_have_defaults_a_person_never_reaches_and_can_be_set_or_switched_off():
    defaults = load_settings({}).rate
    assert defaults.handoffs_per_address == 20 and defaults.messages_per_conversation == 30
    assert defaults.login_failures_per_address >= 20 and defaults.reads_per_conversation >= 60
    rate = load_settings({"GRIDDESK_RATE_HANDOFFS_PER_ADDRESS": "3", "GRIDDESK_RATE_READS_PER_ADDRESS": "0"}).rate
    assert rate.handoffs_per_address == 3 and rate.reads_per_address == 0  # 0 = no limit
    with pytest.raises(SettingsError, match="GRIDDESK_RATE_MESSAGES_PER_ADDRESS"):
        load_settings({"GRIDDESK_RATE_MESSAGES_PER_ADDRESS": "-1"})


def test_trusted_proxies_are_addresses_or_networks():
    settings = load_settings({"GRIDDESK_TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12 ::1"})
    assert settings.trusted_proxies == ("10.0.0.1/32", "172.16.0.0/12", "::1/128")
    assert load_settings({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="GRIDDESK_TRUSTED_PROXIES"):
        load_settings({"GRIDDESK_TRUSTED_PROXIES": "proxy.example.com"})


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
