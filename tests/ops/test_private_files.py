"""The data directory is the service account's alone: 0700, the database and the logs 0600."""

from __future__ import annotations

import os
import stat
import sys

from ops.stack import Service


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_process_logs_and_their_folders_are_private(tmp_path):
    log = tmp_path / "var" / "logs" / "gateway.log"
    service = Service("echo", [sys.executable, "-c", "print('13800138000')"], dict(os.environ), lambda: True, 5, log)
    service.start()
    assert service.process is not None and service.process.wait(10) == 0
    assert (mode(tmp_path / "var"), mode(log.parent), mode(log)) == (0o700, 0o700, 0o600)


def test_an_existing_log_readable_by_others_is_made_private_on_start(tmp_path):
    log = tmp_path / "logs" / "rasa.log"
    log.parent.mkdir()
    log.write_text("earlier run\n")
    os.chmod(log, 0o644)
    service = Service("echo", [sys.executable, "-c", "print('x')"], dict(os.environ), lambda: True, 5, log)
    service.start()
    assert service.process is not None and service.process.wait(10) == 0
    assert mode(log) == 0o600 and log.read_text().startswith("earlier run")
