"""Files only GridDesk's own user may read: the data directory (0700), the database with its write-ahead
log and shared-memory file, the logs and the key file (0600).

Folders GridDesk creates are made 0700 (each missing level); a folder that already exists is left as it
is unless it is the data directory (:func:`make_private_dir` with ``tighten=True``) — a database may live
in ``/srv`` or ``/tmp``, which must not change. Files are created 0600 and tightened to 0600 when found
readable by others (a database or log from an earlier version).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

log = logging.getLogger(__name__)


def make_private_dir(path: Path, tighten: bool = False) -> None:
    """Create ``path`` and its missing parents 0700; with ``tighten``, make an existing ``path`` 0700 too."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # another process made it at the same moment
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    if tighten and not missing:
        _chmod(path, PRIVATE_DIR)


def make_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it is missing; make it 0600 if it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    _chmod(path, PRIVATE_FILE)


def tighten_file(path: Path) -> None:
    """Make ``path`` 0600 if it exists (a WAL or shared-memory file left by an earlier version)."""
    if path.exists():
        _chmod(path, PRIVATE_FILE)


def open_private_append(path: Path) -> int:
    """A file descriptor appending to ``path``: created 0600, tightened to 0600 if it existed (logs)."""
    make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except OSError as exc:
        log.warning("cannot make %s private (mode 0600): %s", path, exc)
    return fd


def _chmod(path: Path, mode: int) -> None:
    try:
        if (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except OSError as exc:  # not ours (another user's file): say so, do not stop the service
        log.warning("cannot make %s private (mode %o): %s", path, mode, exc)
