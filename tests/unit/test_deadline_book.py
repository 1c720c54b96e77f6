"""The deadline book: reminders before a deadline, its breach and each tier of escalation after it,
each owed once at its time; pauses, met and cancelled deadlines, new dates, and when to wake next."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safeguarding.domain.contracts import DueDates
from safeguarding.domain.deadline_book import DeadlineBook, escalation_delays
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.policy import Duration, DurationUnit, EscalationStep
from tests.factories import POLICY, utc

START = utc(2027, 2, 1, 9)
DUE = utc(2027, 2, 8, 17)
R1, R2 = DUE - timedelta(days=2), DUE - timedelta(days=1)
TIER2, TIER3 = DUE + timedelta(days=14), DUE + timedelta(days=28)
DATES = DueDates(due_at=DUE, reminder_times=[R2, R1], escalation_times=[TIER2, TIER3])
ACTION, RETURN = POLICY.deadlines["action_due"], POLICY.deadlines["agency_information_return"]


def book_with(*keys_and_subjects, dates=DATES, now=START):
    """A book with the policy's deadlines ``(key, subject)``, all due at DUE."""
    book = DeadlineBook([])
    for key, subject in keys_and_subjects:
        rule = POLICY.deadlines[key]
        tiers = POLICY.escalation_for(rule)
        book.open(key, rule, tiers, START, dates, subject, now)
    return book


def action_book():
    return book_with(("action_due", "P1"))


def owed(book, now):
    return [(o.kind, o.number, o.recipients, o.breach, o.deadline.key) for o in book.owed(now)]


# ---------------------------------------------------------------- opening


def test_a_deadline_opens_with_the_rules_terms_its_reminders_in_order_and_its_tiers() -> None:
    book = book_with(("action_due", "P1"), ("agency_information_return", "T1"))
    action, ret = book.deadlines
    assert (action.id, ret.id) == ("D1", "D2")
    assert (action.title, action.met_by, action.subject, action.started_at, action.due_at) == (
        ACTION.title, Milestone.action_completed, "P1", START, DUE
    )  # fmt: skip
    assert (action.statutory, action.pausable, action.source) == (
        False,
        False,
        ACTION.source,
    )  # the local procedure sets it
    assert [r.at for r in action.reminders] == [R1, R2]
    assert action.reminders_to == ["owning_agency"]
    assert [(e.at, e.recipients) for e in action.escalations] == [
        (DUE, ["owning_agency"]),
        (TIER2, ["jcrg_chair"]),
        (TIER3, ["independent_scrutineer"]),
    ]
    # One escalation, at the due time, when the rule names only whom to escalate to.
    assert [(e.at, e.recipients) for e in ret.escalations] == [(DUE, ["business_unit", "jcrg_chair"])]


def test_a_reminder_already_past_when_the_deadline_opens_is_not_sent_late() -> None:
    (deadline,) = book_with(("action_due", "P1"), now=R1 + timedelta(hours=1)).deadlines
    assert [r.at for r in deadline.reminders] == [R2]


def test_the_calendar_computes_one_time_per_tier_with_a_delay() -> None:
    assert escalation_delays(POLICY.escalation_for(ACTION)) == [
        Duration(amount=10, unit=DurationUnit.working_days),
        Duration(amount=20, unit=DurationUnit.working_days),
    ]
    assert escalation_delays(POLICY.escalation_for(RETURN)) == []


# ---------------------------------------------------------------- what is owed, once each

TIMELINE = [
    (R1 - timedelta(hours=1), [], "nothing is owed before the first reminder"),
    (R1, [("reminder", 1, ["owning_agency"], False, "action_due")], "the first reminder at its time"),
    (R1 + timedelta(hours=1), [], "the first reminder is sent once"),
    (R2, [("reminder", 2, ["owning_agency"], False, "action_due")], "the second reminder at its time"),
    (DUE - timedelta(minutes=1), [], "nothing between the last reminder and the due time"),
    (DUE, [("escalation", 1, ["owning_agency"], True, "action_due")], "the breach, with the first tier"),
    (DUE + timedelta(days=1), [], "the breach is recorded once"),
    (TIER2, [("escalation", 2, ["jcrg_chair"], False, "action_due")], "the second tier at its time"),
    (TIER2 + timedelta(hours=1), [], "the second tier is sent once"),
    (TIER3, [("escalation", 3, ["independent_scrutineer"], False, "action_due")], "the third tier"),
    (TIER3 + timedelta(days=60), [], "after the last tier nothing more is owed"),
]


def test_reminders_then_the_breach_then_each_tier_are_owed_once_each_at_their_time() -> None:
    book = action_book()
    deadline = book.deadlines[0]
    for moment, expected, what in TIMELINE:
        assert owed(book, moment) == expected, what
        if moment >= DUE:
            assert (deadline.status, deadline.breached_at) == (DeadlineStatus.overdue, DUE), what
        else:
            assert (deadline.status, deadline.breached_at) == (DeadlineStatus.open, None), what


