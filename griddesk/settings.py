"""One settings object, read once from the environment (GRIDDESK_* variables).

Every variable is listed in the README's table with the component that reads it.
Tests build their own ``Settings`` with :func:`load_settings` and an explicit mapping.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
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
class RateLimits:
    """How much one client may ask (``GRIDDESK_RATE_*``; 0 = no limit); counted by ``griddesk.web.ratelimit``.

    The defaults are far above what a person does: a customer types a few messages a minute, the chat page
    polls every 4 seconds at most, and one address may be a whole office or a mobile carrier's gateway.
    """

    messages_per_address: int = 180  # customer messages and ratings per minute (REST, Socket.IO)
    messages_per_conversation: int = 30  # per minute, one conversation (sender id)
    reads_per_address: int = 3000  # history, status and live connections per minute
    reads_per_conversation: int = 300  # per minute, one conversation
    handoffs_per_address: int = 20  # requests for a person per 10 minutes
    login_failures_per_address: int = 30  # failed staff logins per 15 minutes, whatever the usernames
    login_failures_per_account: int = 20  # failed logins of one username per 15 minutes, from all addresses


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
    # the Rasa server's HTTP API token (its /conversations and /model routes); generated per run when unset
    rasa_token: Secret = field(default_factory=lambda: Secret(""))
    # the integration token's name: its changes are recorded as ``integration:<name>`` in audit trails
    api_token_name: str = "integration"
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
    # messages the bot could not answer (Rasa down) are retried when it is back; after this many seconds
    # the customer goes to a person instead (0 = only ever wait for the bot)
    unanswered_handoff_seconds: int = 300
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
    # the key of the client identifiers (griddesk/clients.py); empty = a random key per gateway process
    client_key: Secret = field(default_factory=lambda: Secret(""))
    # encryption at rest (griddesk/crypto.py): comma-separated Fernet keys, the first encrypts, all decrypt;
    # empty = the key in $GRIDDESK_DATA_DIR/data.key, generated on first start
    data_key: Secret = field(default_factory=lambda: Secret(""))
    # customer identity verification (customers/identity.py): the embedding site's signing secret, and the
    # one being retired during a rotation (still accepted); none = every customer is anonymous
    identity_secret: Secret = field(default_factory=lambda: Secret(""))
    identity_secret_previous: Secret = field(default_factory=lambda: Secret(""))
    # abuse limits of the customer endpoints and the staff login, and the proxies whose X-Forwarded-For is believed
    rate: RateLimits = field(default_factory=RateLimits)
    trusted_proxies: tuple[str, ...] = ()
    # several gateway processes on one database (README "Several gateway processes"): the Redis server they share
    # live events and Socket.IO through (redis://, rediss:// or unix://); empty = one process, all in memory
    redis_url: str = ""
    # the GRIDDESK_* variables these settings were read from, so child processes get the same ones
    source_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def identity_secrets(self) -> tuple[Secret, ...]:
        """The secrets a customer's signature or token may be made with: the current one first."""
        return tuple(secret for secret in (self.identity_secret, self.identity_secret_previous) if secret)


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


def _redis_url(raw: str) -> str:
    url = raw.strip()
    if url and not re.fullmatch(r"(rediss?://\S*|unix:///\S+)", url):
        raise SettingsError(
            "GRIDDESK_REDIS_URL must be a redis://, rediss:// or unix:/// URL (`python -m ops.redis start` prints "
            f"one), got {url.split('@')[-1]!r}"
        )
    return url


def _widget_origins(raw: str) -> str:
    """Space-separated origins (https://shop.example.com) or ``*``; empty = the gateway's own pages only."""
    sources = raw.split()
    for source in sources:
        if source != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|'self'", source):
            raise SettingsError(
                f"GRIDDESK_WIDGET_ORIGINS: {source!r} is not an origin such as https://shop.example.com"
            )
    return " ".join(sources)


def _data_key(raw: str) -> Secret:
    """One or more comma-separated Fernet keys (32 bytes, URL-safe base64); the value is never shown."""
    keys = [part.strip() for part in raw.split(",")] if raw.strip() else []
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
        except (binascii.Error, UnicodeEncodeError, ValueError):
            valid = False
        if not valid:
            raise SettingsError(
                f"GRIDDESK_DATA_KEY: key {position} of {len(keys)} is not a Fernet key (44 characters of URL-safe "
                "base64); make one with: .venv/app/bin/python -m ops.rotate_keys --generate"
            )
    return Secret(",".join(keys))


def _token_name(raw: str) -> str:
    """A short name for the integration token (letters, digits, ``.``, ``_``, ``-``), as audit trails show it."""
    name = raw.strip() or "integration"
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        raise SettingsError(
            f"GRIDDESK_API_TOKEN_NAME must be 1-64 letters, digits, '.', '_' or '-' (e.g. crm), got {raw!r}"
        )
    return name


