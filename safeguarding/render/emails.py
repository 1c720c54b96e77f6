"""What a notification says, by email (plain text and HTML) and by webhook (JSON).

Only what the recipient needs: the case reference, what is asked, the due date and a link. Never the
case summary, a decision's reasons or anyone's returns: the recipient signs in for more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from hashlib import sha256
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from safeguarding.store.tables import AgencyRow, NotificationRow

SERVICE = "Safeguarding Learning Loop"
LOCAL_TIME = ZoneInfo("Europe/London")

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates" / "mail"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)

_HEADLINES = {
    "task_assigned": "New task: {title}",
    "task_redated": "Due date set or changed: {title}",
    "task_withdrawn": "No longer needed: {title}",
    "task_completed": "Recorded as done: {title}",
    "decision": "{title}",
    "reminder": "Reminder: {title}",
    "escalation": "Overdue: {title}",
}


def _link(base: str, reference: str) -> str:
    if reference.startswith("ctl-"):  # a closing-the-loop report, filed under its id: open it signed in
        return f"{base}/dashboard/reports/{reference}.pdf"
    if reference.startswith("yearly-"):  # the yearly report's process, shown with the reports
        return f"{base}/dashboard/reports"
    return f"{base}/cases/{reference}"


def local_due(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    local = moment.astimezone(LOCAL_TIME)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


@dataclass
class Item:
    kind: str
    headline: str
    case_reference: str
    task_id: str | None
    asked: str | None
    due: str | None
    due_at: datetime | None
    link: str

    @classmethod
    def of(cls, notification: NotificationRow, public_url: str) -> Item:
        headline = _HEADLINES.get(notification.kind, "{title}").format(title=notification.title or "")
        if notification.kind == "escalation" and notification.number:
            headline += f" (escalation {notification.number})"
        return cls(
            kind=notification.kind,
            headline=headline,
            case_reference=notification.case_reference,
            task_id=notification.task_id,
            asked=notification.asked,
            due=None
            if notification.kind in ("task_withdrawn", "task_completed")
            else local_due(notification.due_at),
            due_at=notification.due_at,
            link=_link(public_url.rstrip("/"), notification.case_reference),
        )


def email(
    *,
    items: list[Item],
    agency: AgencyRow,
    to: str,
    sender: str,
    delivery_key: str,
    digest_day: date | None = None,
) -> EmailMessage:
    """One email: a single notification, or a day's digest of several. The Message-ID comes from the
    delivery's key, so a message sent again after a lost acknowledgement can be recognised as the same."""
    if digest_day is not None:
        subject = f"Daily digest for {agency.name}: {len(items)} notice{'s' if len(items) != 1 else ''}, {digest_day:%d %B %Y}"
        greeting = f"What the partnership asked of {agency.name} since the last digest:"
    else:
        item = items[0]
        subject = f"[{item.case_reference}] {item.headline}"
        if item.due:
            subject += f", due {item.due}"
        greeting = f"For {agency.name}:"
    context = {
        "subject": subject,
        "greeting": greeting,
        "items": items,
        "agency_name": agency.name,
        "service": SERVICE,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(LOCAL_TIME))
    message["Message-ID"] = f"<{sha256(delivery_key.encode()).hexdigest()[:32]}@safeguarding-learning-loop>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_templates.get_template("message.txt").render(context))
    message.add_alternative(_templates.get_template("message.html").render(context), subtype="html")
    return message


def webhook_body(item: Item, notification: NotificationRow, agency: str, delivery: str) -> bytes:
    """The JSON an agency's case system receives (signed: see ``safeguarding/webhooks.py``)."""
    body: dict[str, Any] = {
        "delivery": delivery,
        "event": item.kind,
        "case_reference": item.case_reference,
        "agency": agency,
        "task_id": item.task_id,
        "title": notification.title,
        "asked": item.asked,
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "escalation": notification.number if item.kind == "escalation" else None,
        "link": item.link,
        "created_at": notification.created_at.isoformat(),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
