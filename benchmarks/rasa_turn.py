"""Where a Rasa turn's time goes, per part, for one or more Rasa set-ups side by side (issue 13 item 6).

Usage:
    .venv/app/bin/python benchmarks/rasa_turn.py [--rounds 8] [--faq-turns 8] [--variant NAME=SPEC ...]

SPEC is comma-separated ``key:value`` items, all optional: ``model:PATH`` (default: the model ``ops.train_model``
names for the bot as it is), ``endpoints:PATH`` (default bot/endpoints.yml), ``selective_domain:on|off`` (those
endpoints with Rasa's ``enable_selective_domain`` set so; off = the domain with every action call),
``cuts:all|none|schema|sqlite`` (which of ops/rasa_run.py's changes to Rasa are made: all, as the product
starts Rasa, the default; none, Rasa as installed; or one of them: the action response check without
re-checking its schema, SQLite's synchronous=NORMAL), ``profile:on`` (cProfile in that Rasa during turns; its timings are inflated
by the profiler and its REST channel part includes writing the profile after each turn, so profile a variant
of its own; the report ends with where its time went, by package and
by function), ``env:KEY=VALUE`` (an environment variable for that Rasa process only, may repeat; e.g.
``env:GRIDDESK_TRACKER_STORE_URL=sqlite:///…`` moves the tracker store). Without ``--variant`` one set-up,
``current``, is measured: the bot as it is.

Starts one action server and one Rasa server per variant (each on a free loopback port, all on one scratch
database made by ``ops.setup_db``), through stopwatch wrappers: benchmarks/actions_probe.py (app env) and
benchmarks/rasa_probe.py (bot env), which time Rasa's own functions without changing them. Then, per round, a
fresh customer per variant asks ``--faq-turns`` FAQ questions (greeting, questions, Traditional characters,
thanks) and another opens a ticket through the whole form (报修 → description → phone → name → city →
confirm), sent straight to each Rasa's REST channel. Every step goes to all variants one after the other
(the order rotates each round), so they share the machine's load; one round before the measured ones warms
everything up (the first message after a start is reported apart: jieba loads its dictionary then).

Reported per variant, for FAQ turns and ticket form turns apart: the median and mean milliseconds per turn of
each part, and each median as a ratio to the first variant's. ``total`` is the REST turn as the client sees it
(request to reply). Parts: REST channel (HTTP, Sanic, JSON in and out: the client's wall time minus Rasa's
``Agent.handle_message``), lock (and Rasa's agent), tracker retrieve (SQL query + events → tracker),
NLU, slot extraction, policies, custom action call = request build (tracker + domain as
JSON) + HTTP transport + our action server (rasa-sdk's executor: tracker parse + our action) + Rasa's check
of the response (``jsonschema.validate``) + the rest (bot messages, events), Rasa's own actions (utter_*,
forms' bookkeeping), tracker save (SQL count + inserts + commit), other. Also: SQL statements and new
database connections per turn, bytes sent per action call and how many of them were the domain, and the
FAQ turns' total at the start and at the end of the conversation (the tracker grows every turn).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import UNREACHED_LIMITS
from griddesk.settings import REPO_ROOT, Settings, load_settings
from ops.stack import Service, app_env
from ops.train_model import BOT_DIR, bot_env, bot_python, current_model_path

HERE = Path(__file__).resolve().parent
FAQ_QUESTIONS = [
    "你好",
    "怎么开发票",
    "网速很慢怎么办",
    "你們的電話是多少",
    "宽带怎么续费",
    "怎么修改密码",
    "发票抬头开错了怎么办",
    "投诉多久能处理",
    "光猫红灯一直闪",
    "谢谢",
]
TICKET_FORM = ["我要报修", "家里宽带断了两天了", "13812345678", "张三", "成都市武侯区", "/affirm"]
# (label, how to compute it from one turn's record) in report order
PARTS = [
    "rest_channel",
    "lock",
    "retrieve",
    "nlu",
    "extract_slots",
    "policies",
    "action_build",
    "action_transport",
    "action_server",
    "action_response_check",
    "action_rest",
    "rasa_actions",
    "save",
    "other",
]
COUNTS = ["sql_statements", "sql_connections", "custom_action_calls", "tracker_events"]
PER_CALL = ["bytes_per_call", "domain_bytes_per_call"]  # over all measured calls


@dataclass
class Variant:
    name: str
    model: Path
    endpoints: Path
    env: dict[str, str] = field(default_factory=dict)
    selective_domain: bool | None = None
    cuts: str = "all"
    profile: bool = False
    port: int = 0
    sender_prefix: str = ""
    rest_ms: list[float] = field(default_factory=list)  # each turn as the REST client saw it, in order

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_variant(raw: str, settings: Settings) -> Variant:
    name, sep, spec = raw.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--variant NAME=SPEC, got {raw!r}")
    variant = Variant(name, current_model_path(settings), BOT_DIR / "endpoints.yml")
    for item in filter(None, spec.split(",")):
        key, sep, value = item.partition(":")
        if not sep:
            raise argparse.ArgumentTypeError(f"{item!r}: expected key:value")
        if key == "model":
            variant.model = Path(value).resolve()
        elif key == "endpoints":
            variant.endpoints = Path(value).resolve()
        elif key == "selective_domain" and value in ("on", "off"):
            variant.selective_domain = value == "on"
        elif key == "cuts" and value in ("all", "none", "schema", "sqlite"):
            variant.cuts = value
        elif key == "profile" and value == "on":
            variant.profile = True
        elif key == "env" and "=" in value:
            env_key, _, env_value = value.partition("=")
            variant.env[env_key] = env_value
        else:
            raise argparse.ArgumentTypeError(
                f"{item!r}: expected model:PATH, endpoints:PATH, selective_domain:on|off, "
                "cuts:all|none|schema|sqlite, profile:on or env:KEY=VALUE"
            )
    if not variant.model.exists():
        raise argparse.ArgumentTypeError(f"{name}: no model at {variant.model}")
    return variant


def endpoints_file(variant: Variant, work: Path) -> Path:
    """The variant's endpoints, with ``enable_selective_domain`` as asked (a copy in the scratch folder)."""
    if variant.selective_domain is None:
        return variant.endpoints
    endpoints = yaml.safe_load(variant.endpoints.read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["enable_selective_domain"] = variant.selective_domain
    path = work / f"endpoints-{variant.name}.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")  # ${...} stay plain scalars
    return path


