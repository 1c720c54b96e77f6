"""The dashboard's words: an event's facts as a reader would say them, never as the service stores them."""

from __future__ import annotations

from datetime import UTC, datetime

from safeguarding.domain.events import EventKind
from safeguarding.render.words import EVENT_NAMES, event_facts, moment, words

TITLES = {"rapid_review_to_panel": "Rapid review completed and sent to the Panel"}


def test_a_missed_deadline_reads_as_its_title_and_its_due_day_and_time():
    line = event_facts(
        {"deadline": "D2", "key": "rapid_review_to_panel", "due_at": "2026-01-02T17:00:00+00:00"}, TITLES, {}
    )
    assert line == "Rapid review completed and sent to the Panel; due: Friday 2 January 2026 at 5pm"


def test_a_deadline_the_case_has_no_title_for_still_reads_as_words():
    line = event_facts({"key": "notify_secretary_of_state_care_leaver_death"}, {}, {})
    assert line == "Notify secretary of state care leaver death"


def test_choices_agencies_and_recipients_read_as_names():
    line = event_facts(
        {"agency": "luton-schools", "recipients": ["jcrg_chair", "business_unit"], "criteria_met": True},
        {},
        {"luton-schools": "Luton schools"},
    )
    assert line == "Agency: Luton schools; to: the JCRG chair, the Business Unit; criteria met: yes"
    assert event_facts({"recommendation": "local_cspr"}, {}, {}) == (
        "Recommendation: local child safeguarding practice review (CSPR)"
    )


def test_a_time_is_said_only_when_it_says_something():
    assert moment(datetime(2026, 1, 2, 17, tzinfo=UTC)) == "Friday 2 January 2026 at 5pm"
    assert moment(datetime(2026, 7, 2, 11, 30, tzinfo=UTC)) == "Thursday 2 July 2026 at 12:30pm"  # BST
    assert moment(datetime(2026, 7, 2, 11, tzinfo=UTC)) == "Thursday 2 July 2026 at midday"
    assert moment(datetime(2026, 1, 2, 0, tzinfo=UTC)) == "Friday 2 January 2026"  # a day, not a time


def test_every_kind_of_event_has_a_name():
    assert set(EventKind) <= set(EVENT_NAMES)
    assert words("local_cspr") == "Local CSPR"
