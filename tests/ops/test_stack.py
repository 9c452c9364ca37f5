"""The supervisor starts Rasa with its HTTP API behind a token, on loopback only."""

from __future__ import annotations

import dataclasses

from griddesk.settings import REPO_ROOT, Secret, Settings
from ops.stack import app_env, build_services, with_rasa_token


def _settings(settings: Settings, token: str = "") -> Settings:
    return dataclasses.replace(settings, rasa_token=Secret(token))


def test_a_rasa_token_is_generated_per_run_when_none_is_configured(settings, tmp_path):
    first, second = with_rasa_token(_settings(settings)), with_rasa_token(_settings(settings))
    assert len(first.rasa_token.reveal()) >= 40
    assert first.rasa_token.reveal() != second.rasa_token.reveal()
    assert first.source_env["GRIDDESK_RASA_TOKEN"] == first.rasa_token.reveal()


def test_a_configured_rasa_token_is_kept(settings):
    assert with_rasa_token(_settings(settings, "configured-token")).rasa_token.reveal() == "configured-token"


def test_a_token_starting_with_a_dash_reaches_rasa_as_the_tokens_value(settings, tmp_path):
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"only the command line is checked")
    argv = {s.name: s for s in build_services(with_rasa_token(_settings(settings, "-dash-token")), model)}["rasa"].argv
    assert "--auth-token=-dash-token" in argv and "-dash-token" not in argv  # not taken for an option


def test_rasa_runs_its_api_on_loopback_behind_the_token(settings, tmp_path):
    configured = with_rasa_token(_settings(settings, "s3cret-token"))
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not a real model; only the command line is checked")
    services = {service.name: service for service in build_services(configured, model)}
    argv = services["rasa"].argv
    assert "--auth-token=s3cret-token" in argv
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" in argv
    # the other processes learn the token from their environment (never from a file in the repository)
    assert app_env(configured)["GRIDDESK_RASA_TOKEN"] == "s3cret-token"
    assert services["gateway"].env["GRIDDESK_RASA_TOKEN"] == "s3cret-token"


def test_rasa_keeps_the_dialogue_state_in_the_products_database(settings):
    from ops.train_model import bot_env, tracker_store_url

    # bot/endpoints.yml reads the URL from the environment the supervisor gives Rasa
    assert "${GRIDDESK_TRACKER_STORE_URL}" in (REPO_ROOT / "bot" / "endpoints.yml").read_text()
    assert bot_env(settings)["GRIDDESK_TRACKER_STORE_URL"] == tracker_store_url(settings.database_url)
    assert tracker_store_url("sqlite:////var/lib/griddesk/griddesk.db") == "sqlite:////var/lib/griddesk/griddesk.db"
    # Rasa's SQLAlchemy 1.4 speaks psycopg2 (Rasa's own dependency), the app psycopg 3
    assert tracker_store_url("postgresql+psycopg://gd:pw@127.0.0.1:5433/griddesk") == (
        "postgresql+psycopg2://gd:pw@127.0.0.1:5433/griddesk"
    )
    assert (
        tracker_store_url("postgresql://gd@/griddesk?host=/run/pg") == "postgresql+psycopg2://gd@/griddesk?host=/run/pg"
    )
