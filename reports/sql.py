"""The few SQL expressions that differ between SQLite and PostgreSQL, as compiled SQLAlchemy constructs.

Timestamps are stored in UTC (``griddesk.db.UtcDateTime``; on SQLite as ``YYYY-MM-DD HH:MM:SS.ffffff`` text).
``epoch_seconds`` turns one into seconds since 1970 (durations are differences of two); ``local_bucket`` gives
the day, ISO week (its Monday) or month of a timestamp in the service's time zone, as text, and
``local_hour_of_week`` its hour of the week (0 = Monday 00:00, for the staffing forecast). SQLite has no
time zones: it adds the zone's fixed offset, exact for Asia/Shanghai (no daylight saving since 1991).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from grids.sla import SERVICE_TZ

BUCKETS = ("day", "week", "month")


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970-01-01 UTC of a UTC timestamp column."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds)
def _epoch_default(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


class local_bucket(FunctionElement[str]):
    """The day (``2026-03-01``), week (its Monday) or month (``2026-03``) of a UTC timestamp, in ``zone``."""

    type = String()
    inherit_cache = False

    def __init__(self, column: Any, bucket: str, zone: ZoneInfo = SERVICE_TZ, shift: bool = True) -> None:
        """``shift=False``: ``column`` is a local calendar date already (no time zone to apply)."""
        if bucket not in BUCKETS:
            raise ValueError(f"unknown bucket {bucket!r}")
        self.bucket = bucket
        self.zone = zone
        self.shift = shift
        super().__init__(column)


def _fixed_offset(zone: ZoneInfo) -> str:
    offset = datetime(2026, 1, 1, tzinfo=zone).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes:+d} minutes"


@compiles(local_bucket, "sqlite")
def _bucket_sqlite(element: local_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    shift = f", '{_fixed_offset(element.zone)}'" if element.shift else ""
    if element.bucket == "day":
        return f"date({column}{shift})"
    if element.bucket == "week":  # 'weekday 0' moves to the coming Sunday (or stays on one); 6 days back: Monday
        return f"date({column}{shift}, 'weekday 0', '-6 days')"
    return f"strftime('%Y-%m', {column}{shift})"


@compiles(local_bucket)
def _bucket_default(element: local_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    local = f"({column} AT TIME ZONE '{element.zone.key}')" if element.shift else column
    if element.bucket == "day":
        return f"to_char({local}, 'YYYY-MM-DD')"
    if element.bucket == "week":
        return f"to_char(date_trunc('week', {local}), 'YYYY-MM-DD')"
    return f"to_char({local}, 'YYYY-MM')"


class local_hour_of_week(FunctionElement[int]):
    """The hour of the week of a UTC timestamp in ``zone``: 0 = Monday 00:00–01:00 … 167 = Sunday 23:00–24:00."""

    type = Integer()
    inherit_cache = False

    def __init__(self, column: Any, zone: ZoneInfo = SERVICE_TZ) -> None:
        self.zone = zone
        super().__init__(column)


@compiles(local_hour_of_week, "sqlite")
def _hour_of_week_sqlite(element: local_hour_of_week, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    shift = _fixed_offset(element.zone)
    weekday = f"((CAST(strftime('%w', {column}, '{shift}') AS INTEGER) + 6) % 7)"  # %w: 0 = Sunday
    return f"({weekday} * 24 + CAST(strftime('%H', {column}, '{shift}') AS INTEGER))"


@compiles(local_hour_of_week)
def _hour_of_week_default(element: local_hour_of_week, compiler: SQLCompiler, **kw: Any) -> str:
    local = f"({compiler.process(element.clauses, **kw)} AT TIME ZONE '{element.zone.key}')"
    return f"CAST((EXTRACT(ISODOW FROM {local}) - 1) * 24 + EXTRACT(HOUR FROM {local}) AS INTEGER)"
