"""Erlang B and Erlang C (the M/M/N queue), in plain Python, for the staffing forecast (docs/kpis.md).

Customers arrive at random (Poisson) at a rate λ, each occupies one server for a random (exponential) time of
mean h, and waits in line while all N servers are busy. The offered traffic is ``A = λ·h`` erlangs.

- Erlang B, ``B(N, A)``: the blocking probability of N servers without a queue, by the recurrence
  ``B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))``. Every term stays between 0 and 1, so no factorial or power
  is ever formed and a traffic of a million erlangs neither overflows nor loses precision.
- Erlang C, ``C(N, A) = N·B / (N − A·(1 − B))``: the probability that an arrival has to wait. With ``N ≤ A`` the
  queue grows without bound (the servers cannot keep up): every arrival waits, ``C = 1``.
- Service level, ``P(wait ≤ t) = 1 − C(N, A)·e^(−(N − A)·t/h)``; 0 when ``N ≤ A``.
- Servers needed: the smallest N with ``P(wait ≤ t) ≥`` the level asked for (0 for no traffic).
"""

from __future__ import annotations

import math


class UnreachableLevel(ValueError):
    """A service level of 1 (or more) or of 0 (or less) asked for: no number of servers gives exactly that."""


def erlang_b(servers: int, traffic: float) -> float:
    """The probability that all ``servers`` are busy, without a queue (``traffic`` in erlangs)."""
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must not be negative")
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def _erlang_c_from_b(servers: int, traffic: float, blocking: float) -> float:
    return servers * blocking / (servers - traffic * (1.0 - blocking))


def erlang_c(servers: int, traffic: float) -> float:
    """The probability that an arrival waits for one of ``servers``; 1.0 when ``servers ≤ traffic`` (unstable)."""
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must not be negative")
    if traffic == 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    return _erlang_c_from_b(servers, traffic, erlang_b(servers, traffic))


def _level(servers: int, traffic: float, waiting: float, handle_seconds: float, target_seconds: float) -> float:
    return 1.0 - waiting * math.exp(-(servers - traffic) * target_seconds / handle_seconds)


def service_level(servers: int, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    """``P(wait ≤ target_seconds)`` with ``servers`` and a mean handle time of ``handle_seconds``."""
    if handle_seconds <= 0 or target_seconds < 0:
        raise ValueError("the handle time must be positive and the target not negative")
    if traffic == 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    return _level(servers, traffic, erlang_c(servers, traffic), handle_seconds, target_seconds)


def servers_needed(traffic: float, handle_seconds: float, target_seconds: float, level: float) -> int:
    """The fewest servers with ``P(wait ≤ target_seconds) ≥ level`` (0 when there is no traffic).

    Starts at the first stable count ``⌊A⌋ + 1`` and adds one server at a time, carrying Erlang B along with
    one step of its recurrence per server: a few hundred steps past the start even for 10⁵ erlangs."""
    if not 0 < level < 1:
        raise UnreachableLevel(f"a service level must be between 0 and 1 (exclusive), got {level!r}")
    if handle_seconds <= 0 or target_seconds < 0 or traffic < 0:
        raise ValueError("the handle time must be positive, the target and the traffic not negative")
    if traffic == 0:
        return 0
    servers = math.floor(traffic) + 1
    blocking = erlang_b(servers, traffic)
    while True:
        waiting = _erlang_c_from_b(servers, traffic, blocking)
        if _level(servers, traffic, waiting, handle_seconds, target_seconds) >= level:
            return servers
        servers += 1
        blocking = traffic * blocking / (servers + traffic * blocking)
