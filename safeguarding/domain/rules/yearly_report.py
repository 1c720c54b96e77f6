"""The yearly report's rules: its publication and its sending are recorded by the Business Unit, each
on the date it happened, between the end of the reporting year and today. ``check_*`` and ``apply_*``
take ``(file, actor, decision, now)`` as every step's do."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from safeguarding.domain.dates import local_date
from safeguarding.domain.people import Actor
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.yearly_report import PUBLISHED, SENT, ReportPublished, ReportSent, YearlyFile


def met_on(file: YearlyFile, day: date, now: datetime) -> datetime:
    """When a deadline met on ``day`` counts as met: by the end of that working day at the latest."""
    zone = ZoneInfo(file.start.timezone)
    return min(now, datetime(day.year, day.month, day.day, 17, tzinfo=zone))


def check_publication(file: YearlyFile, actor: Actor, step: ReportPublished, now: datetime) -> None:
    today = local_date(now, file.start.timezone)
    if file.published_on is not None:
        raise Refusal(f"the yearly report was published on {file.published_on}")
    if not file.year_end <= step.published_on <= today:
        raise Refusal(
            f"a publication date falls between the end of the year ({file.year_end}) and today ({today})",
            RefusalKind.invalid,
        )


def apply_publication(file: YearlyFile, actor: Actor, step: ReportPublished, now: datetime) -> None:
    """Met when it was published (by the end of that working day), not when it was recorded. The
    workflow has opened the deadline to send it, which starts on that day."""
    file.deadline(PUBLISHED).met_at = met_on(file, step.published_on, now)
    file.published_on = step.published_on
    file.history.append(f"{now.isoformat()} published {step.published_on} by {actor.user_id}")


def check_sending(file: YearlyFile, actor: Actor, step: ReportSent, now: datetime) -> None:
    today = local_date(now, file.start.timezone)
    if file.published_on is None:
        raise Refusal("the yearly report is sent once it is published")
    if not file.published_on <= step.sent_on <= today:
        raise Refusal(
            f"the date it was sent falls between its publication ({file.published_on}) and today",
            RefusalKind.invalid,
        )
    if set(step.to) <= set(file.sent_to):
        raise Refusal(f"already recorded as sent to {sorted(file.sent_to)}")


def apply_sending(file: YearlyFile, actor: Actor, step: ReportSent, now: datetime) -> None:
    """Sent to both the Panel and the DfE, the deadline is met on the day the later of them got it."""
    for recipient in step.to:
        file.sent_dates.setdefault(recipient, step.sent_on)
    file.sent_to = sorted(file.sent_dates)
    file.history.append(f"{now.isoformat()} sent to {step.to} by {actor.user_id}")
    if set(file.sent_to) == {"panel", "dfe"}:
        file.sent_on = max(file.sent_dates.values())
        file.deadline(SENT).met_at = met_on(file, file.sent_on, now)
