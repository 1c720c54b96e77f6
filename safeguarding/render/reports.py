"""The reports as one accessible HTML page (Jinja2) and a tagged PDF (WeasyPrint, imported only when a
PDF is made).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from safeguarding.domain.policy import DEFAULT_THEMES, theme_label
from safeguarding.domain.reporting import long_date, period_words
from safeguarding.queries.closing_the_loop import ClosingTheLoop
from safeguarding.queries.yearly_figures import YearlyFigures

KIND_LABELS = {
    "local_cspr": "local child safeguarding practice review (CSPR)",
    "other_review": "another type of review",
    "national_review": "national review (local duties)",
    "local_learning_review": "local learning review",
    "rapid_review": "rapid review (its immediate learning)",
    "other_area_review": "another area's review",
    "safeguarding_adults_review": "Safeguarding Adults Review",
    "domestic_abuse_related_death_review": "domestic abuse related death review",
    "thematic_review": "thematic review",
    "audit": "audit",
    "joint_cspr_sar": "joint CSPR and Safeguarding Adults Review",
    "learning_from_elsewhere": "learning from elsewhere (another area's or a national review, an audit, a SAR, a DARDR)",
}

_STATUS_LABELS = {
    "open": "Open",
    "completed": "Completed",
    "completed_pending_audit": "Completed, assurance pending audit",
    "withdrawn": "Withdrawn",
}

_SOURCE_LABELS = {
    "rapid_review": "rapid review",
    "local_cspr": "local CSPR",
    "other_review": "another type of review",
    "national_review": "national review",
    "local_learning_review": "local learning review",
    "other_area_review": "another area's review",
    "safeguarding_adults_review": "Safeguarding Adults Review",
    "domestic_abuse_related_death_review": "domestic abuse related death review",
    "thematic_review": "thematic review",
    "audit": "audit",
}

RECIPIENT_LABELS = {
    "owning_agency": "the owning agency",
    "business_unit": "the Business Unit",
    "jcrg_chair": "the JCRG chair",
    "jcrg_member": "the JCRG",
    "independent_scrutineer": "the Independent Scrutineer",
    "safeguarding_partner": "the safeguarding partners",
    "manager": "managers",
    "partner_agency": "the partner agency",
}

_ROUTE_LABELS = {
    "agency_referral": "Agency referrals",
    "cdop_referral": "Referrals from the Child Death Overview Panel",
}


def _words(value: str | None) -> str:
    return "" if value is None else value.replace("_", " ")


def _css_string(text: str) -> Any:
    """Text as a quoted CSS string (the PDF's running headers): every character that could end the
    string or the style element escaped."""
    from markupsafe import Markup

    escaped = "".join(c if c.isalnum() or c in " .,:;-()'" else f"\\{ord(c):x} " for c in str(text))
    return Markup(f'"{escaped}"')


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates" / "reports"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        words=_words,
        kind=lambda k: KIND_LABELS.get(k, _words(k)),
        status=lambda s: _STATUS_LABELS.get(s, _words(s)),
        recipients=lambda names: ", ".join(RECIPIENT_LABELS.get(n, _words(n)) for n in names),
        route=lambda r: _ROUTE_LABELS.get(r, _words(r)),
        source=lambda s: _SOURCE_LABELS.get(s, _words(s)),
        css_string=_css_string,
    )
    return environment


def render_html(figures: ClosingTheLoop | YearlyFigures, *, made_at: datetime | None = None) -> str:
    """The report as one accessible HTML page (its print styles lay out the PDF)."""
    zone = ZoneInfo(figures.timezone)

    def day(moment: date | datetime | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, datetime):
            moment = moment.astimezone(zone).date()
        return long_date(moment)

    def short_day(moment: datetime) -> str:
        local = moment.astimezone(zone)
        return f"{local.day} {local:%b %Y}"

    def moment_words(moment: datetime) -> str:
        """A cut-off at midnight reads as the end of the day before: "the end of 30 September 2026"."""
        local = moment.astimezone(zone)
        if local.time() == time(0):
            return f"the end of {long_date(local.date() - timedelta(days=1))}"
        return f"{long_date(local.date())} at {local:%H:%M}"

    environment = _environment()
    labels = figures.theme_labels or DEFAULT_THEMES
    environment.filters.update(
        day=day, short_day=short_day, moment=moment_words, theme=lambda theme: theme_label(theme, labels)
    )
    made = (made_at or datetime.now(UTC)).astimezone(zone)
    if isinstance(figures, ClosingTheLoop):
        template = environment.get_template("closing_the_loop.html")
        title = f"Closing the loop: {period_words(figures.period_start, figures.period_end)}"
    else:
        template = environment.get_template("yearly_figures.html")
        title = f"Yearly report figures: {period_words(figures.year_start, figures.year_end)}"
    return template.render(
        figures=figures,
        title=title,
        partnership=figures.partnership_name or figures.partnership,
        made=f"{long_date(made.date())} at {made:%H:%M}",
    )


def render_pdf(html: str) -> bytes:
    """The page as a tagged PDF (PDF/UA), for readers that use assistive technology."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf(pdf_variant="pdf/ua-1")
