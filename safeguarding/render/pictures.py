"""The dashboard's pictures, drawn on the server as inline SVG: no script, no style attribute (the pages'
Content-Security-Policy allows neither), readable without colour.

Each picture is an ``<svg role="img">`` named by its ``<title>`` and summed up by its ``<desc>``; the page
shows the same figures in a table beside it, for a screen reader and for anyone who wants the numbers.

- ``timeliness_chart``: the share of a measure's deadlines met on time, a bar per quarter (a full-height
  bar is 100%; a quarter with nothing due has no bar and says so).
- ``deadlines_picture``: a case's deadlines on one line of time, each a mark at its due date, with today's
  line. Met, met late, missed and open differ in shape and in the word beside the mark, not only colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from safeguarding.queries.case_timeline import CaseTimeline
from safeguarding.queries.due import DueState
from safeguarding.queries.quarterly_timeliness import MeasureByQuarter

LONDON = ZoneInfo("Europe/London")
FONT = 'font-family="GDS Transport, arial, sans-serif"'
# GOV.UK Frontend's colours (5.x): text, secondary text, mid grey, blue, green, orange, red.
TEXT, SECONDARY, GRID, BLUE, GREEN, ORANGE, RED = (
    "#0b0c0c",
    "#505a5f",
    "#b1b4b6",
    "#1d70b8",
    "#00703c",
    "#f47738",
    "#d4351c",
)


def _svg(name: str, width: int, height: int, title: str, description: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="sll-picture" id="{name}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{name}-title {name}-desc" {FONT}>'
        f'<title id="{name}-title">{escape(title)}</title>'
        f'<desc id="{name}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, size: int = 14, anchor: str = "start", fill: str = TEXT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">'
        f"{escape(text)}</text>"
    )


# ---------------------------------------------------------------- timeliness by quarter


@dataclass(frozen=True)
class QuarterBar:
    starts: date  # the quarter's first day
    ends: date  # its last day
    counted: int
    on_time: int

    @property
    def percent(self) -> int | None:
        return None if self.counted == 0 else round(100 * self.on_time / self.counted)

    @property
    def name(self) -> str:
        """ "April to June 2026"; "January to March 2027"."""
        return f"{self.starts:%B} to {self.ends:%B %Y}"


CHART_WIDTH, CHART_HEIGHT = 640, 250
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 48, 8, 24, 50
PLOT_HEIGHT = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM


def timeliness_chart(name: str, title: str, bars: Sequence[QuarterBar]) -> Markup:
    """A bar per quarter, its height the share met on time, its figure above it and its quarter below."""
    baseline = CHART_TOP + PLOT_HEIGHT
    body = []
    for share in (0, 50, 100):
        y = baseline - PLOT_HEIGHT * share / 100
        body.append(
            f'<line x1="{CHART_LEFT}" y1="{y:.1f}" x2="{CHART_WIDTH - CHART_RIGHT}" y2="{y:.1f}" '
            f'stroke="{TEXT if share == 0 else GRID}" stroke-width="1"/>'
        )
        body.append(_text(CHART_LEFT - 6, y + 5, f"{share}%", size=13, anchor="end", fill=SECONDARY))
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / max(len(bars), 1)
    for index, bar in enumerate(bars):
        middle = CHART_LEFT + slot * (index + 0.5)
        percent = bar.percent
        if percent is None:
            body.append(_text(middle, baseline - 6, "none due", size=12, anchor="middle", fill=SECONDARY))
        else:
            height = PLOT_HEIGHT * percent / 100
            body.append(
                f'<rect class="sll-bar" x="{middle - slot * 0.3:.1f}" y="{baseline - height:.1f}" '
                f'width="{slot * 0.6:.1f}" height="{height:.1f}" fill="{BLUE}">'
                f"<title>{escape(bar.name)}: {bar.on_time} of {bar.counted} on time ({percent}%)</title></rect>"
            )
            body.append(_text(middle, baseline - height - 6, f"{percent}%", size=13, anchor="middle"))
        body.append(
            _text(middle, baseline + 18, f"{bar.starts:%b}\u2013{bar.ends:%b}", size=12, anchor="middle")
        )
        body.append(_text(middle, baseline + 34, f"{bar.ends:%Y}", size=12, anchor="middle", fill=SECONDARY))
    counted = [bar for bar in bars if bar.percent is not None]
    summary = (
        f"The share met on time in each quarter, {bars[0].starts:%B %Y} to {bars[-1].ends:%B %Y}. "
        if bars
        else ""
    )
    if counted:
        last = counted[-1]
        summary += (
            f"Latest with any due, {last.name}: {last.on_time} of {last.counted} on time ({last.percent}%)."
        )
    else:
        summary += "None fell due in these quarters."
    return _svg(name, CHART_WIDTH, CHART_HEIGHT, title, summary, body)


# ---------------------------------------------------------------- a case's deadlines


class Outcome(StrEnum):
    met = "met"
    met_late = "met_late"
    missed = "missed"
    open = "open"


OUTCOME_WORDS = {
    Outcome.met: "Met",
    Outcome.met_late: "Met late",
    Outcome.missed: "Missed",
    Outcome.open: "Open",
}


@dataclass(frozen=True)
class DeadlineMark:
    title: str
    due_at: datetime
    outcome: Outcome


LINE_WIDTH, LANE, LINE_TOP = 760, 34, 30
LABELS_WIDTH, LINE_RIGHT = 300, 70
LONGEST_TITLE = 44
WORD_WIDTH = 7.5  # about the width of a letter of an outcome's word (13px)


def _shape(outcome: Outcome) -> str:
    """The mark, drawn about (0, 0): a circle met, a square met late, a cross missed, a hollow diamond open."""
    if outcome is Outcome.met:
        return f'<circle class="sll-met" r="7" fill="{GREEN}"/>'
    if outcome is Outcome.met_late:
        return f'<rect class="sll-met-late" x="-7" y="-7" width="14" height="14" fill="{ORANGE}"/>'
    if outcome is Outcome.missed:
        return f'<path class="sll-missed" d="M-7,-7 L7,7 M7,-7 L-7,7" stroke="{RED}" stroke-width="4"/>'
    return f'<path class="sll-open" d="M0,-8 L8,0 L0,8 L-8,0 Z" fill="#ffffff" stroke="{BLUE}" stroke-width="3"/>'


def _short(title: str) -> str:
    return title if len(title) <= LONGEST_TITLE else title[: LONGEST_TITLE - 1].rstrip() + "…"


def _day(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%b %Y}"


def deadlines_picture(name: str, title: str, marks: Sequence[DeadlineMark], today: datetime) -> Markup:
    """Each deadline a lane: its title on the left, its mark at its due date on the line of time, the
    outcome's word beside the mark; today a dashed line across every lane."""
    moments = [m.due_at for m in marks] + [today]
    first, last = min(moments), max(moments)
    span = max(last - first, timedelta(days=1))
    first, last = first - span * 0.05, last + span * 0.05
    left, right = LABELS_WIDTH, LINE_WIDTH - LINE_RIGHT

    def x(moment: datetime) -> float:
        return left + (right - left) * ((moment - first) / (last - first))

    height = LINE_TOP + LANE * len(marks) + 40
    bottom = LINE_TOP + LANE * len(marks)
    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{TEXT}" stroke-width="1"/>',
        _text(left, bottom + 20, _day(first), size=12, fill=SECONDARY),
        _text(right, bottom + 20, _day(last), size=12, anchor="end", fill=SECONDARY),
    ]
    now = x(today)
    for lane, mark in enumerate(marks):
        y = LINE_TOP + LANE * lane + LANE / 2
        at = x(mark.due_at)
        word = OUTCOME_WORDS[mark.outcome]
        # The word to the mark's right, unless the picture's edge or today's line is in its way; then to
        # its left, unless today's line is in the way there too.
        room = 12 + WORD_WIDTH * len(word)
        right_clear = at + room <= LINE_WIDTH and not at < now < at + room
        left_clear = at - room >= left and not at - room < now < at
        to_the_right = right_clear or (not left_clear and at + room <= LINE_WIDTH)
        beside = (
            _text(at + 12, y + 5, word, size=13)
            if to_the_right
            else _text(at - 12, y + 5, word, size=13, anchor="end")
        )
        body.append(
            f'<g class="sll-deadline" data-outcome="{mark.outcome.value}">'
            + _text(8, y + 5, _short(mark.title), size=13)
            + f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>'
            + f'<g class="sll-mark" transform="translate({at:.1f} {y:.1f})">{_shape(mark.outcome)}'
            + f"<title>{escape(mark.title)}: due {_day(mark.due_at)}, {word.lower()}</title></g>"
            + beside
            + "</g>"
        )
    body.append(
        f'<line class="sll-today" x1="{now:.1f}" y1="{LINE_TOP - 8}" x2="{now:.1f}" y2="{bottom}" '
        f'stroke="{TEXT}" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    body.append(_text(now, LINE_TOP - 12, f"Today, {_day(today)}", size=13, anchor="middle"))
    counts = {outcome: sum(m.outcome is outcome for m in marks) for outcome in Outcome}
    said = ", ".join(f"{n} {OUTCOME_WORDS[o].lower()}" for o, n in counts.items() if n)
    summary = (
        f"{len(marks)} deadline{'s' if len(marks) != 1 else ''} by due date, from {_day(min(m.due_at for m in marks))} "
        f"to {_day(max(m.due_at for m in marks))}: {said}. Today is {_day(today)}."
        if marks
        else "No deadlines."
    )
    return _svg(name, LINE_WIDTH, height, title, summary, body)


# A deadline's state as the picture shows it; a cancelled one is left out (the table still lists it).
OUTCOMES = {
    DueState.met: Outcome.met,
    DueState.met_late: Outcome.met_late,
    DueState.overdue: Outcome.missed,
    DueState.on_track: Outcome.open,
    DueState.due_soon: Outcome.open,
}


def case_deadlines_picture(case: CaseTimeline, today: datetime) -> Markup:
    """The case page's picture of its deadlines (those not cancelled), soonest due first."""
    owners = {t.task_id: t.agency_name for t in case.tasks}  # a task's deadline by the agency it is asked of
    marks = [
        DeadlineMark(
            (f"{owners.get(d.subject, d.subject)}: " if d.subject else "") + d.title,
            d.due_at,
            OUTCOMES[d.state],
        )
        for d in sorted(case.deadlines, key=lambda d: d.due_at)
        if d.state in OUTCOMES
    ]
    return deadlines_picture(
        "case-deadlines-picture", f"Case {case.reference}: its deadlines against today", marks, today
    )


def measure_chart(partnership: str, measure: MeasureByQuarter) -> Markup:
    """The dashboard's chart of one timeliness measure, quarter by quarter."""
    bars = [QuarterBar(q.starts, q.ends, q.counted, q.on_time) for q in measure.quarters]
    return timeliness_chart(
        f"timeliness-{partnership}-{measure.key}-picture", f"{measure.label}: share on time by quarter", bars
    )
