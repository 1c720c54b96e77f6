"""The working-day calendar of the default (Pan Bedfordshire) policy, checked against DOMAIN.md:
Monday to Friday less England and Wales bank holidays (substitute days included), day-based deadlines
due at 17:00 Europe/London, hours counted as elapsed hours, results in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from activities.deadlines import compute_due_dates
from safeguarding.domain.contracts import DueDateItem, DueDateRequest
from safeguarding.domain.policy import Duration, Policy, PolicyDuration, WorkingDays
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import get_settings
from safeguarding.platform.working_days import WorkingCalendar, add_months

LONDON = ZoneInfo("Europe/London")
_DURATION = TypeAdapter(PolicyDuration)


def d(text: str) -> Duration:
    return _DURATION.validate_python(text)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policies(get_settings().policy_dir)["luton"]


@pytest.fixture(scope="module")
def calendar(policy: Policy) -> WorkingCalendar:
    return WorkingCalendar(policy.timezone, policy.working_days)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),  # Thursday before Christmas
        (date(2026, 12, 25), False),  # Christmas Day, Friday
        (date(2026, 12, 26), False),  # Boxing Day, Saturday
        (date(2026, 12, 28), False),  # substitute for Boxing Day
        (date(2026, 12, 29), True),
        (date(2027, 3, 26), False),  # Good Friday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 12, 27), False),  # substitute for Christmas Day (Saturday)
        (date(2027, 12, 28), False),  # substitute for Boxing Day (Sunday)
        (date(2023, 5, 8), False),  # coronation of King Charles III
        (date(2023, 5, 9), True),
        (date(2022, 9, 19), False),  # state funeral of Queen Elizabeth II
        (date(2027, 1, 9), False),  # a Saturday
        (date(2027, 1, 11), True),  # a Monday
    ],
)
def test_working_days_are_weekdays_that_are_not_bank_holidays(calendar, day, working):
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize("hour", [0, 9, 16, 23])
def test_notification_on_friday_18_december_2026_is_due_tuesday_29_december_at_five(calendar, hour):
    due = calendar.due(london(2026, 12, 18, hour, 30), d("5 working days"))
    assert due == london(2026, 12, 29, 17, 0)


def test_working_days_between_count_christmas_2026_correctly(calendar):
    assert calendar.working_days_between(date(2026, 12, 18), date(2026, 12, 29)) == 5


def test_referral_48_hours_before_christmas_ignores_bank_holidays(calendar):
    due = calendar.due(london(2026, 12, 24, 16, 0), d("48 hours"))
    assert due == london(2026, 12, 26, 16, 0)


# The same instants given in Europe/London time and in UTC: the answer must not depend on which.
@pytest.mark.parametrize("zone", [LONDON, UTC], ids=["london", "utc"])
@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (london(2027, 3, 27, 12, 0), london(2027, 3, 29, 13, 0)),  # spring forward: 12:00 GMT -> 13:00 BST
        (london(2027, 10, 30, 12, 0), london(2027, 11, 1, 11, 0)),  # fall back: 12:00 BST -> 11:00 GMT
    ],
    ids=["spring", "autumn"],
)
def test_48_hours_across_a_clock_change_are_48_elapsed_hours(calendar, zone, start, expected):
    due = calendar.due(start.astimezone(zone), d("48 hours"))
    assert due == expected
    assert due - start == timedelta(hours=48)


@pytest.mark.parametrize("zone", [LONDON, UTC], ids=["london", "utc"])
def test_a_reminder_48_hours_before_is_48_elapsed_hours_across_the_clock_change(calendar, zone):
    due = london(2027, 3, 29, 13, 0).astimezone(zone)
    assert calendar.before(due, d("48 hours")) == london(2027, 3, 27, 12, 0)


def test_easter_2027_and_spring_clock_change_due_friday_2_april_at_five_bst(calendar):
    due = calendar.due(london(2027, 3, 24, 10, 0), d("5 working days"))
    assert due == london(2027, 4, 2, 17, 0)
    assert due == datetime(2027, 4, 2, 16, 0, tzinfo=UTC)


def test_autumn_clock_change_due_tuesday_2_november_at_five_gmt(calendar):
    due = calendar.due(london(2027, 10, 26, 10, 0), d("5 working days"))
    assert due == london(2027, 11, 2, 17, 0)
    assert due == datetime(2027, 11, 2, 17, 0, tzinfo=UTC)


def test_a_late_night_utc_start_counts_from_the_london_date(calendar):
    # 23:30 UTC on Thursday 3 June 2027 is 00:30 BST on Friday 4 June: day one is Monday 7 June.
    due = calendar.due(datetime(2027, 6, 3, 23, 30, tzinfo=UTC), d("1 working day"))
    assert due == london(2027, 6, 7, 17, 0)


def test_an_extra_closed_day_in_the_policy_moves_the_due_date_by_one_working_day(policy):
    closed = WorkingDays.model_validate(
        {**policy.working_days.model_dump(), "extra_closed_days": [date(2027, 6, 7)]}
    )
    start, period = london(2027, 6, 4, 11, 0), d("5 working days")
    plain = WorkingCalendar(policy.timezone, policy.working_days).due(start, period)
    moved = WorkingCalendar(policy.timezone, closed).due(start, period)
    assert plain == london(2027, 6, 11, 17, 0)
    assert moved == london(2027, 6, 14, 17, 0)
    assert not WorkingCalendar(policy.timezone, closed).is_working_day(date(2027, 6, 7))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (london(2027, 2, 2, 10, 0), london(2027, 8, 2, 17, 0)),  # into BST
        (london(2026, 8, 31, 10, 0), london(2027, 2, 28, 17, 0)),  # clamped to the end of February
        (london(2027, 8, 31, 10, 0), london(2028, 2, 29, 17, 0)),  # leap year
    ],
)
def test_six_calendar_months_is_the_same_day_six_months_later_or_the_months_last_day(
    calendar, start, expected
):
    assert calendar.due(start, d("6 calendar months")) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 12, 15), 1, date(2028, 1, 15)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2027, 1, 15), -1, date(2026, 12, 15)),
    ],
)
def test_add_months_crosses_years_and_clamps(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (london(2026, 12, 19, 10, 0), "1 working day", london(2026, 12, 21, 17, 0)),
        (london(2027, 1, 9, 10, 0), "5 working days", london(2027, 1, 15, 17, 0)),
    ],
)
def test_an_incident_learned_of_on_a_saturday_counts_from_monday(calendar, start, period, expected):
    assert calendar.due(start, d(period)) == expected


@pytest.mark.parametrize(
    ("due", "lead", "expected"),
    [
        (london(2026, 12, 29, 17, 0), "2 working days", london(2026, 12, 23, 17, 0)),
        (london(2026, 12, 29, 17, 0), "1 working day", london(2026, 12, 24, 17, 0)),
        (london(2026, 12, 26, 16, 0), "24 hours", london(2026, 12, 25, 16, 0)),
        (london(2027, 11, 2, 17, 0), "5 working days", london(2027, 10, 26, 17, 0)),  # GMT -> BST
        (london(2027, 4, 2, 17, 0), "3 calendar days", london(2027, 3, 30, 17, 0)),
    ],
)
def test_reminders_fall_the_lead_time_before_the_due_date(calendar, due, lead, expected):
    assert calendar.before(due.astimezone(UTC), d(lead)) == expected


@pytest.mark.parametrize("period", ["5 working days", "48 hours", "10 calendar days", "6 calendar months"])
def test_the_due_date_is_timezone_aware_in_utc(calendar, period):
    due = calendar.due(london(2027, 7, 1, 9, 0), d(period))
    assert due.tzinfo is UTC
    assert due.utcoffset() == timedelta(0)


def test_compute_due_dates_answers_each_item_in_order(policy):
    items = [
        DueDateItem(started_at=london(2026, 12, 24, 16, 0), due=d("48 hours"), reminders=[d("24 hours")]),
        DueDateItem(
            started_at=london(2026, 12, 18, 9, 0),
            due=d("5 working days"),
            reminders=[d("2 working days"), d("1 working day")],
        ),
        DueDateItem(started_at=london(2027, 2, 2, 10, 0), due=d("6 calendar months")),
    ]
    request = DueDateRequest(timezone=policy.timezone, working_days=policy.working_days, items=items)
    results = compute_due_dates(request)
    assert [r.due_at for r in results] == [
        london(2026, 12, 26, 16, 0),
        london(2026, 12, 29, 17, 0),
        london(2027, 8, 2, 17, 0),
    ]
    assert [r.reminder_times for r in results] == [
        [london(2026, 12, 25, 16, 0)],
        [london(2026, 12, 23, 17, 0), london(2026, 12, 24, 17, 0)],
        [],
    ]
    assert all(r.due_at.utcoffset() == timedelta(0) for r in results)
