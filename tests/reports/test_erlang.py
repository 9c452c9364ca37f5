"""Erlang B and C against published worked examples and a direct evaluation of the textbook formulas.

Published cases:
- Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls in 30 minutes, an
  average handling time of 180 s, 80 % to be answered within 20 s. Traffic A = 200 calls/h × 180 s / 3600 = 10
  erlangs; with 11 agents the probability to wait is 68.21 % and the service level 39 %; 14 agents are the first
  to reach 80 % (88.8 %).
- Westbay Engineers (erlang.com), "The Erlang-C formula": 360 calls per half hour of 4 minutes each, 55 agents,
  a target answer time of 15 s. A = 48 erlangs; probability to wait 23.87 %, service level 84.6 %.
- The Erlang B table: 5 lines offered 2 erlangs block 3.67 % of calls.
The figures in the comments were worked out by hand from the formulas in reports/erlang.py's docstring.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from reports.erlang import UnreachableLevel, erlang_b, erlang_c, servers_needed, service_level


def direct_erlang_c(servers: int, traffic: int | Fraction) -> Fraction:
    """The textbook form, ``(Aᴺ/N!·N/(N−A)) / (Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N!·N/(N−A))``, in exact fractions."""
    a = Fraction(traffic)
    top = a**servers / math.factorial(servers) * servers / (servers - a)
    return top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)


def test_the_call_centre_helper_example_needs_14_agents_for_80_percent_in_20_seconds():
    traffic = 100 * 2 * 180 / 3600  # 200 calls an hour of 180 s: 10 erlangs
    assert traffic == 10
    assert erlang_c(11, traffic) == pytest.approx(0.6821, abs=5e-5)
    # 1 − 0.6821 · e^(−(11 − 10) · 20/180) = 1 − 0.6821 · 0.8948 = 0.3896
    assert service_level(11, traffic, 180, 20) == pytest.approx(0.3896, abs=5e-5)
    levels = [round(service_level(n, traffic, 180, 20), 4) for n in (12, 13, 14)]
    assert levels == [0.6402, 0.7956, 0.8884]
    assert servers_needed(traffic, 180, 20, 0.8) == 14


def test_the_westbay_example_waits_24_percent_and_answers_85_percent_in_15_seconds():
    traffic = 360 * 240 / 1800  # 360 calls of 4 minutes per half hour: 48 erlangs
    assert erlang_c(55, traffic) == pytest.approx(0.2387, abs=5e-5)
    assert service_level(55, traffic, 240, 15) == pytest.approx(0.8459, abs=5e-5)
    # average speed of answer C·h/(N − A) = 0.2387 · 240 / 7 = 8.18 s
    assert erlang_c(55, traffic) * 240 / (55 - traffic) == pytest.approx(8.18, abs=5e-3)


def test_erlang_b_matches_the_table():
    # (2⁵/5!) / (1 + 2 + 2 + 4/3 + 2/3 + 4/15) = 0.26667 / 7.26667
    assert erlang_b(5, 2.0) == pytest.approx(0.036697, abs=5e-7)
    assert erlang_b(0, 3.0) == 1.0


@pytest.mark.parametrize(
    ("servers", "traffic"), [(1, Fraction(1, 2)), (2, 1), (7, 5), (30, 24), (60, Fraction(1105, 20))]
)
def test_the_recurrence_agrees_with_the_textbook_formula(servers, traffic):
    assert erlang_c(servers, float(traffic)) == pytest.approx(float(direct_erlang_c(servers, traffic)), rel=1e-12)


def test_servers_needed_is_the_smallest_count_that_reaches_the_level():
    for traffic in (0.05, 0.4, 3.3, 17.0, 250.5):
        n = servers_needed(traffic, 300, 60, 0.9)
        assert service_level(n, traffic, 300, 60) >= 0.9
        assert n - 1 <= traffic or service_level(n - 1, traffic, 300, 60) < 0.9


def test_no_traffic_needs_no_one_and_nobody_waits():
    assert servers_needed(0, 300, 60, 0.9) == 0
    assert erlang_c(0, 0) == 0.0
    assert service_level(0, 0, 300, 60) == 1.0


def test_traffic_at_or_above_the_servers_is_unstable_every_arrival_waits():
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(5, 7.5) == 1.0
    assert service_level(5, 5.0, 300, 60) == 0.0
    assert servers_needed(5.0, 300, 60, 0.9) > 5  # at least one server more than the traffic


def test_huge_traffic_neither_overflows_nor_takes_long():
    # 10⁵ erlangs: Aᴺ/N! would overflow a float long before; the recurrence keeps every term in [0, 1]
    n = servers_needed(100_000.0, 300, 20, 0.95)
    assert 100_000 < n < 101_000
    assert 0 < erlang_c(n, 100_000.0) < 1
    assert 0 < erlang_b(1_000_000, 999_000.0) < 1


def test_a_level_of_one_or_zero_and_negative_inputs_are_refused():
    for level in (1.0, 0.0, 1.5):
        with pytest.raises(UnreachableLevel):
            servers_needed(2.0, 300, 60, level)
    with pytest.raises(ValueError):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        service_level(3, 1.0, 0, 60)
    with pytest.raises(ValueError):
        servers_needed(-1.0, 300, 60, 0.9)
