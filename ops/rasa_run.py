"""``rasa run`` without two of Rasa 3.6's per-turn costs (issue 13 item 6). Bot env (Python 3.10), as a script:

    .venv/bot/bin/python ops/rasa_run.py run --model … --endpoints bot/endpoints.yml …

(ops/stack.py starts Rasa this way; the arguments are ``rasa``'s own). Measured with benchmarks/rasa_turn.py
(README, "Cost of a turn"):

- Rasa checks every action server response with ``jsonschema.validate(result, schema)``, and jsonschema 4.17
  (the version Rasa 3.6 pins) checks the constant schema against the JSON Schema meta-schema again on every
  call: ~60 ms of a 150–190 ms turn on this machine. Here the schema is checked once, at start, and one
  validator built from it checks each response: the same schema, the same verdict; a response it rejects
  goes through Rasa's own check, which raises Rasa's own error.
- Rasa's SQLite connections (the tracker store on the product's SQLite database, which is in WAL mode) get
  ``PRAGMA synchronous=NORMAL``, as the product's own connections do (griddesk/db.py), instead of SQLite's
  FULL, which syncs the write-ahead log to disk at every commit (one a turn): a commit survives a crash of
  any process, and only a power cut or an OS crash may lose the last ones, as for the product's own data.

Imports nothing of GridDesk (it runs in Rasa's environment).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

# Run as a script, Python puts this folder (ops/) first on sys.path, where ops/redis.py would stand in for the redis
# package that Rasa's Redis lock store imports (make cluster): take the folder off before Rasa is imported.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]


def check_responses_with_one_validator() -> None:
    """RemoteAction._validate_action_result without re-checking the response schema on every call."""
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    rasa_check = RemoteAction._validate_action_result

    @functools.wraps(rasa_check)
    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError:
            return bool(rasa_check(self, result))  # raises Rasa's error, with its message
        return True

    RemoteAction._validate_action_result = validate_action_result


def sqlite_synchronous_normal() -> None:
    """``PRAGMA synchronous=NORMAL`` on every SQLite connection SQLAlchemy opens in this process."""
    import sqlalchemy

    @sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def install() -> None:
    check_responses_with_one_validator()
    sqlite_synchronous_normal()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
