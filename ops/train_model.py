"""Train the Rasa model only when the bot's data or config changed (cache by content hash).

``python -m ops.train_model`` (run by ``make run`` / ``make test``). The model file is
``$GRIDDESK_MODELS_DIR/griddesk-<hash>.tar.gz``; :func:`current_model_path` names it for the
process supervisor and the tests.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from griddesk.settings import REPO_ROOT, Settings, get_settings
from ops import nlu_data

BOT_DIR = REPO_ROOT / "bot"
# What the trained model depends on; bot/tests and the endpoints do not change it.
MODEL_INPUTS = ("config.yml", "domain.yml", "data")
KEEP_MODELS = 3


# Rasa's lock store (bot/endpoints.yml): in memory for one Rasa process; ops.cluster passes Redis's instead.
IN_MEMORY_LOCK_STORE = {
    "GRIDDESK_LOCK_STORE": "in_memory",
    "GRIDDESK_LOCK_STORE_HOST": "127.0.0.1",
    "GRIDDESK_LOCK_STORE_PORT": "6379",
    "GRIDDESK_LOCK_STORE_PASSWORD": "",
}


def bot_env(settings: Settings, lock_store: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa processes: offline, quiet, told where the action server is, where to keep the
    dialogue state and where to lock a conversation during a turn (bot/endpoints.yml reads all three;
    ``lock_store``: the ``GRIDDESK_LOCK_STORE*`` variables, in memory unless given)."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        GRIDDESK_ACTION_SERVER_URL=settings.action_server_url,
        GRIDDESK_TRACKER_STORE_URL=tracker_store_url(settings.database_url),
        **(lock_store or IN_MEMORY_LOCK_STORE),
    )
    return env


def bot_python(settings: Settings) -> str:
    """The Python of Rasa's environment: the interpreter named on the first line of ``settings.rasa_bin``."""
    first_line = Path(settings.rasa_bin).read_bytes().split(b"\n", 1)[0].decode(errors="replace")
    if first_line.startswith("#!"):
        return first_line[2:].strip()
    return str(Path(settings.rasa_bin).parent / "python")


def tracker_store_url(database_url: str) -> str:
    """The product's database as Rasa's SQL tracker store sees it: Rasa 3.6 runs SQLAlchemy 1.4 with
    psycopg2 (in the bot env as Rasa's own dependency), so a ``postgresql+psycopg`` URL (psycopg 3, the
    app env's driver) is given the psycopg2 driver; SQLite URLs pass unchanged."""
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {database_url!r}")
    if scheme.split("+", 1)[0] in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    return database_url


def model_inputs_hash() -> str:
    digest = hashlib.sha256()
    digest.update((REPO_ROOT / "requirements" / "bot.txt").read_bytes())
    for name in MODEL_INPUTS:
        path = BOT_DIR / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(BOT_DIR)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def current_model_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.models_dir / f"griddesk-{model_inputs_hash()}.tar.gz"


def train(settings: Settings) -> Path:
    target = current_model_path(settings)
    if target.exists():
        print(f"==> Rasa model up to date ({target.name})")
        return target
    problems = nlu_data.check()
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems[:20])
        raise SystemExit(
            f"bot/ has {len(problems)} examples not in the form the gateway sends to Rasa:\n{listed}\n"
            "run `python -m ops.nlu_data --write` (app env) and check the result"
        )
    print(f"==> training the Rasa model ({target.name}); bot data or config changed")
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [
            settings.rasa_bin,
            "train",
            "--config",
            str(BOT_DIR / "config.yml"),
            "--domain",
            str(BOT_DIR / "domain.yml"),
            "--data",
            str(BOT_DIR / "data"),
            "--out",
            str(settings.models_dir),
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
            "--quiet",
        ],
        check=True,
        cwd=REPO_ROOT,
        env=bot_env(settings),
    )
    if not target.exists():
        raise SystemExit(f"rasa train finished but {target} is missing")
    older = sorted(settings.models_dir.glob("griddesk-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for stale in older[:-KEEP_MODELS]:
        stale.unlink()
    print(f"==> model trained in {time.perf_counter() - started:.0f} s")
    return target


def main() -> int:
    try:
        train(get_settings())
    except subprocess.CalledProcessError as exc:
        print(f"rasa train failed (exit {exc.returncode}); see the output above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