def wait_ready(service: Service, ready: Iterable[Service]) -> None:
    deadline = time.monotonic() + service.timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise SystemExit(f"{service.name} exited during start-up:\n{service.tail()}")
        if service.ready():
            return
        time.sleep(1)
    for other in ready:
        other.stop()
    raise SystemExit(f"{service.name} not ready after {service.timeout:.0f} s:\n{service.tail()}")


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def say(variant: Variant, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(variant.url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        replies = json.loads(response.read())
    if not replies:
        raise SystemExit(f"{variant.name}: no reply to {text!r}")
    return (time.perf_counter() - started) * 1000


def run_round(variants: list[Variant], faq_turns: int, round_number: int) -> None:
    order = variants[round_number % len(variants) :] + variants[: round_number % len(variants)]
    token = secrets.token_hex(8)
    faq = [FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)] for i in range(faq_turns - 1)] + ["谢谢"]
    for kind, texts in (("faq", faq), ("ticket", TICKET_FORM)):
        for text in texts:
            for variant in order:
                variant.rest_ms.append(say(variant, f"{variant.sender_prefix}-{kind}-{round_number}-{token}", text))


def read_jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def turn_parts(turn: dict, server_ms: float, rest_ms: float) -> dict[str, float]:
    """One turn's record (rasa_probe.py) as the parts of the report."""
    p = turn["phases"]
    c = turn["counts"]
    g = lambda key: float(p.get(key, 0.0))  # noqa: E731
    calls = int(c.get("custom_action_calls", 0))
    parts = {
        "rest_channel": rest_ms - turn["total"],
        "lock": turn["total"] - g("processor"),
        "retrieve": g("retrieve"),
        "nlu": g("nlu"),
        "extract_slots": g("extract_slots"),
        "policies": g("policies"),
        "action_build": g("action_request_build"),
        "action_transport": g("action_http") - server_ms,
        "action_server": server_ms,
        "action_response_check": g("action_response_check"),
        "action_rest": g("custom_action") - g("action_http") - g("action_request_build") - g("action_response_check"),
        "rasa_actions": g("actions") - g("custom_action"),
        "save": g("store_save"),
    }
    parts["other"] = g("processor") - sum(parts[k] for k in PARTS[2:-1])
    parts["total"] = rest_ms
    parts["sql_statements"] = float(c.get("sql_statements", 0))
    parts["sql_connections"] = float(c.get("sql_connections", 0))
    parts["custom_action_calls"] = float(calls)
    parts["tracker_events"] = float(c["tracker_events"]) if "tracker_events" in c else float("nan")
    parts["action_bytes"] = float(c.get("action_request_bytes", 0))
    parts["domain_bytes"] = float(c.get("domain_bytes", 0))
    return parts


