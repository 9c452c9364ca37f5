"""Starting the project's own commands (``make run``, ``make cluster``) as a test's child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from griddesk.settings import REPO_ROOT

# What a shell does to a command it starts with ``&``: Ctrl-C (SIGINT) ignored, inherited by what it runs.
IN_THE_BACKGROUND = ["sh", "-c", 'trap "" INT; exec "$@"', "sh"]


def start(argv: list[str], env: dict[str, str], output: Path, *, background: bool = False) -> subprocess.Popen[bytes]:
    """``argv`` in a session of its own (its process group can be signalled), printing into ``output``;
    ``background``: started the way a shell starts ``command &``."""
    with output.open("wb") as log:
        return subprocess.Popen(
            [*IN_THE_BACKGROUND, *argv] if background else argv,
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def alive_groups(pid_dir: Path) -> list[str]:
    """The services (``<name>.pid`` in ``pid_dir``) whose process group still has a process."""
    alive = []
    for pid_file in sorted(pid_dir.glob("*.pid")):
        try:
            os.killpg(int(pid_file.read_text()), 0)
        except ProcessLookupError:
            continue
        alive.append(pid_file.stem)
    return alive


def kill_all(process: subprocess.Popen[bytes], pid_dir: Path) -> None:
    """Whatever is left of ``process`` and of the services it started: SIGKILL to each process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid_file in pid_dir.glob("*.pid"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
