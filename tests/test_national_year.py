"""The national-year simulation (``bench/national_year.py``), small: its independent calendar, and a few
cases through their rapid reviews on the time-skipping server, every statutory deadline equal to it."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.national_year import LONDON, expected_due, simulate


def test_the_independent_calendar_skips_weekends_bank_holidays_and_keeps_london_time():
    # Aware Wed 23 Dec 2026: 24th, 29th, 30th, 31st, 4 Jan (25th, 28th and 1 Jan are bank holidays).
    assert expected_due(datetime(2026, 12, 23, 9, 30, tzinfo=LONDON), 5, (17, 0)) == datetime(
        2027, 1, 4, 17, 0, tzinfo=UTC
    )
    # Across the clock change (Sun 28 Mar 2027) and Easter (26, 29 Mar): 17:00 BST is 16:00 UTC.
    assert expected_due(datetime(2027, 3, 24, 10, tzinfo=LONDON), 5, (17, 0)) == datetime(
        2027, 4, 2, 16, 0, tzinfo=UTC
    )


async def test_a_few_cases_keep_every_statutory_deadline_as_the_independent_calendar_says():
    figures = await simulate(cases=6, partnerships=2, days=6)
    assert figures["problems"] == []
    assert figures["deadlines_checked"] == 12 and figures["late"] > 0 and figures["on_time"] > 0
