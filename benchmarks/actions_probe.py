"""The action server with a stopwatch: ``python -m actions`` in which every action call is timed (app env; used
by rasa_turn.py).

Usage: ``.venv/app/bin/python benchmarks/actions_probe.py OUT.jsonl``

Appends one JSON line per call to OUT.jsonl: the action, the sender, whether Rasa sent the domain, the events and
responses it returned, and the wall milliseconds of rasa-sdk's ``ActionExecutor.run`` (the tracker read from JSON, the domain checked, our action run,
its events checked). The rest of an action call as Rasa sees it is the HTTP transport and JSON on both sides.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def install(out_path: str) -> None:
    from rasa_sdk.executor import ActionExecutor

    original = ActionExecutor.run

    @functools.wraps(original)
    async def run(self: ActionExecutor, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = None
        try:
            result = await original(self, action_call, *args, **kwargs)
            return result
        finally:
            record = {
                "action": action_call.get("next_action"),
                "sender": action_call.get("sender_id"),
                "domain_sent": "domain" in action_call,
                "ms": (time.perf_counter() - started) * 1000,
                "events": len(result.events) if result is not None else None,
                "responses": len(result.responses) if result is not None else None,
            }
            with open(out_path, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    ActionExecutor.run = run  # type: ignore[method-assign]


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    install(sys.argv[1])
    from actions.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