def analyse(variant: Variant, turns: list[dict], calls: list[dict], kind: str) -> dict[str, object]:
    """Per part: median and mean over the measured turns of one kind (faq, ticket); the first turn after
    start; FAQ turns early and late in their conversation."""
    if len(turns) != len(variant.rest_ms):
        raise SystemExit(f"{variant.name}: {len(turns)} turns recorded by Rasa, {len(variant.rest_ms)} sent")
    by_sender: dict[str, list[dict]] = {}
    for call in calls:
        by_sender.setdefault(str(call["sender"]), []).append(call)
    used: dict[str, int] = {}
    rows: list[tuple[str, dict[str, float]]] = []
    for turn, rest_ms in zip(turns, variant.rest_ms, strict=True):
        sender = str(turn["sender"])
        n = int(turn["counts"].get("custom_action_calls", 0))
        start = used.get(sender, 0)
        used[sender] = start + n
        server = sum(float(call["ms"]) for call in by_sender.get(sender, [])[start : start + n])
        rows.append((sender, turn_parts(turn, server, rest_ms)))
    first = rows[0][1]["total"] if rows else float("nan")
    measured = [(s, r) for s, r in rows if "-0-" not in s and f"-{kind}-" in s]  # round 0 warms up
    summary: dict[str, object] = {"first_turn": first, "turns": len(measured)}
    for key in ["total", *PARTS, *COUNTS]:
        values = [r[key] for _, r in measured if r[key] == r[key]]  # drop NaN (turns without a call)
        summary[key] = (statistics.median(values), statistics.mean(values)) if values else (float("nan"),) * 2
    calls_made = sum(r["custom_action_calls"] for _, r in measured) or float("nan")
    summary["calls_per_turn"] = sum(r["custom_action_calls"] for _, r in measured) / max(len(measured), 1)
    summary["bytes_per_call"] = sum(r["action_bytes"] for _, r in measured) / calls_made
    summary["domain_bytes_per_call"] = sum(r["domain_bytes"] for _, r in measured) / calls_made
    faq: dict[str, list[float]] = {}
    for sender, r in measured:
        if "-faq-" in sender:
            faq.setdefault(sender, []).append(r["total"])
    early = [t for totals in faq.values() for t in totals[1:4]]
    late = [t for totals in faq.values() for t in totals[-4:-1]]
    summary["faq_early"] = statistics.median(early) if early else float("nan")
    summary["faq_late"] = statistics.median(late) if late else float("nan")
    return summary


