"""``make run``: start Rasa, the action server and the gateway, keep them running (a process that dies is
started again: :mod:`ops.supervisor`); Ctrl-C (or SIGTERM) stops all three."""

from __future__ import annotations

import dataclasses
import secrets
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from griddesk.settings import Secret, Settings, get_settings
from ops.stack import Stack, StackError
from ops.supervisor import GaveUp, Supervisor


def stop_like_ctrl_c(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM (a service manager, ``kill``) stops the processes the same way Ctrl-C does."""
    raise KeyboardInterrupt


def handle_stop_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop everything. SIGINT is taken back even when this process was started with it
    ignored: a shell does that to every command it starts in the background (``make run &``, ``nohup … &``), and
    Python then leaves it ignored, so a SIGINT sent on purpose (``ops.cluster.launched``, ``kill -INT``) did nothing
    and the processes stayed up."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)


def with_api_token(settings: Settings) -> tuple[Settings, bool]:
    """The settings with an API token: the configured one, or a random one for this run (True: generated)."""
    if settings.api_token:
        return settings, False
    return dataclasses.replace(settings, api_token=Secret(secrets.token_urlsafe(24))), True


def print_urls(settings: Settings, generated_token: bool) -> None:
    """What ``make run`` (and ``make cluster``) print once everything is ready."""
    print()
    print(f"GridDesk is running. Customer chat: {settings.gateway_url}/")
    print(
        f"  Agent console:    {settings.gateway_url}/console/   (grid managers: {settings.gateway_url}/console/manager)"
    )
    print(f"  Knowledge base:   {settings.gateway_url}/console/kb   (admins and grid managers)")
    print(f'  Embed the widget: <script src="{settings.gateway_url}/static/widget.js" async></script>')
    print(
        f"  Staff passwords of the first start: {settings.data_dir / 'initial-passwords.txt'}"
        " (change with: .venv/app/bin/python -m accounts passwd <用户名>)"
    )
    print(f"  REST channel (any Rasa REST client): {settings.gateway_url}/webhooks/rest/webhook")
    print(f"  Knowledge-base hit-test API:        {settings.gateway_url}/api/v1/kb/search?q=…")
    if generated_token:
        print(f"  API token for this run (set GRIDDESK_API_TOKEN to choose your own): {settings.api_token.reveal()}")
    print(f"  Logs: {settings.data_dir / 'logs'}")


def supervise(stack: Stack, announce: Callable[[], None]) -> int:
    """Start ``stack``, ``announce`` it, restart what dies until Ctrl-C or SIGTERM, then stop everything.
    The exit code: 0 after Ctrl-C, 1 when a process did not start or kept dying, 130 for Ctrl-C during start-up."""
    handle_stop_signals()
    try:
        stack.start()
    except StackError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopped")
        return 130
    announce()
    print("Press Ctrl-C to stop.", flush=True)
    supervisor = Supervisor(stack, report=lambda line: print(f"==> {line}", flush=True))
    try:
        while True:
            supervisor.check()
            time.sleep(1)
    except GaveUp as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopping…")
        return 0
    finally:
        stack.stop()
        print("==> all processes stopped", flush=True)


def main() -> int:
    handle_stop_signals()
    settings, generated = with_api_token(get_settings())
    print("==> starting Rasa, the action server and the gateway (Rasa takes about a minute to load)")
    try:
        stack = Stack(settings)
    except StackError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    return supervise(stack, lambda: print_urls(stack.settings, generated))


if __name__ == "__main__":
    sys.exit(main())
