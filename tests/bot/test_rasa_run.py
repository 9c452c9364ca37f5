"""ops/rasa_run.py, the ``rasa run`` the supervisor starts, in Rasa's own environment: Rasa's check of an action
server's response gives the same verdicts (and Rasa's own error) without checking the schema again at every
call, and Rasa's SQLite connections commit with synchronous=NORMAL like the product's."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from griddesk.settings import REPO_ROOT, get_settings
from ops.train_model import bot_env, bot_python

PROBE = textwrap.dedent(
    """
    import json, sqlite3, sys
    import sqlalchemy
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction

    if sys.argv[1] == "installed":
        sys.path.insert(0, "ops")
        import rasa_run
        rasa_run.install()

    schema_checks = 0
    validator_class = validators.validator_for(RemoteAction.action_response_format_spec())
    check_schema = validator_class.check_schema

    def counted(schema):
        global schema_checks
        schema_checks += 1
        return check_schema(schema)

    validator_class.check_schema = staticmethod(counted)
    action = RemoteAction("action_answer_faq", None)
    valid = {
        "events": [{"event": "slot", "name": "faq_id", "value": "fee", "timestamp": None}],
        "responses": [{"response": "utter_faq_answer", "answer": "..."}],
    }
    verdicts = [action._validate_action_result(valid), action._validate_action_result({"events": [], "responses": []})]
    errors = []
    for invalid in ({"events": {"event": "slot"}}, {"events": [{"event": "no_such_event"}]}, {"responses": "text"}):
        try:
            action._validate_action_result(invalid)
            errors.append(None)
        except ValidationError as error:
            errors.append(error.message)
    with sqlalchemy.create_engine(f"sqlite:///{sys.argv[2]}").connect() as connection:
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    print(json.dumps({"verdicts": verdicts, "errors": errors, "schema_checks": schema_checks,
                      "synchronous": synchronous}))
    """
)


def probe(mode: str, database: str) -> dict[str, object]:
    settings = get_settings()
    result = subprocess.run([bot_python(settings), "-c", PROBE, mode, database], cwd=REPO_ROOT, env=bot_env(settings),
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    folder = tmp_path_factory.mktemp("rasa_run")
    return {mode: probe(mode, str(folder / f"{mode}.db")) for mode in ("rasa", "installed")}


def test_responses_get_the_same_verdicts_and_rasas_own_errors(outcomes):
    rasa, installed = outcomes["rasa"], outcomes["installed"]
    assert installed["verdicts"] == rasa["verdicts"] == [True, True]
    assert installed["errors"] == rasa["errors"]
    assert all("Failed to validate Action server response" in str(message) for message in installed["errors"])


def test_the_schema_is_not_checked_again_for_each_response(outcomes):
    assert outcomes["rasa"]["schema_checks"] == 5  # Rasa 3.6 with jsonschema 4.17: once per response
    assert outcomes["installed"]["schema_checks"] == 3  # only for the invalid ones, which Rasa's check explains


def test_sqlite_connections_commit_with_synchronous_normal(outcomes):
    assert outcomes["rasa"]["synchronous"] == 2  # FULL, SQLite's default
    assert outcomes["installed"]["synchronous"] == 1  # NORMAL, as griddesk/db.py sets for the product


def test_run_as_a_script_the_redis_package_is_redis_not_ops_redis():
    # `python ops/rasa_run.py` puts ops/ first on sys.path, where ops/redis.py shadowed the redis package: Rasa's
    # Redis lock store (make cluster) then failed at start with "module 'redis' has no attribute 'StrictRedis'".
    settings = get_settings()
    script = (
        "import os, runpy, sys; sys.path.insert(0, os.path.abspath('ops'));"
        " runpy.run_path('ops/rasa_run.py', run_name='probe');"
        " import redis; print(redis.StrictRedis.__module__)"
    )
    result = subprocess.run([bot_python(settings), "-c", script], cwd=REPO_ROOT, env=bot_env(settings),
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "redis.client"