def report(variants: list[Variant], results: dict[str, dict[str, object]]) -> str:
    base = results[variants[0].name]
    names = [v.name for v in variants]
    width = max(12, *(len(n) for n in names))
    lines = ["per turn, ms: median (mean); ratios are medians against " + variants[0].name]
    lines.append(f"{'part':<22}" + "".join(f"{n:>{width + 18}}" for n in names))
    for key in ["total", *PARTS]:
        cells = []
        for name in names:
            median, mean = results[name][key]  # type: ignore[misc]
            cell = f"{median:7.1f} ({mean:6.1f})"
            if name != names[0]:
                base_median = base[key][0]  # type: ignore[index]
                cell += f" {median / base_median:5.2f}x" if base_median >= 0.05 else "       "
            else:
                cell += "       "
            cells.append(f"{cell:>{width + 18}}")
        lines.append(f"{key:<22}" + "".join(cells))
    for key in COUNTS:
        cells = [f"{results[n][key][0]:>{width + 11}.0f}       " for n in names]  # type: ignore[index]
        lines.append(f"{key + ' (median)':<22}" + "".join(cells))
    for key in PER_CALL:
        cells = [f"{float(results[n][key]):>{width + 11}.0f}       " for n in names]  # type: ignore[arg-type]
        lines.append(f"{key:<22}" + "".join(cells))
    for key, label in (
        ("calls_per_turn", "action calls per turn"),
        ("faq_early", "FAQ turns 2-4 total"),
        ("faq_late", "FAQ last turns total"),
        ("first_turn", "first turn after start"),
        ("turns", "turns measured"),
    ):
        if all(float(results[n][key]) != float(results[n][key]) for n in names):  # type: ignore[arg-type]
            continue  # NaN everywhere: FAQ rows in the ticket table
        cells = [f"{float(results[n][key]):>{width + 11}.{2 if key == 'calls_per_turn' else 0}f}       " for n in names]  # type: ignore[arg-type]
        lines.append(f"{label:<22}" + "".join(cells))
    return "\n".join(lines)


def package_of(filename: str) -> str:
    """Where a profiled function lives: the installed package, the standard library module, or built-ins."""
    if filename == "~" or filename.startswith("<"):
        return "built-ins (C: json, re, sqlite3, …)"
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if "benchmarks" in path.parts:
        return "the probe"
    return "stdlib " + (path.parent.name if path.parent.name not in ("python3.10", "lib") else path.stem)