def test_after_an_outage_only_the_latest_reminder_is_sent() -> None:
    book = action_book()
    assert owed(book, DUE - timedelta(hours=1)) == [("reminder", 2, ["owning_agency"], False, "action_due")]
    assert [r.sent for r in book.deadlines[0].reminders] == [True, True]
    assert owed(book, DUE - timedelta(minutes=30)) == []


def test_after_a_long_outage_the_breach_and_every_tier_due_go_together_and_reminders_are_moot() -> None:
    book = action_book()
    assert owed(book, TIER2 + timedelta(hours=1)) == [
        ("escalation", 1, ["owning_agency"], True, "action_due"),
        ("escalation", 2, ["jcrg_chair"], False, "action_due"),
    ]
    assert [r.sent for r in book.deadlines[0].reminders] == [False, False]
    # Breached at its due time, not when the clock came back and noticed it.
    assert book.deadlines[0].breached_at == book.deadlines[0].due_at


def test_a_deadline_noticed_as_missed_and_then_met_by_a_step_dated_in_time_was_never_breached() -> None:
    book = action_book()
    due = book.deadlines[0].due_at
    assert owed(book, TIER2 + timedelta(hours=1))  # the clock noticed it missed
    book.meet(Milestone.action_completed, "P1", due - timedelta(days=1))  # entered later, dated in time
    deadline = book.deadlines[0]
    assert deadline.met_on_time and deadline.breached_at is None


def test_a_deadline_met_after_its_due_time_keeps_its_breach_at_the_due_time() -> None:
    book = action_book()
    due = book.deadlines[0].due_at
    book.meet(Milestone.action_completed, "P1", due + timedelta(days=2))  # no clock tick in between
    deadline = book.deadlines[0]
    assert deadline.met_on_time is False and deadline.breached_at == due


def test_a_deadline_met_stops_its_reminders_and_escalations() -> None:
    book = action_book()
    assert len(owed(book, R1)) == 1
    met = book.meet(Milestone.action_completed, "P1", R1 + timedelta(hours=2))
    assert [d.id for d in met] == ["D1"]
    deadline = book.deadlines[0]
    assert (deadline.status, deadline.met_at, deadline.met_on_time) == (
        DeadlineStatus.met, R1 + timedelta(hours=2), True
    )  # fmt: skip
    assert deadline.breached_at is None
    assert owed(book, R2) == owed(book, TIER3) == []
    assert book.next_moment() is None
    assert book.live() == []


@pytest.mark.parametrize(
    ("milestone", "subject", "met"),
    [
        pytest.param(Milestone.information_returned, "T1", ["D2"], id="a milestone meets its own deadline"),
        pytest.param(Milestone.information_returned, "T3", [], id="another task's return meets nothing"),
        pytest.param(Milestone.action_completed, "T1", [], id="another milestone meets nothing"),
        pytest.param(
            Milestone.information_returned, None, [], id="a milestone with no subject meets none of a task"
        ),
    ],
)
def test_a_milestone_meets_only_the_live_deadlines_of_its_subject(milestone, subject, met) -> None:
    book = book_with(("agency_information_return", "T2"), ("agency_information_return", "T1"))
    assert [d.id for d in book.meet(milestone, subject, DUE)] == met
    assert [d.id for d in book.meet(milestone, subject, DUE)] == []  # met once
    assert [d.id for d in book.live()] == sorted({"D1", "D2"} - set(met))


def test_a_deadline_met_late_is_recorded_as_late() -> None:
    book = action_book()
    book.owed(DUE)
    (deadline,) = book.meet(Milestone.action_completed, "P1", DUE + timedelta(days=1))
    assert (deadline.status, deadline.met_on_time) == (DeadlineStatus.met, False)


# ---------------------------------------------------------------- the clock stopped


def test_a_clock_stop_pauses_only_pausable_live_deadlines_once() -> None:
    book = book_with(("cspr_completion", None), ("agency_information_return", "R1"))
    cspr, other = book.deadlines
    assert book.pausable() == [cspr]
    assert book.pause(R1) == [cspr]
    assert book.pause(R2) == []  # already waiting since R1
    assert (cspr.paused_since, other.paused_since) == (R1, None)


def test_a_paused_deadline_owes_nothing_and_never_wakes_the_clock() -> None:
    book = book_with(("cspr_completion", None))
    book.pause(START)
    assert owed(book, TIER3 + timedelta(days=1)) == []
    deadline = book.deadlines[0]
    assert (deadline.status, deadline.breached_at) == (DeadlineStatus.open, None)
    assert [r.sent for r in deadline.reminders] == [False, False]
    assert book.next_moment() is None
    assert book.live() == [deadline]  # still owed, once the clock restarts


