"""Sending what the outbox holds: each delivery by its own workflow, each try an activity attempt.

The activity sends one message to one mailbox (over SMTP) or one webhook (signed JSON over HTTP), and
records the attempt and its result before it returns or fails: the case shows every try. A delivery
already sent is not sent again, however often the activity or its workflow runs. The one gap no
protocol closes: a message accepted by the far end whose acceptance is lost on the way back is sent
once more on the retry; it carries the same Message-ID (email) or delivery id (webhook) so the receiver
can tell.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.converter import PayloadCodec
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from activities import notify
from safeguarding.domain.delivery import (
    DELIVERY_WORKFLOW,
    DeliveryOrder,
    DigestBatch,
    GiveUp,
    address_key,
    workflow_key,
)
from safeguarding.platform import webhooks
from safeguarding.platform.codec import unseal
from safeguarding.platform.settings import Settings
from safeguarding.render import emails
from safeguarding.store.tables import AgencyRow, DeliveryAttemptRow, DeliveryRow, NotificationRow

log = structlog.get_logger(__name__)

# Answers that no retry will change: the far end refuses the message itself.
_PERMANENT_HTTP = range(400, 500)

# ...except these: a timeout, too many requests, and a receiver that does not (yet) have the current
# secret (a rotation in progress) or whose clock is off: worth trying again until the give-up time.
_RETRYABLE_HTTP = {401, 403, 408, 425, 429}


@dataclass(frozen=True)
class Postroom:
    """How deliveries are made: the SMTP relay, the sender, links, and the retry schedule."""

    public_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_starttls: bool
    smtp_tls: bool
    mail_from: str
    first_retry: timedelta
    give_up_after: timedelta
    webhook_timeout: float
    # The embedded default calls webhooks anywhere (a receiver on this machine); production only https on
    # public addresses (``webhooks.check_target``).
    webhooks_anywhere: bool = False
    # GOV.UK Notify instead of SMTP when its API key is set (``SLL_NOTIFY_*``).
    notify_api_key: str | None = None
    notify_template_id: str | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"

    @classmethod
    def from_settings(cls, settings: Settings) -> Postroom:
        return cls(
            public_url=settings.public_url,
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_username=settings.smtp_username,
            smtp_password=settings.smtp_password,
            smtp_starttls=settings.smtp_starttls,
            smtp_tls=settings.smtp_tls,
            mail_from=settings.mail_from,
            first_retry=timedelta(seconds=settings.delivery_first_retry_seconds),
            give_up_after=timedelta(hours=settings.delivery_give_up_hours),
            webhook_timeout=settings.webhook_timeout_seconds,
            webhooks_anywhere=settings.create_local_secrets,
            notify_api_key=settings.notify_api_key,
            notify_template_id=settings.notify_template_id,
            notify_base_url=settings.notify_base_url,
        )


class DeliveryStarter:
    """Starts a delivery workflow for each delivery waiting for one. Called by the activities that write
    the outbox, after their transaction commits, and by the periodic sweep for any left behind."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        engine: Engine,
        postroom: Postroom,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.client, self.task_queue, self.engine, self.postroom, self.loop = (
            client,
            task_queue,
            engine,
            postroom,
            loop,
        )

    def start_pending(self, partnership: str | None = None, case_reference: str | None = None) -> int:
        """Start the deliveries not yet started: a case's (of ``partnership``), or every one."""
        query = select(DeliveryRow.id, DeliveryRow.idempotency_key).where(
            DeliveryRow.status == "pending", DeliveryRow.started.is_(False)
        )
        if case_reference is not None:
            query = query.join(NotificationRow, NotificationRow.id == DeliveryRow.notification_id).where(
                NotificationRow.partnership == partnership, NotificationRow.case_reference == case_reference
            )
        with self.engine.connect() as connection:
            waiting = connection.execute(query.order_by(DeliveryRow.id)).all()
        started = 0
        for delivery_id, key in waiting:
            try:
                asyncio.run_coroutine_threadsafe(self.start(delivery_id, key), self.loop).result(timeout=10)
            except Exception as error:  # the outbox holds it; the sweep starts it later
                log.warning("delivery.not_started", delivery_id=delivery_id, error=type(error).__name__)
                break
            with self.engine.begin() as connection:
                connection.execute(
                    update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(started=True)
                )
            started += 1
        return started

    async def start(self, delivery_id: int, key: str) -> None:
        try:
            await self.client.start_workflow(
                DELIVERY_WORKFLOW,
                self.order(delivery_id),
                id=workflow_key(key),
                task_queue=self.task_queue,
                # Once it has run, never again; one stopped by hand may be started anew (the activity
                # checks the delivery's own state first, so nothing goes twice).
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        except WorkflowAlreadyStartedError:
            pass  # started before: one delivery, one workflow

    def order(self, delivery_id: int) -> DeliveryOrder:
        return DeliveryOrder(
            delivery_id=delivery_id,
            first_retry=self.postroom.first_retry,
            give_up_after=self.postroom.give_up_after,
        )


class Undeliverable(Exception):
    """The far end refused the message itself: no retry will help."""


class DeliveryActivities:
    def __init__(
        self,
        engine: Engine,
        postroom: Postroom,
        codec: PayloadCodec | None,
        starter: DeliveryStarter | None = None,
    ) -> None:
        self.engine, self.postroom, self.codec, self.starter = engine, postroom, codec, starter

    @activity.defn
    def deliver(self, delivery_id: int) -> str:
        """Send one delivery once. Raises (and records why) when this attempt failed."""
        with Session(self.engine) as session:
            delivery = session.get_one(DeliveryRow, delivery_id)
            if delivery.status == "sent":
                return "sent before"
            if delivery.status == "failed":
                return "given up before"
            agency = session.get_one(AgencyRow, (delivery.partnership, delivery.agency))
            held: list[int] = []
            if delivery.notification_id is None:  # a digest: every notice held for it
                rows = session.execute(
                    select(NotificationRow, DeliveryRow.id)
                    .join(DeliveryRow, DeliveryRow.notification_id == NotificationRow.id)
                    .where(DeliveryRow.digest_id == delivery.id)
                    .order_by(NotificationRow.id)
                ).all()
                notifications, held = [n for n, _ in rows], [i for _, i in rows]
            else:
                notifications = [session.get_one(NotificationRow, delivery.notification_id)]
            session.expunge_all()
        # The failure's message goes into Temporal's history: the channel and the kind of failure only.
        # The detail (addresses, the far end's answer) stays in the attempt record, on the case.
        try:
            if delivery.channel == "email":
                detail = self._email(delivery, agency, notifications)
            else:
                detail = self._webhook(delivery, agency, notifications[0])
        except Undeliverable as refusal:
            self._record(delivery, "failed", str(refusal), final=True, held=held)
            raise ApplicationError(
                f"{delivery.channel} delivery refused by the far end",
                type="Undeliverable",
                non_retryable=True,
            ) from None
        except Exception as error:  # any other failure is worth another try
            self._record(delivery, "failed", f"{type(error).__name__}: {error}", final=False)
            raise ApplicationError(
                f"{delivery.channel} delivery failed: {type(error).__name__}", type="DeliveryFailed"
            ) from None
        self._record(delivery, "sent", detail, final=True, held=held)
        return detail

    @activity.defn
    def give_up(self, request: GiveUp) -> None:
        """After the last retry: the delivery is recorded as failed, visible on the case."""
        with self.engine.begin() as connection:
            given_up = connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == request.delivery_id, DeliveryRow.status.not_in(["sent", "failed"]))
                .values(status="failed", last_error=request.reason[:2000])
                .returning(DeliveryRow.id)
            ).first()
            if given_up is not None:  # a digest's notices fail with it
                connection.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.digest_id == request.delivery_id, DeliveryRow.status == "digest")
                    .values(status="failed", last_error=request.reason[:2000])
                )
        log.warning("delivery.given_up", delivery_id=request.delivery_id)

    @activity.defn
    def prepare_digests(self, day: date) -> DigestBatch:
        """Gather every notice held for a digest into one delivery per agency mailbox for ``day``."""
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            held = connection.execute(
                select(
                    DeliveryRow.id, DeliveryRow.partnership, DeliveryRow.agency, DeliveryRow.address
                ).where(DeliveryRow.status == "digest", DeliveryRow.digest_id.is_(None))
            ).all()
            # One digest per directory entry and mailbox: an agency serving two partnerships gets each
            # partnership's digest from that partnership.
            groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
            for delivery_id, partnership, agency, address in held:
                groups[(partnership, agency, address)].append(delivery_id)
            for (partnership, agency, address), ids in groups.items():
                # A new digest for whatever is held now; a later run the same day makes another, so
                # nothing is ever attached to a digest already on its way.
                base = f"digest|{agency}@{partnership}|{address_key(address)}|{day.isoformat()}"
                earlier = connection.execute(
                    select(func.count())
                    .select_from(DeliveryRow)
                    .where(DeliveryRow.idempotency_key.like(f"{base}|%"))
                ).scalar_one()
                key = f"{base}|{earlier + 1}"
                digest_id = connection.execute(
                    DeliveryRow.__table__.insert().returning(DeliveryRow.id),
                    {
                        "idempotency_key": key,
                        "notification_id": None,
                        "digest_id": None,
                        "channel": "email",
                        "partnership": partnership,
                        "agency": agency,
                        "address": address,
                        "status": "pending",
                        "created_at": now,
                        "attempts": 0,
                        "started": False,
                    },
                ).scalar_one()
                connection.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id.in_(ids), DeliveryRow.digest_id.is_(None))
                    .values(digest_id=digest_id)
                )
            todays = connection.execute(
                select(DeliveryRow.id, DeliveryRow.idempotency_key).where(
                    DeliveryRow.notification_id.is_(None),
                    DeliveryRow.idempotency_key.like(f"digest|%|{day.isoformat()}|%"),
                    DeliveryRow.status == "pending",
                )
            ).all()
        return DigestBatch(day=day, deliveries=[(i, k) for i, k in todays])

    @activity.defn
    def start_waiting_deliveries(self) -> int:
        """The periodic sweep: start any delivery whose workflow was never started."""
        return self.starter.start_pending() if self.starter is not None else 0

    # ------------------------------------------------------------ channels

    def _email(self, delivery: DeliveryRow, agency: AgencyRow, notifications: list[NotificationRow]) -> str:
        postroom = self.postroom
        if not postroom.smtp_host and not postroom.notify_api_key:
            raise RuntimeError(
                "no SMTP server (SLL_SMTP_HOST) nor GOV.UK Notify (SLL_NOTIFY_API_KEY) is configured"
            )
        items = [emails.Item.of(n, postroom.public_url) for n in notifications]
        digest_day = None
        if delivery.notification_id is None:
            digest_day = date.fromisoformat(delivery.idempotency_key.split("|")[3])
        message = emails.email(
            items=items,
            agency=agency,
            to=delivery.address,
            sender=postroom.mail_from,
            delivery_key=delivery.idempotency_key,
            digest_day=digest_day,
        )
        if postroom.notify_api_key:
            try:
                return notify.send(
                    postroom, message, delivery.address, workflow_key(delivery.idempotency_key)
                )
            except notify.NotifyRefused as refused:
                raise Undeliverable(str(refused)) from None
        smtp_class: Any = smtplib.SMTP_SSL if postroom.smtp_tls else smtplib.SMTP
        try:
            with smtp_class(postroom.smtp_host, postroom.smtp_port, timeout=30) as smtp:
                if postroom.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if postroom.smtp_username:
                    smtp.login(postroom.smtp_username, postroom.smtp_password or "")
                smtp.send_message(message, to_addrs=[delivery.address])
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise Undeliverable(
                    f"the mail server refused {delivery.address}: {refused.recipients}"
                ) from None
            raise  # 4xx: greylisting, a full mailbox for now: try again later
        except smtplib.SMTPResponseException as answer:
            if answer.smtp_code >= 500:
                raise Undeliverable(
                    f"the mail server refused the message: {answer.smtp_code} {answer.smtp_error!r}"
                ) from None
            raise
        return f"accepted by {postroom.smtp_host}:{postroom.smtp_port} as {message['Message-ID']}"

    def _webhook(self, delivery: DeliveryRow, agency: AgencyRow, notification: NotificationRow) -> str:
        if not agency.webhook_secret:
            raise Undeliverable(f"{agency.code} has no webhook secret")
        item = emails.Item.of(notification, self.postroom.public_url)
        delivery_name = workflow_key(delivery.idempotency_key)
        body = emails.webhook_body(item, notification, agency.code, delivery_name)
        headers = webhooks.signed_headers(unseal(self.codec, agency.webhook_secret), body, delivery_name)
        try:
            response = webhooks.post(
                delivery.address,
                body,
                headers,
                self.postroom.webhook_timeout,
                pin=not self.postroom.webhooks_anywhere,
            )
        except webhooks.TargetRefused as refused:
            raise Undeliverable(str(refused)) from None
        # Its status only: what a receiver says in its body (its insides, an internal address) is not kept.
        answer = f"HTTP {response.status_code} from {delivery.address}"
        if response.is_success:
            return answer
        # A redirect is not followed (it could lead inside): the agency's URL needs changing.
        if 300 <= response.status_code < 400:
            raise Undeliverable(f"{answer}: redirects are not followed; set the webhook URL it points to")
        if response.status_code in _PERMANENT_HTTP and response.status_code not in _RETRYABLE_HTTP:
            raise Undeliverable(answer)
        raise RuntimeError(answer)

    # ------------------------------------------------------------ the record of every try

    def _record(
        self, delivery: DeliveryRow, outcome: str, detail: str, *, final: bool, held: list[int] | None = None
    ) -> None:
        """Write the attempt; on the last one, the delivery's outcome, and a digest's on the notices it
        carried (only those it carried: any held since wait for the next digest)."""
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            attempts = connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery.id)
                .values(attempts=DeliveryRow.attempts + 1)
                .returning(DeliveryRow.attempts)
            ).scalar_one()
            connection.execute(
                DeliveryAttemptRow.__table__.insert(),
                {
                    "delivery_id": delivery.id,
                    "number": attempts,
                    "at": now,
                    "outcome": outcome,
                    "detail": detail[:2000],
                },
            )
            values: dict[str, Any] = {"last_error": None if outcome == "sent" else detail[:2000]}
            if final:
                values |= {"status": outcome, "sent_at": now if outcome == "sent" else None}
            connection.execute(update(DeliveryRow).where(DeliveryRow.id == delivery.id).values(**values))
            if final and held:
                connection.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id.in_(held))
                    .values(status=outcome, sent_at=now if outcome == "sent" else None)
                )
        log.info(
            "delivery.attempt",
            delivery_id=delivery.id,
            channel=delivery.channel,
            agency=delivery.agency,
            attempt=attempts,
            outcome=outcome,
        )
