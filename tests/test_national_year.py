"""The national-year simulation (``bench/national_year.py``), small: its independent calendar, and a few
cases through their rapid reviews, a CSPR whose clock stops, and plans with actions done on time, late and
never, on the time-skipping server, every deadline equal to the independent computation."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bench.national_year import simulate
from bench.year_checks import LONDON, cspr_due, expected_due, months_later


def test_the_independent_calendar_skips_weekends_bank_holidays_and_keeps_london_time():
    # Aware Wed 23 Dec 2026: 24th, 29th, 30th, 31st, 4 Jan (25th, 28th and 1 Jan are bank holidays).
    assert expected_due(datetime(2026, 12, 23, 9, 30, tzinfo=LONDON), 5, (17, 0)) == datetime(
        2027, 1, 4, 17, 0, tzinfo=UTC
    )
    # Across the clock change (Sun 28 Mar 2027) and Easter (26, 29 Mar): 17:00 BST is 16:00 UTC.
    assert expected_due(datetime(2027, 3, 24, 10, tzinfo=LONDON), 5, (17, 0)) == datetime(
        2027, 4, 2, 16, 0, tzinfo=UTC
    )


def test_a_cspr_is_due_six_calendar_months_on_moved_by_the_days_its_clock_stood():
    assert months_later(date(2026, 8, 31), 6) == date(2027, 2, 28)  # a shorter month: its last day
    assert months_later(date(2027, 9, 30), 6) == date(2028, 3, 30)
    # Decided 31 Aug 2026 (BST); due 28 Feb 2027 17:00 GMT, then 30 days stopped: 30 Mar 2027 17:00 BST.
    decided = datetime(2026, 8, 31, 12, tzinfo=LONDON)
    assert cspr_due(decided, 0, (17, 0)) == datetime(2027, 2, 28, 17, 0, tzinfo=UTC)
    assert cspr_due(decided, 30, (17, 0)) == datetime(2027, 3, 30, 16, 0, tzinfo=UTC)


async def test_a_few_cases_keep_every_deadline_as_the_independent_calendar_says():
    figures = await simulate(cases=6, partnerships=2, days=6, actions=(4, 6), plan_days=120)
    assert figures["problems"] == []
    assert figures["cspr"] == 3 and figures["clock_stops"] == 1
    checked, late = figures["checked_by_key"], figures["late_by_key"]
    assert checked == {
        "notify_panel": 6,
        "rapid_review_to_panel": 6,
        "cspr_completion": 3,
        "action_due": figures["actions"],
    }
    # Late and on time of each kind, so each check could have found a difference either way.
    for key in checked:
        assert 0 < late[key] < checked[key], key
    assert figures["escalations"] >= late["action_due"] + late["cspr_completion"]
    assert figures["reminders"] > 0