# ---------------------------------------------------------------- when to wake next


def test_next_moment_is_always_the_earliest_thing_not_yet_sent() -> None:
    book = action_book()
    moments = []
    for _ in range(6):
        moment = book.next_moment()
        moments.append(moment)
        if moment is not None:
            book.owed(moment)
    assert moments == [R1, R2, DUE, TIER2, TIER3, None]


def test_next_moment_is_the_earliest_over_every_live_deadline() -> None:
    early = DueDates(due_at=R1 + timedelta(hours=12), reminder_times=[])
    book = book_with(("action_due", "P1"))
    DeadlineBook(book.deadlines).open(
        "agency_information_return", RETURN, POLICY.escalation_for(RETURN), START, early, "T1", START
    )
    assert book.next_moment() == R1  # the action's first reminder comes before the return's due time
    book.owed(R1)
    assert book.next_moment() == R1 + timedelta(hours=12)  # the return's due time, before the action's 2nd
    book.cancel("P1", "withdrawn")
    book.owed(R1 + timedelta(hours=12))
    assert book.next_moment() is None  # the return's only tier went with its breach


# ---------------------------------------------------------------- a new date, cancellation


def test_a_new_date_reopens_an_overdue_deadline_with_fresh_reminders_and_tiers() -> None:
    book = action_book()
    book.owed(TIER2)
    deadline = book.deadlines[0]
    assert deadline.status is DeadlineStatus.overdue
    now = TIER2 + timedelta(hours=1)
    new_due = DUE + timedelta(days=40)
    new = DueDates(
        due_at=new_due,
        reminder_times=[now - timedelta(hours=1), new_due - timedelta(days=2)],
        escalation_times=[new_due + timedelta(days=14), new_due + timedelta(days=28)],
    )
    book.redate(deadline, new, POLICY.escalation_for(ACTION), now)
    assert (deadline.status, deadline.due_at, deadline.original_due_at) == (DeadlineStatus.open, new_due, DUE)
    assert [(r.at, r.sent) for r in deadline.reminders] == [(new_due - timedelta(days=2), False)]
    assert [(e.at, e.sent) for e in deadline.escalations] == [
        (new_due, False), (new_due + timedelta(days=14), False), (new_due + timedelta(days=28), False)
    ]  # fmt: skip
    assert book.next_moment() == new_due - timedelta(days=2)
    book.redate(deadline, DueDates(due_at=new_due + timedelta(days=7), reminder_times=[]), [], now)
    assert deadline.original_due_at == DUE  # the first due time is kept however often it moves


def test_a_new_date_already_past_leaves_an_overdue_deadline_overdue() -> None:
    book = action_book()
    book.owed(DUE)
    deadline = book.deadlines[0]
    now = DUE + timedelta(days=2)
    book.redate(deadline, DueDates(due_at=DUE + timedelta(days=1), reminder_times=[]), [], now)
    assert (deadline.status, deadline.due_at) == (DeadlineStatus.overdue, DUE + timedelta(days=1))


def test_cancelling_a_subject_ends_only_its_live_deadlines() -> None:
    book = book_with(
        ("agency_information_return", "T1"), ("agency_information_return", "T2"), ("action_due", "T1")
    )
    book.meet(Milestone.action_completed, "T1", START)
    cancelled = book.cancel("T1", "not needed")
    assert [d.id for d in cancelled] == ["D1"]
    assert [(d.status, d.cancelled_reason) for d in book.deadlines] == [
        (DeadlineStatus.cancelled, "not needed"), (DeadlineStatus.open, None), (DeadlineStatus.met, None)
    ]  # fmt: skip
    assert [d.id for d in book.live()] == ["D2"]
    assert owed(book, TIER3) == [
        ("escalation", 1, ["business_unit", "jcrg_chair"], True, "agency_information_return")
    ]


def test_a_breach_is_owed_even_when_the_first_tier_of_escalation_comes_later() -> None:
    """A policy whose first tier waits (``after``) still records the deadline as missed at its due time."""
    rule = ACTION.model_copy(
        update={
            "escalation": [
                EscalationStep(after=Duration(amount=5, unit=DurationUnit.working_days), to=["jcrg_chair"])
            ]
        }
    )
    book = DeadlineBook([])
    book.open(
        "action_due",
        rule,
        rule.escalation,
        START,
        DueDates(due_at=DUE, reminder_times=[], escalation_times=[TIER2]),
        "P1",
        START,
    )
    assert [(o.kind, o.breach) for o in book.owed(DUE + timedelta(minutes=1))] == [("breach", True)]
    assert book.deadlines[0].status is DeadlineStatus.overdue
    assert [(o.kind, o.number, o.breach) for o in book.owed(TIER2)] == [("escalation", 1, False)]
    assert book.owed(TIER3) == []
