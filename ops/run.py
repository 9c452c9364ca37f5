"""``make run``: start Rasa, the action server and the gateway, keep them running (a process that dies is
started again: :mod:`ops.supervisor`); Ctrl-C (or SIGTERM) stops all three."""

from __future__ import annotations

import dataclasses
import secrets
import signal
import sys
import time
from types import FrameType

from griddesk.settings import Secret, get_settings
from ops.stack import Stack, StackError
from ops.supervisor import GaveUp, Supervisor


def _stop_like_ctrl_c(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM (a service manager, ``kill``) stops the three processes the same way Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    settings = get_settings()
    generated = not settings.api_token
    if generated:
        settings = dataclasses.replace(settings, api_token=Secret(secrets.token_urlsafe(24)))
    print("==> starting Rasa, the action server and the gateway (Rasa takes about a minute to load)")
    stack = Stack(settings)
    try:
        stack.start()
    except StackError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopped")
        return 130
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
    if generated:
        print(f"  API token for this run (set GRIDDESK_API_TOKEN to choose your own): {settings.api_token.reveal()}")
    print(f"  Logs: {settings.data_dir / 'logs'}")
    print("Press Ctrl-C to stop.")
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
        print("==> all processes stopped")


if __name__ == "__main__":
    sys.exit(main())