def profile_summary(path: Path, top: int = 12) -> str:
    """A cProfile dump (rasa_probe.py --profile) as the share of own time per package and the top functions."""
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in raw.values()) or float("nan")
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in raw.items():
        by_package[package_of(filename)] = by_package.get(package_of(filename), 0.0) + own
    lines = [f"own time by package (of {total:.1f} s profiled in turns):"]
    for package, own in sorted(by_package.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"  {own / total:6.1%}  {package}")
    lines.append("functions by cumulative time (cumulative of turns' total; async frames count once per resume):")
    ranked = sorted(raw.items(), key=lambda item: -item[1][3])
    shown = 0
    for (filename, line, function), (_, calls, _, cumulative, _) in ranked:
        if package_of(filename) in ("the probe", "stdlib asyncio") or function.startswith("<"):
            continue
        name = "/".join(Path(filename).parts[-2:]) if filename != "~" else ""
        lines.append(f"  {cumulative / total:6.1%}  {calls:>7}  {function}  {name}:{line}")
        shown += 1
        if shown == top * 2:
            break
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8, choices=range(1, 101), metavar="1..100")
    parser.add_argument("--faq-turns", type=int, default=8, choices=range(3, 61), metavar="3..60")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=SPEC")
    parser.add_argument("--keep", metavar="DIR", help="keep the probes' JSON lines and logs in DIR")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "GRIDDESK_DATA_DIR": str(work / "data"),
            "GRIDDESK_ACTION_PORT": str(free_port()),
            **UNREACHED_LIMITS,
        }
        for name in ("GRIDDESK_DATABASE_URL", "GRIDDESK_RASA_URL", "GRIDDESK_ACTION_SERVER_URL"):
            env.pop(name, None)
        settings = load_settings(env)
        try:
            variants = [parse_variant(raw, settings) for raw in args.variant] or [parse_variant("current=", settings)]
        except argparse.ArgumentTypeError as exc:
            parser.error(str(exc))
        if len({v.name for v in variants}) != len(variants):
            parser.error("variant names must differ")
        subprocess.run([sys.executable, "-m", "ops.setup_db"], check=True, env=env, capture_output=True)
        services = start(variants, settings, work)
        try:
            for round_number in range(args.rounds + 1):
                run_round(variants, args.faq_turns, round_number)
        finally:
            for service in services:
                service.stop()
        calls = read_jsonl(work / "actions.jsonl")
        results = {
            kind: {v.name: analyse(v, read_jsonl(work / f"rasa-{v.name}.jsonl"), calls, kind) for v in variants}
            for kind in ("faq", "ticket")
        }
        profiles = {v.name: profile_summary(work / f"rasa-{v.name}.prof") for v in variants if v.profile}
    print(
        f"{args.rounds} rounds of {args.faq_turns} FAQ turns and a {len(TICKET_FORM)}-turn ticket form per variant; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    for variant in variants:
        extra = " ".join(f"{k}={v}" for k, v in variant.env.items())
        domain = {None: "", True: " selective domain", False: " domain with every call"}[variant.selective_domain]
        domain += f", ops/rasa_run.py cuts: {variant.cuts}"
        domain += " (profiled)" if variant.profile else ""
        print(
            f"  {variant.name}: {variant.model.name}, {variant.endpoints.relative_to(REPO_ROOT)}{domain} {extra}".rstrip()
        )
    for kind, label in (("faq", "FAQ turns"), ("ticket", "ticket form turns")):
        print(f"\n{label}: {report(variants, results[kind])}")
    for name, summary in profiles.items():
        print(f"\nprofile of {name} (cProfile during its turns):\n{summary}")


def start(variants: list[Variant], settings: Settings, work: Path) -> list[Service]:
    logs = work / "logs"
    actions = Service(
        "actions",
        [sys.executable, str(HERE / "actions_probe.py"), str(work / "actions.jsonl")],
        app_env(settings),
        lambda: reachable(f"http://127.0.0.1:{settings.action_port}/health"),
        180,
        logs / "actions.log",
    )
    rasa_python = bot_python(settings)
    services = [actions]
    for variant in variants:
        variant.port = free_port()
        variant.sender_prefix = f"{variant.name}-{secrets.token_hex(4)}"
        argv = [rasa_python, str(HERE / "rasa_probe.py"), str(work / f"rasa-{variant.name}.jsonl")]
        argv += ["--profile", str(work / f"rasa-{variant.name}.prof")] if variant.profile else []
        argv += ["--cuts", variant.cuts]
        argv += ["--", "run"]
        argv += ["--model", str(variant.model), "--interface", "127.0.0.1", "--port", str(variant.port)]
        argv += ["--credentials", str(BOT_DIR / "credentials.yml"), "--endpoints", str(endpoints_file(variant, work))]
        status = f"http://127.0.0.1:{variant.port}/"
        services.append(
            Service(
                f"rasa-{variant.name}",
                argv,
                {**bot_env(settings), **variant.env},
                lambda url=status: reachable(url),  # type: ignore[misc]
                600,
                logs / f"rasa-{variant.name}.log",
            )
        )
    for service in services:
        service.start()
    try:
        for service in services:
            wait_ready(service, services)
    except BaseException:
        for service in services:
            service.stop()
        raise
    return services


if __name__ == "__main__":
    main()