MIN_IDENTITY_SECRET_CHARS = 16


def _identity_secrets(env: Mapping[str, str]) -> tuple[Secret, Secret]:
    current = env.get("GRIDDESK_IDENTITY_SECRET", "").strip()
    previous = env.get("GRIDDESK_IDENTITY_SECRET_PREVIOUS", "").strip()
    if previous and not current:
        raise SettingsError("GRIDDESK_IDENTITY_SECRET_PREVIOUS is set without GRIDDESK_IDENTITY_SECRET")
    for name, value in (("GRIDDESK_IDENTITY_SECRET", current), ("GRIDDESK_IDENTITY_SECRET_PREVIOUS", previous)):
        if value and len(value) < MIN_IDENTITY_SECRET_CHARS:
            raise SettingsError(f"{name} must be at least {MIN_IDENTITY_SECRET_CHARS} characters long")
    return Secret(current), Secret(previous)


def _rate_limits(env: Mapping[str, str]) -> RateLimits:
    defaults = RateLimits()
    return RateLimits(
        **{
            name: _int(env, f"GRIDDESK_RATE_{name.upper()}", getattr(defaults, name), 0, 1_000_000)
            for name in RateLimits.__dataclass_fields__
        }
    )


def _trusted_proxies(raw: str) -> tuple[str, ...]:
    """Addresses or networks (``10.0.0.1 10.1.0.0/16 ::1``, commas allowed) of the reverse proxies in front."""
    networks = []
    for source in raw.replace(",", " ").split():
        try:
            networks.append(str(ipaddress.ip_network(source, strict=False)))
        except ValueError:
            raise SettingsError(
                f"GRIDDESK_TRUSTED_PROXIES: {source!r} is not an IP address or network such as 10.0.0.0/8"
            ) from None
    return tuple(networks)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("GRIDDESK_DATA_DIR") or REPO_ROOT / "var").resolve()
    rasa_port = _int(env, "GRIDDESK_RASA_PORT", 5005)
    action_port = _int(env, "GRIDDESK_ACTION_PORT", 5055)
    answer = _float(env, "GRIDDESK_KB_ANSWER_THRESHOLD", 0.72, 0.0, 1.0)
    suggest = _float(env, "GRIDDESK_KB_SUGGEST_THRESHOLD", 0.45, 0.0, 1.0)
    identity_secret, identity_secret_previous = _identity_secrets(env)
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
        rasa_token=Secret(env.get("GRIDDESK_RASA_TOKEN", "")),
        api_token_name=_token_name(env.get("GRIDDESK_API_TOKEN_NAME", "")),
        cookie_secure=_bool(env, "GRIDDESK_COOKIE_SECURE", True),
        session_hours=_int(env, "GRIDDESK_SESSION_HOURS", 12, 1, 168),
        queue_sweep_seconds=_float(env, "GRIDDESK_QUEUE_SWEEP_SECONDS", 5.0, 0.05, 3600.0),
        widget_origins=_widget_origins(env.get("GRIDDESK_WIDGET_ORIGINS", "")),
        legacy_sender_ids=_bool(env, "GRIDDESK_LEGACY_SENDER_IDS", False),
        unanswered_handoff_seconds=_int(env, "GRIDDESK_UNANSWERED_HANDOFF_SECONDS", 300, 0, 86400),
        telegram_token=Secret(env.get("GRIDDESK_TELEGRAM_TOKEN", "")),
        telegram_secret=Secret(env.get("GRIDDESK_TELEGRAM_SECRET", "")),
        telegram_api_url=_base_url(env, "GRIDDESK_TELEGRAM_API_URL", "https://api.telegram.org"),
        wecom_corp_id=env.get("GRIDDESK_WECOM_CORP_ID", "").strip(),
        wecom_agent_id=env.get("GRIDDESK_WECOM_AGENT_ID", "").strip(),
        wecom_secret=Secret(env.get("GRIDDESK_WECOM_SECRET", "")),
        wecom_token=Secret(env.get("GRIDDESK_WECOM_TOKEN", "")),
        wecom_aes_key=Secret(env.get("GRIDDESK_WECOM_AES_KEY", "")),
        wecom_api_url=_base_url(env, "GRIDDESK_WECOM_API_URL", "https://qyapi.weixin.qq.com"),
        client_key=Secret(env.get("GRIDDESK_CLIENT_KEY", "")),
        data_key=_data_key(env.get("GRIDDESK_DATA_KEY", "")),
        identity_secret=identity_secret,
        identity_secret_previous=identity_secret_previous,
        rate=_rate_limits(env),
        trusted_proxies=_trusted_proxies(env.get("GRIDDESK_TRUSTED_PROXIES", "")),
        redis_url=_redis_url(env.get("GRIDDESK_REDIS_URL", "")),
        source_env={name: value for name, value in env.items() if name.startswith("GRIDDESK_")},
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call ``get_settings.cache_clear()``."""
    return load_settings()
