"""The login settings accounts/ reads: GRIDDESK_COOKIE_SECURE and GRIDDESK_SESSION_HOURS."""

from __future__ import annotations

import pytest

from griddesk.settings import SettingsError, load_settings


def test_cookies_are_secure_and_sessions_last_12_idle_hours_by_default():
    settings = load_settings({})
    assert settings.cookie_secure is True and settings.session_hours == 12


@pytest.mark.parametrize(
    "raw, expected", [("false", False), ("0", False), ("No", False), ("true", True), ("1", True), ("yes", True)]
)
def test_cookie_secure_accepts_true_false_1_0_yes_no(raw, expected):
    assert load_settings({"GRIDDESK_COOKIE_SECURE": raw}).cookie_secure is expected


@pytest.mark.parametrize(
    "env", [{"GRIDDESK_COOKIE_SECURE": "maybe"}, {"GRIDDESK_SESSION_HOURS": "0"}, {"GRIDDESK_SESSION_HOURS": "twelve"}]
)
def test_bad_login_settings_are_refused_with_the_variable_named(env):
    with pytest.raises(SettingsError, match=next(iter(env))):
        load_settings(env)
