"""The yearly report: published between the end of the reporting year and today, then sent to the
Panel and the DfE; each deadline met by the end of the working day it happened."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.rules import yearly_report as rules
from safeguarding.domain.yearly_report import PUBLISHED, SENT, ReportPublished, ReportSent, YearlyDeadline
from tests.factories import BUSINESS_UNIT, LONDON, YEARLY_NOW, assert_refused, utc, yearly_file

NOT_NOW, INVALID = RefusalKind.not_allowed_now, RefusalKind.invalid
YEAR_END = date(2027, 4, 1)
TODAY = date(2027, 6, 15)
PUBLISHED_ON = date(2027, 5, 3)


def five_pm(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 17, tzinfo=LONDON)


# ---------------------------------------------------------------- publication


@pytest.mark.parametrize(
    ("state", "day", "kind", "fragment"),
    [
        pytest.param(lambda: yearly_file(PUBLISHED_ON), date(2027, 6, 1), NOT_NOW,
                     "the yearly report was published on 2027-05-03", id="the report is published once"),
        pytest.param(yearly_file, date(2027, 3, 31), INVALID,
                     "a publication date falls between the end of the year (2027-04-01) and today (2027-06-15)",
                     id="a publication before the year ends is refused"),
        pytest.param(yearly_file, date(2027, 6, 16), INVALID, "and today (2027-06-15)",
                     id="a publication in the future is refused"),
    ],
)  # fmt: skip
def test_recording_publication_is_refused(state, day, kind, fragment) -> None:
    step = ReportPublished(published_on=day)
    assert_refused(rules.check_publication, state(), BUSINESS_UNIT, step, YEARLY_NOW, kind, fragment)


def test_today_is_the_partnerships_date_not_utcs() -> None:
    # 23:30 UTC on 15 June is already 16 June in London (summer time).
    late = utc(2027, 6, 15, 23, 30)
    rules.check_publication(
        yearly_file(), BUSINESS_UNIT, ReportPublished(published_on=date(2027, 6, 16)), late
    )


@pytest.mark.parametrize(
    "day", [YEAR_END, PUBLISHED_ON, TODAY], ids=["the first day after the year", "a day between", "today"]
)
def test_a_publication_date_between_the_year_end_and_today_is_accepted(day) -> None:
    rules.check_publication(yearly_file(), BUSINESS_UNIT, ReportPublished(published_on=day), YEARLY_NOW)


@pytest.mark.parametrize(
    ("day", "now", "met_at"),
    [
        pytest.param(PUBLISHED_ON, YEARLY_NOW, five_pm(PUBLISHED_ON),
                     id="recorded later, it is met at the end of the day it was published"),
        pytest.param(TODAY, utc(2027, 6, 15, 10), utc(2027, 6, 15, 10),
                     id="recorded the same morning, it is met when recorded"),
    ],
)  # fmt: skip
def test_publication_meets_its_deadline_when_it_happened(day, now, met_at) -> None:
    file = yearly_file()
    file.deadlines.append(YearlyDeadline(key=SENT, title="Sent", due_at=five_pm(day + timedelta(days=9))))
    assert rules.apply_publication(file, BUSINESS_UNIT, ReportPublished(published_on=day), now) is None
    assert (file.published_on, file.deadline(PUBLISHED).met_at) == (day, met_at)
    assert file.deadline(SENT).met_at is None
    assert file.history[-1] == f"{now.isoformat()} published {day} by bu.officer"


def test_met_on_is_the_end_of_that_working_day_at_the_latest() -> None:
    file = yearly_file()
    assert rules.met_on(file, date(2027, 5, 3), YEARLY_NOW) == five_pm(date(2027, 5, 3))
    assert rules.met_on(file, TODAY, utc(2027, 6, 15, 8)) == utc(2027, 6, 15, 8)
    assert rules.met_on(file, TODAY, utc(2027, 6, 15, 18)) == five_pm(TODAY)


# ---------------------------------------------------------------- sending


@pytest.mark.parametrize(
    ("state", "to", "day", "kind", "fragment"),
    [
        pytest.param(yearly_file, ["panel"], TODAY, NOT_NOW, "the yearly report is sent once it is published",
                     id="the report is not sent before it is published"),
        pytest.param(lambda: yearly_file(PUBLISHED_ON), ["dfe"], date(2027, 5, 2), INVALID,
                     "the date it was sent falls between its publication (2027-05-03) and today",
                     id="a sending before the publication is refused"),
        pytest.param(lambda: yearly_file(PUBLISHED_ON), ["dfe"], date(2027, 6, 17), INVALID,
                     "between its publication (2027-05-03) and today", id="a sending in the future is refused"),
        pytest.param(lambda: yearly_file(PUBLISHED_ON, [("panel", PUBLISHED_ON)]), ["panel"], TODAY, NOT_NOW,
                     "already recorded as sent to ['panel']", id="the Panel is sent it once"),
        pytest.param(lambda: yearly_file(PUBLISHED_ON, [("panel", PUBLISHED_ON), ("dfe", PUBLISHED_ON)]),
                     ["dfe", "panel"], TODAY, NOT_NOW, "already recorded as sent to ['dfe', 'panel']",
                     id="a report sent to both is not sent again"),
        pytest.param(lambda: yearly_file(PUBLISHED_ON, [("panel", PUBLISHED_ON), ("dfe", PUBLISHED_ON)]),
                     ["panel"], TODAY, NOT_NOW, "already recorded as sent to ['dfe', 'panel']",
                     id="a report sent to both is not sent to one of them again"),
    ],
)  # fmt: skip
def test_recording_the_sending_is_refused(state, to, day, kind, fragment) -> None:
    step = ReportSent(sent_on=day, to=to)
    assert_refused(rules.check_sending, state(), BUSINESS_UNIT, step, YEARLY_NOW, kind, fragment)


@pytest.mark.parametrize(
    ("sent", "to"),
    [
        pytest.param([], ["panel", "dfe"], id="to both at once"),
        pytest.param([("panel", PUBLISHED_ON)], ["dfe"], id="to the DfE after the Panel"),
        pytest.param([("panel", PUBLISHED_ON)], ["dfe", "panel"], id="to both, the Panel again among them"),
    ],
)
def test_a_sending_on_or_after_publication_is_accepted(sent, to) -> None:
    rules.check_sending(
        yearly_file(PUBLISHED_ON, sent), BUSINESS_UNIT, ReportSent(sent_on=TODAY, to=to), YEARLY_NOW
    )


def test_the_sending_deadline_is_met_when_the_second_recipient_is_sent_it() -> None:
    file = yearly_file(PUBLISHED_ON)
    rules.apply_sending(file, BUSINESS_UNIT, ReportSent(sent_on=date(2027, 5, 4), to=["panel"]), YEARLY_NOW)
    assert (file.sent_to, file.sent_on, file.deadline(SENT).met_at) == (["panel"], None, None)
    rules.apply_sending(file, BUSINESS_UNIT, ReportSent(sent_on=date(2027, 5, 6), to=["dfe"]), YEARLY_NOW)
    assert (file.sent_to, file.sent_on, file.deadline(SENT).met_at) == (
        ["dfe", "panel"],
        date(2027, 5, 6),
        five_pm(date(2027, 5, 6)),
    )
    assert file.history[-1] == f"{YEARLY_NOW.isoformat()} sent to ['dfe'] by bu.officer"


def test_sent_to_both_at_once_meets_the_deadline_that_day() -> None:
    file = yearly_file(PUBLISHED_ON)
    rules.apply_sending(
        file, BUSINESS_UNIT, ReportSent(sent_on=date(2027, 5, 5), to=["dfe", "panel"]), YEARLY_NOW
    )
    assert (file.sent_on, file.deadline(SENT).met_at) == (date(2027, 5, 5), five_pm(date(2027, 5, 5)))


# ---------------------------------------------------------------- the yearly deadlines' own clock


def test_a_yearly_deadline_reminds_then_escalates_once_then_owes_nothing() -> None:
    deadline = yearly_file().deadline(PUBLISHED)
    first, second = deadline.reminders
    assert deadline.next_moment == first
    deadline.reminders_sent = 1
    assert deadline.next_moment == second
    deadline.reminders_sent = 2
    assert deadline.next_moment == deadline.due_at
    deadline.escalated = True
    assert deadline.next_moment is None


def test_a_met_yearly_deadline_owes_nothing() -> None:
    assert yearly_file(PUBLISHED_ON).deadline(PUBLISHED).next_moment is None


def test_recorded_in_any_order_the_report_counts_as_sent_when_the_later_recipient_got_it() -> None:
    """The DfE recorded first, sent on 20 May; the Panel recorded second, sent on 4 May: sent on 20 May."""
    file = yearly_file(PUBLISHED_ON)
    rules.apply_sending(file, BUSINESS_UNIT, ReportSent(sent_on=date(2027, 5, 20), to=["dfe"]), YEARLY_NOW)
    rules.apply_sending(file, BUSINESS_UNIT, ReportSent(sent_on=date(2027, 5, 4), to=["panel"]), YEARLY_NOW)
    assert file.sent_dates == {"dfe": date(2027, 5, 20), "panel": date(2027, 5, 4)}
    assert (file.sent_on, file.deadline(SENT).met_at) == (date(2027, 5, 20), five_pm(date(2027, 5, 20)))
