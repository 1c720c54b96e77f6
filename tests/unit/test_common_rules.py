"""What every step's rules share: a time given for what happened has happened, and follows its step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules.common import (
    CLOCK_TOLERANCE,
    check_day_happened,
    check_happened,
    day_words,
    fmt,
)
from tests.factories import NOW, utc

REFERRAL = utc(2027, 2, 1, 9)


@pytest.mark.parametrize(
    ("at", "kind", "fragment"),
    [
        pytest.param(
            NOW + CLOCK_TOLERANCE + timedelta(seconds=1),
            RefusalKind.invalid,
            "the confirmation (02 February 2027 10:05:01 UTC) is in the future; record it once it has happened",
            id="a time more than five minutes ahead of the clock is in the future",
        ),
        pytest.param(
            REFERRAL - CLOCK_TOLERANCE - timedelta(seconds=1),
            RefusalKind.not_allowed_now,  # against the case's record: 409, as a step out of turn
            "the confirmation (01 February 2027 08:54:59 UTC) is before the referral (01 February 2027 09:00:00 UTC)",
            id="a time more than five minutes before the step it follows is refused",
        ),
    ],
)
def test_a_time_that_cannot_be_right_is_refused(at, kind, fragment) -> None:
    with pytest.raises(Refusal) as caught:
        check_happened(at, NOW, "the confirmation", REFERRAL, "the referral")
    assert caught.value.kind is kind
    assert caught.value.reason == fragment


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(NOW + CLOCK_TOLERANCE, id="five minutes ahead of the clock is allowed"),
        pytest.param(REFERRAL - CLOCK_TOLERANCE, id="five minutes before the step it follows is allowed"),
        pytest.param(NOW, id="now is allowed"),
    ],
)
def test_a_time_within_the_clocks_tolerance_is_accepted(at) -> None:
    check_happened(at, NOW, "the confirmation", REFERRAL, "the referral")


def test_a_time_with_no_step_before_it_is_checked_only_against_the_clock() -> None:
    check_happened(utc(2001, 1, 1), NOW, "the time")
    with pytest.raises(Refusal, match="is in the future"):
        check_happened(NOW + timedelta(hours=1), NOW, "the time")


@pytest.mark.parametrize(
    ("day", "accepted"),
    [
        pytest.param(date(2027, 2, 2), True, id="today has happened"),
        pytest.param(date(2027, 2, 3), True, id="tomorrow is allowed for the time zone"),
        pytest.param(date(2027, 2, 4), False, id="the day after tomorrow is in the future"),
    ],
)
def test_a_day_given_has_happened(day, accepted) -> None:
    if accepted:
        check_day_happened(day, NOW)
        return
    with pytest.raises(Refusal) as caught:
        check_day_happened(day, NOW)
    assert caught.value.kind is RefusalKind.invalid
    assert caught.value.reason == "Thursday 4 February 2027 is in the future; record it once it has happened"


def test_times_and_days_are_written_as_people_read_them() -> None:
    assert fmt(utc(2027, 2, 2, 10, 5)) == "02 February 2027 10:05:00 UTC"
    assert day_words(date(2027, 2, 2)) == "Tuesday 2 February 2027"
    assert day_words(date(2027, 1, 21)) == "Thursday 21 January 2027"
