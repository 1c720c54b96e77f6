"""The dashboard's pictures, read back as SVG: where each bar and mark falls, and what the picture says
to someone who cannot see it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

from safeguarding.render.pictures import (
    CHART_TOP,
    PLOT_HEIGHT,
    DeadlineMark,
    Outcome,
    QuarterBar,
    deadlines_picture,
    timeliness_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
TODAY = datetime(2026, 11, 30, 12, tzinfo=UTC)


def parsed(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def quarter(starts: date, counted: int, on_time: int) -> QuarterBar:
    after = starts.month + 2  # the quarter's next month, counted from 0
    ends = date(starts.year + after // 12, after % 12 + 1, 1) - timedelta(days=1)
    return QuarterBar(starts=starts, ends=ends, counted=counted, on_time=on_time)


def bars_of(svg: ElementTree.Element) -> list[ElementTree.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "sll-bar"]


def marks_of(svg: ElementTree.Element) -> list[tuple[float, str]]:
    """Each deadline's mark: where it is across, and its outcome."""
    found = []
    for lane in svg.iter(f"{SVG}g"):
        if lane.get("class") == "sll-deadline":
            mark = next(g for g in lane.iter(f"{SVG}g") if g.get("class") == "sll-mark")
            across = float(re.match(r"translate\(([\d.]+) ", mark.get("transform", "")).group(1))
            found.append((across, lane.get("data-outcome")))
    return found


def test_a_quarter_all_on_time_draws_a_full_height_bar_and_a_third_on_time_a_third_of_it():
    svg = parsed(
        timeliness_chart(
            "rapid", "Rapid reviews", [quarter(date(2026, 4, 1), 3, 3), quarter(date(2026, 7, 1), 3, 1)]
        )
    )
    full, third = bars_of(svg)
    assert float(full.get("height")) == PLOT_HEIGHT and float(full.get("y")) == CHART_TOP
    assert abs(float(third.get("height")) - PLOT_HEIGHT / 3) < 1
    # Both stand on the same baseline, the later quarter to the right.
    assert float(full.get("y")) + float(full.get("height")) == float(third.get("y")) + float(
        third.get("height")
    )
    assert float(third.get("x")) > float(full.get("x"))


def test_a_quarter_with_nothing_due_has_no_bar_and_says_so():
    svg = parsed(
        timeliness_chart("cspr", "CSPRs", [quarter(date(2026, 1, 1), 0, 0), quarter(date(2026, 4, 1), 2, 1)])
    )
    assert len(bars_of(svg)) == 1
    assert "none due" in [t.text for t in svg.iter(f"{SVG}text")]


def test_the_chart_is_an_image_named_by_its_title_and_summed_up_by_its_description():
    markup = timeliness_chart(
        "rapid",
        "Rapid reviews sent on time",
        [quarter(date(2026, 4, 1), 4, 3), quarter(date(2026, 7, 1), 0, 0)],
    )
    svg = parsed(markup)
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "rapid-title rapid-desc"
    assert svg.find(f"{SVG}title").text == "Rapid reviews sent on time"
    description = svg.find(f"{SVG}desc").text
    assert "April to June 2026: 3 of 4 on time (75%)" in description
    assert "style=" not in markup and "<script" not in markup  # the pages' CSP allows neither


def test_a_later_deadline_is_further_right_and_each_outcome_has_its_own_shape_and_word():
    marks = [
        DeadlineMark("Notify the Panel", TODAY - timedelta(days=20), Outcome.met),
        DeadlineMark("Information return", TODAY - timedelta(days=10), Outcome.met_late),
        DeadlineMark("Rapid review to the Panel", TODAY - timedelta(days=2), Outcome.missed),
        DeadlineMark("Written confirmation", TODAY + timedelta(days=5), Outcome.open),
    ]
    markup = deadlines_picture("case", "Case LSCP-2026-101: its deadlines", marks, TODAY)
    svg = parsed(markup)
    placed = marks_of(svg)
    assert [outcome for _, outcome in placed] == ["met", "met_late", "missed", "open"]
    across = [x for x, _ in placed]
    assert across == sorted(across) and len(set(across)) == 4
    # Not by colour alone: a different shape for each, and its word beside it.
    shapes = {
        re.search(r'class="sll-(met|met-late|missed|open)"', markup[m.start() :]).group(1)
        for m in re.finditer("sll-mark", markup)
    }
    assert shapes == {"met", "met-late", "missed", "open"}
    words = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"Met", "Met late", "Missed", "Open"} <= set(words)


def test_todays_line_falls_between_the_deadlines_before_and_after_it():
    marks = [
        DeadlineMark("Past", TODAY - timedelta(days=3), Outcome.missed),
        DeadlineMark("Future", TODAY + timedelta(days=3), Outcome.open),
    ]
    svg = parsed(deadlines_picture("case", "Its deadlines", marks, TODAY))
    today = next(line for line in svg.iter(f"{SVG}line") if line.get("class") == "sll-today")
    (past, _), (future, _) = marks_of(svg)
    assert past < float(today.get("x1")) < future
    assert abs(float(today.get("x1")) - (past + future) / 2) < 1  # today is halfway in time
    assert "Today, 30 Nov 2026" in [t.text for t in svg.iter(f"{SVG}text")]
    assert svg.find(f"{SVG}desc").text.endswith("1 missed, 1 open. Today is 30 Nov 2026.")


def test_a_case_without_deadlines_still_draws_today_and_says_there_are_none():
    svg = parsed(deadlines_picture("case", "Its deadlines", [], TODAY))
    assert marks_of(svg) == [] and svg.find(f"{SVG}desc").text == "No deadlines."


def test_an_outcomes_word_is_not_written_across_todays_line():
    """As on a case whose last deadline falls just after today, at the picture's right end, and another
    just before it: each word goes to whichever side today's line leaves free."""
    marks = [
        DeadlineMark("First", TODAY - timedelta(days=16), Outcome.met),
        DeadlineMark("Just before", TODAY - timedelta(hours=20), Outcome.missed),
        DeadlineMark("Just after", TODAY + timedelta(hours=20), Outcome.open),
    ]
    svg = parsed(deadlines_picture("case", "Its deadlines", marks, TODAY))
    today = float(next(line for line in svg.iter(f"{SVG}line") if line.get("class") == "sll-today").get("x1"))
    for lane in (g for g in svg.iter(f"{SVG}g") if g.get("class") == "sll-deadline"):
        word = next(t for t in lane.iter(f"{SVG}text") if t.text in {"Met", "Missed", "Open"})
        x, width = float(word.get("x")), 7.5 * len(word.text)
        starts, ends = (x - width, x) if word.get("text-anchor") == "end" else (x, x + width)
        assert not starts < today < ends, (word.text, starts, today, ends)
        assert 0 <= starts and ends <= 760
