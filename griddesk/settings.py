"""One settings object, read once from the environment (GRIDDESK_* variables).

Every variable is listed in the README's table with the component that reads it.
Tests build their own ``Settings`` with :func:`load_settings` and an explicit mapping.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class Secret:
    """A string that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


class SettingsError(ValueError):
    """An environment variable has a value GridDesk cannot use."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    models_dir: Path
    gateway_host: str
    gateway_port: int
    rasa_port: int
    rasa_url: str
    action_port: int
    action_server_url: str
    rasa_bin: str
    rasa_timeout: float
    encoder: str
    kb_answer_threshold: float
    kb_suggest_threshold: float
    kb_dense_weight: float
    kb_answer_margin: float
    max_message_chars: int
    watch_seconds: float
    api_token: Secret = field(repr=True)
    # staff console login (accounts/): the session cookie's Secure flag, hours of inactivity before a login ends
    cookie_secure: bool = True
    session_hours: int = 12
    # handoff: seconds between queue sweeps (overflow, abandonment, chat SLA alerts)
    queue_sweep_seconds: float = 5.0
    # the sites (besides the gateway itself) allowed to frame the customer chat page (the one-tag widget) and to
    # open the customer sockets from a browser (gateway.origins); empty = the gateway's own pages only
    widget_origins: str = ""
    # web sender ids: false = only ids with >= 128 random bits (griddesk.web.params.is_random_id); true = Rasa's 1-128
    legacy_sender_ids: bool = False
    # messaging channels (docs/channels.md); a channel without its settings is not mounted
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    telegram_secret: Secret = field(default_factory=lambda: Secret(""))
    telegram_api_url: str = "https://api.telegram.org"
    wecom_corp_id: str = ""
    wecom_agent_id: str = ""
    wecom_secret: Secret = field(default_factory=lambda: Secret(""))
    wecom_token: Secret = field(default_factory=lambda: Secret(""))
    wecom_aes_key: Secret = field(default_factory=lambda: Secret(""))
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    # the GRIDDESK_* variables these settings were read from, so child processes get the same ones
    source_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"


def _int(env: Mapping[str, str], name: str, default: int, low: int = 1, high: int = 65535) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false (1/0, yes/no), got {raw!r}")


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or default).strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", raw):
        raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw


def _widget_origins(raw: str) -> str:
    """Space-separated origins (https://shop.example.com) or ``*``; empty = the gateway's own pages only."""
    sources = raw.split()
    for source in sources:
        if source != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|'self'", source):
            raise SettingsError(
                f"GRIDDESK_WIDGET_ORIGINS: {source!r} is not an origin such as https://shop.example.com"
            )
    return " ".join(sources)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("GRIDDESK_DATA_DIR") or REPO_ROOT / "var").resolve()
    rasa_port = _int(env, "GRIDDESK_RASA_PORT", 5005)
    action_port = _int(env, "GRIDDESK_ACTION_PORT", 5055)
    answer = _float(env, "GRIDDESK_KB_ANSWER_THRESHOLD", 0.72, 0.0, 1.0)
    suggest = _float(env, "GRIDDESK_KB_SUGGEST_THRESHOLD", 0.45, 0.0, 1.0)
    if suggest > answer:
        raise SettingsError(
            f"GRIDDESK_KB_SUGGEST_THRESHOLD ({suggest}) must not exceed GRIDDESK_KB_ANSWER_THRESHOLD ({answer})"
        )
    return Settings(
        data_dir=data_dir,
        database_url=env.get("GRIDDESK_DATABASE_URL") or f"sqlite:///{data_dir / 'griddesk.db'}",
        models_dir=Path(env.get("GRIDDESK_MODELS_DIR") or REPO_ROOT / "models").resolve(),
        gateway_host=env.get("GRIDDESK_GATEWAY_HOST") or "127.0.0.1",
        gateway_port=_int(env, "GRIDDESK_GATEWAY_PORT", 8000),
        rasa_port=rasa_port,
        rasa_url=(env.get("GRIDDESK_RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
        action_port=action_port,
        action_server_url=env.get("GRIDDESK_ACTION_SERVER_URL") or f"http://127.0.0.1:{action_port}/webhook",
        rasa_bin=env.get("GRIDDESK_RASA_BIN") or str(REPO_ROOT / ".venv" / "bot" / "bin" / "rasa"),
        rasa_timeout=_float(env, "GRIDDESK_RASA_TIMEOUT", 10.0, 0.1, 600.0),
        encoder=env.get("GRIDDESK_ENCODER") or "use",
        kb_answer_threshold=answer,
        kb_suggest_threshold=suggest,
        kb_dense_weight=_float(env, "GRIDDESK_KB_DENSE_WEIGHT", 0.6, 0.0, 1.0),
        kb_answer_margin=_float(env, "GRIDDESK_KB_ANSWER_MARGIN", 0.10, 0.0, 1.0),
        max_message_chars=_int(env, "GRIDDESK_MAX_MESSAGE_CHARS", 2000, 1, 1_000_000),
        watch_seconds=_float(env, "GRIDDESK_WATCH_SECONDS", 60.0, 0.05, 86400.0),
        api_token=Secret(env.get("GRIDDESK_API_TOKEN", "")),
        cookie_secure=_bool(env, "GRIDDESK_COOKIE_SECURE", True),
        session_hours=_int(env, "GRIDDESK_SESSION_HOURS", 12, 1, 168),
        queue_sweep_seconds=_float(env, "GRIDDESK_QUEUE_SWEEP_SECONDS", 5.0, 0.05, 3600.0),
        widget_origins=_widget_origins(env.get("GRIDDESK_WIDGET_ORIGINS", "")),
        legacy_sender_ids=_bool(env, "GRIDDESK_LEGACY_SENDER_IDS", False),
        telegram_token=Secret(env.get("GRIDDESK_TELEGRAM_TOKEN", "")),
        telegram_secret=Secret(env.get("GRIDDESK_TELEGRAM_SECRET", "")),
        telegram_api_url=_base_url(env, "GRIDDESK_TELEGRAM_API_URL", "https://api.telegram.org"),
        wecom_corp_id=env.get("GRIDDESK_WECOM_CORP_ID", "").strip(),
        wecom_agent_id=env.get("GRIDDESK_WECOM_AGENT_ID", "").strip(),
        wecom_secret=Secret(env.get("GRIDDESK_WECOM_SECRET", "")),
        wecom_token=Secret(env.get("GRIDDESK_WECOM_TOKEN", "")),
        wecom_aes_key=Secret(env.get("GRIDDESK_WECOM_AES_KEY", "")),
        wecom_api_url=_base_url(env, "GRIDDESK_WECOM_API_URL", "https://qyapi.weixin.qq.com"),
        source_env={name: value for name, value in env.items() if name.startswith("GRIDDESK_")},
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call ``get_settings.cache_clear()``."""
    return load_settings()
