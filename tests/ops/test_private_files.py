"""The data directory is the service account's alone: 0700, the database and the logs 0600."""

from __future__ import annotations

import os
import stat
import sys

from griddesk.settings import get_settings, load_settings
from ops import setup_db
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


def test_setup_makes_the_data_dir_private_and_generates_the_data_key_when_none_is_set(tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)  # made by an earlier version of GridDesk
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("GRIDDESK_DATA_KEY")
    monkeypatch.delenv("GRIDDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert setup_db.prepare_data_dir(load_settings()) is True
        out = capsys.readouterr().out
        assert "data.key" in out and "GRIDDESK_DATA_KEY" in out
        assert mode(data_dir) == 0o700 and mode(data_dir / "data.key") == 0o600
        assert setup_db.prepare_data_dir(load_settings()) is False  # the next start keeps the key
        assert "data.key" not in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def test_setup_with_a_configured_key_writes_no_key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        assert setup_db.prepare_data_dir(load_settings()) is False
        assert mode(tmp_path / "var") == 0o700 and not (tmp_path / "var" / "data.key").exists()
    finally:
        get_settings.cache_clear()
