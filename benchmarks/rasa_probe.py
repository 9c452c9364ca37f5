"""Rasa with a stopwatch: ``rasa run`` in which every turn's parts are timed (bot env; used by rasa_turn.py).

Usage (bot env, Python 3.10):
``.venv/bot/bin/python benchmarks/rasa_probe.py OUT.jsonl [--profile OUT.prof] [--cuts all|none|schema|sqlite]
-- <rasa run args>``

Wraps Rasa 3.6's own functions before it starts (nothing in Rasa is changed on disk) and appends one JSON
line per turn to OUT.jsonl: wall milliseconds of the whole turn (REST handler → reply), the lock, the
tracker store's retrieve and save, NLU, slot extraction, policy prediction, each
custom action call split into building the request (tracker and domain as JSON) and the HTTP round trip,
Rasa's own actions, plus counts: SQL statements, custom action calls, bytes sent to the action server (and
how many of them are the domain), events replayed from the tracker store. Turns must arrive one at a time (the benchmark
does that): the stopwatch is per process, not per conversation.

``--profile`` also runs cProfile during turns only (not during the model load) and writes the stats after
each turn, for ``python -m pstats`` or ``snakeviz``.

``--cuts`` chooses which of ops/rasa_run.py's changes to Rasa (what the product starts) are made: ``all``
(the default, as the product runs), ``none`` (Rasa as installed), ``schema`` (only the action response check
without re-checking its schema) or ``sqlite`` (only SQLite's synchronous=NORMAL).
"""

from __future__ import annotations

import cProfile
import functools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

# the turn being measured: phase -> ms, and counters
_phases: dict[str, float] = defaultdict(float)
_counts: dict[str, int] = defaultdict(int)
_active = False


def _timed_async(owner: Any, name: str, phase: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            if _active:
                _phases[phase] += (time.perf_counter() - started) * 1000

    setattr(owner, name, wrapper)


def _timed_sync(owner: Any, name: str, phase: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            if _active:
                _phases[phase] += (time.perf_counter() - started) * 1000

    setattr(owner, name, wrapper)


def install(out_path: str, profile_path: str | None, cuts: str) -> None:
    import rasa_run  # ops/rasa_run.py, on sys.path from main()
    import sqlalchemy
    from rasa.core import processor as processor_module
    from rasa.core import tracker_store
    from rasa.core.actions import action as action_module
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    if cuts in ("all", "schema"):
        rasa_run.check_responses_with_one_validator()
    if cuts in ("all", "sqlite"):
        rasa_run.sqlite_synchronous_normal()
    profiler = cProfile.Profile() if profile_path else None
    processor_cls = processor_module.MessageProcessor

    original_turn = Agent.handle_message

    @functools.wraps(original_turn)
    async def turn(self: Any, message: Any) -> Any:
        global _active
        _phases.clear()
        _counts.clear()
        _active = True
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        try:
            return await original_turn(self, message)
        finally:
            total = (time.perf_counter() - started) * 1000
            if profiler:
                profiler.disable()
            _active = False
            record = {
                "sender": message.sender_id,
                "text": message.text,
                "total": total,
                "phases": dict(_phases),
                "counts": dict(_counts),
            }
            with open(out_path, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if profiler and profile_path:
                profiler.dump_stats(profile_path)

    Agent.handle_message = turn  # type: ignore[method-assign]

    _timed_async(processor_cls, "handle_message", "processor")
    _timed_async(processor_cls, "parse_message", "nlu")
    _timed_async(processor_cls, "run_action_extract_slots", "extract_slots")
    _timed_sync(processor_cls, "predict_next_with_tracker_if_should", "policies")
    _timed_async(processor_cls, "_run_action", "actions")
    _timed_async(tracker_store.SQLTrackerStore, "_retrieve", "retrieve")
    timed_retrieve = tracker_store.SQLTrackerStore._retrieve

    @functools.wraps(timed_retrieve)
    async def retrieve(self: Any, *args: Any, **kwargs: Any) -> Any:
        tracker = await timed_retrieve(self, *args, **kwargs)
        if _active and tracker is not None:
            _counts["tracker_events"] = len(tracker.events)  # replayed into a tracker on this turn
        return tracker

    tracker_store.SQLTrackerStore._retrieve = retrieve  # type: ignore[method-assign]
    _timed_async(tracker_store.SQLTrackerStore, "save", "store_save")
    _timed_async(action_module.RemoteAction, "run", "custom_action")
    _timed_async(EndpointConfig, "request", "action_http")
    _timed_sync(action_module.RemoteAction, "_validate_action_result", "action_response_check")

    original_format = action_module.RemoteAction._action_call_format

    @functools.wraps(original_format)
    def call_format(self: Any, tracker: Any, domain: Any) -> Any:
        started = time.perf_counter()
        body = original_format(self, tracker, domain)
        if _active:
            encoded = len(json.dumps(body))  # what aiohttp will encode again: the size, and a fair cost
            _phases["action_request_build"] += (time.perf_counter() - started) * 1000
            _counts["custom_action_calls"] += 1
            _counts["action_request_bytes"] += encoded
            if "domain" in body:
                _counts["domain_bytes"] += len(json.dumps(body["domain"]))
        return body

    action_module.RemoteAction._action_call_format = call_format  # type: ignore[method-assign]

    @sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "before_cursor_execute")
    def count_statement(*_args: Any) -> None:
        if _active:
            _counts["sql_statements"] += 1

    @sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
    def count_connection(*_args: Any) -> None:
        if _active:
            _counts["sql_connections"] += 1


def main() -> None:
    argv = sys.argv[1:]
    if "--" not in argv or not argv or argv[0] == "--":
        raise SystemExit(__doc__)
    split = argv.index("--")
    ours, rasa_args = argv[:split], argv[split + 1 :]
    profile_path = ours[ours.index("--profile") + 1] if "--profile" in ours else None
    cuts = ours[ours.index("--cuts") + 1] if "--cuts" in ours else "all"
    if cuts not in ("all", "none", "schema", "sqlite"):
        raise SystemExit(__doc__)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ops"))
    install(ours[0], profile_path, cuts)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *rasa_args]
    rasa_main()


if __name__ == "__main__":
    main()
