"""Email through GOV.UK Notify (https://www.notifications.service.gov.uk), as English councils and the
NHS send service email, instead of SMTP: the same message (its subject and plain text) into one Notify
template whose subject is ``((subject))`` and body ``((body))``, by the service's maintained client.

Each delivery is sent under its own reference (the delivery's key, hashed: nothing of the case), and
its record is kept exactly as for SMTP: every attempt and its answer, once sent never again.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

# Notify's answers that no retry will change: the request itself is wrong (a malformed address, a
# template that does not take these fields). A 403 (a key revoked or mistyped) is retried: once the key
# is put right, what waited goes.
_PERMANENT = {400}


class NotifyRefused(Exception):
    """Notify will never take this message as it stands."""


def send(postroom: Any, message: EmailMessage, address: str, reference: str) -> str:
    if not postroom.notify_template_id:
        raise RuntimeError("SLL_NOTIFY_TEMPLATE_ID is not set: the Notify template to send through")
    body = message.get_body(preferencelist=("plain",))
    client = NotificationsAPIClient(postroom.notify_api_key, base_url=postroom.notify_base_url, timeout=30)
    try:
        answer = client.send_email_notification(
            email_address=address,
            template_id=postroom.notify_template_id,
            personalisation={"subject": str(message["Subject"]), "body": body.get_content() if body else ""},
            reference=reference,
        )
    except HTTPError as error:
        status = getattr(error, "status_code", None)
        if status in _PERMANENT:
            raise NotifyRefused(f"GOV.UK Notify refused the message ({status}): {error.message}") from None
        raise RuntimeError(f"GOV.UK Notify did not take the message ({status})") from None
    return f"accepted by GOV.UK Notify as {answer.get('id')}"
