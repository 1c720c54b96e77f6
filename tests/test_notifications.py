"""Partner agencies hear of their work: real SMTP conversations with a local mail server the test starts
(and stops), a real HTTP receiver that checks the webhook signatures, and the daily digest. Each message
once per event, whatever fails on the way."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import email
import email.policy
import json
import re
import socket
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from itertools import chain
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, func, select, update
from standardwebhooks import Webhook, WebhookVerificationError

from activities.delivery import Postroom
from safeguarding.domain.case import InformationRequest
from safeguarding.domain.delivery import DigestRun
from safeguarding.domain.tasks import TaskWithdrawal
from safeguarding.platform import webhooks
from safeguarding.platform.codec import seal
from safeguarding.store.directory import seed
from safeguarding.store.tables import AgencyRow, DeliveryAttemptRow, DeliveryRow, NotificationRow
from tests.conftest import running_worker
from tests.support import BUSINESS_UNIT, by, opening, start_case, view
from worker import delivery_queue
from workflows.delivery import DigestWorkflow
from workflows.incident import CaseWorkflow

# What a busy receiver says about its insides: never kept in the delivery's record.
INTERNAL_DETAIL = "upstream 10.0.7.12:5432 unavailable"
SUMMARY = "Nine month old admitted with a head injury; the mother's partner was caring for her"
ASKED = "Chronology of your contact with the family since January 2025"
PUBLIC_URL = "https://safeguarding.luton.example"
MAILBOXES = {
    "luton-schools": ["dsl@school.example", "office@school.example"],
    "bedfordshire-police": ["mash@police.example"],
    "lscp-business-unit": ["business.unit@lscp.example"],
    "joint-case-review-group": ["jcrg.chair@lscp.example"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailroom:
    """What the local SMTP server was given: one entry per message, with its envelope recipients."""

    received: list[tuple[list[str], Message, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(
            (
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=email.policy.default),
                envelope.content,
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for recipients, message, _ in self.received if address in recipients]


def postroom(smtp_port: int, webhooks_anywhere: bool = True) -> Postroom:
    """As the embedded default has it (webhooks to this machine allowed), or production's."""
    return Postroom(
        public_url=PUBLIC_URL,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_username=None,
        smtp_password=None,
        smtp_starttls=False,
        smtp_tls=False,
        mail_from="LSCP notifications <no-reply@lscp.example>",
        first_retry=timedelta(milliseconds=300),
        give_up_after=timedelta(minutes=30),
        webhook_timeout=5,
        webhooks_anywhere=webhooks_anywhere,
    )


def directory(engine: Engine, **changes: dict) -> None:
    seed(engine)
    with engine.begin() as connection:
        for code, mailboxes in MAILBOXES.items():
            connection.execute(
                update(AgencyRow)
                .where(AgencyRow.partnership == "luton", AgencyRow.code == code)
                .values(mailboxes=mailboxes, **changes.get(code, {}))
            )


async def until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"still waiting after {seconds} s for {what}")


def deliveries(engine: Engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(DeliveryRow.__table__).order_by(DeliveryRow.id)).all()


def attempts(engine: Engine, delivery_id: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return connection.execute(
            select(DeliveryAttemptRow.outcome, DeliveryAttemptRow.detail)
            .where(DeliveryAttemptRow.delivery_id == delivery_id)
            .order_by(DeliveryAttemptRow.number)
        ).all()


def assert_nothing_sensitive(message: Message) -> None:
    """Every header and every decoded part (the raw bytes are quoted-printable, which would hide it)."""
    readable = [str(value) for value in message.values()]
    readable += [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
    for text in readable:
        assert SUMMARY not in text and "mother" not in text and "Returned by phone" not in text, text


def text_of(message: Message) -> str:
    return next(part for part in message.walk() if part.get_content_type() == "text/plain").get_content()


async def test_each_agency_mailbox_gets_its_task_once_though_the_mail_server_was_down(
    env, engine, policy, task_queue
):
    directory(engine)
    port = free_port()
    mailroom = Mailroom()
    smtp = Controller(mailroom, hostname="127.0.0.1", port=port)
    async with running_worker(env.client, engine, task_queue, postroom=postroom(port)):
        case = opening(await env.get_current_time()).model_copy(update={"summary": SUMMARY})
        handle = await start_case(env.client, task_queue, case, policy)
        await handle.execute_update(
            CaseWorkflow.request_information,
            by(
                BUSINESS_UNIT,
                InformationRequest(agencies=["luton-schools", "bedfordshire-police"], asked_for=ASKED),
            ),
        )
        # The mail server is down: every delivery fails, is recorded, and is tried again.
        await until(
            lambda: len(deliveries(engine)) == 3 and all(d.attempts >= 2 for d in deliveries(engine)),
            "three deliveries each tried twice",
        )
        assert all(d.status == "pending" for d in deliveries(engine))
        smtp.start()
        try:
            await until(lambda: all(d.status == "sent" for d in deliveries(engine)), "the deliveries to go")
            # Nothing is sent twice, however long the retries had been running.
            await asyncio.sleep(1.5)
            state = await view(handle)
        finally:
            smtp.stop()

    assert sorted(address for recipients, _, _ in mailroom.received for address in recipients) == sorted(
        MAILBOXES["luton-schools"] + MAILBOXES["bedfordshire-police"]
    )
    due = {t.agency: t.due_at for t in state.tasks}
    for agency in ("luton-schools", "bedfordshire-police"):
        for address in MAILBOXES[agency]:
            (message,) = mailroom.to(address)
            assert message["Subject"].startswith(
                f"[{case.reference}] New task: Information for the rapid review"
            )
            assert message.is_multipart() and {p.get_content_type() for p in message.walk()} >= {
                "text/plain",
                "text/html",
            }
            body = text_of(message)
            local_due = due[agency].astimezone(messages_time_zone())
            assert ASKED in body and f"{local_due.day} {local_due:%B %Y} at 17:00" in body, body
            assert f"{PUBLIC_URL}/cases/{case.reference}" in body
    for _, message, _ in mailroom.received:
        assert_nothing_sensitive(message)
    # Every try is on record: refused connections, then one acceptance.
    for delivery in deliveries(engine):
        tried = attempts(engine, delivery.id)
        assert [outcome for outcome, _ in tried][-1] == "sent" and tried[0][0] == "failed"
        assert [outcome for outcome, _ in tried].count("sent") == 1
        assert "Connection refused" in tried[0][1] or "ConnectionRefused" in tried[0][1]


class FakeNotify:
    """GOV.UK Notify's email endpoint, as its API answers (a fake at a boundary that cannot run here):
    checks the client's signed token with the key's secret, says 500 to the first request (a bad
    moment), then takes each message."""

    SERVICE, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
    KEY = f"sll_test-{SERVICE}-{SECRET}"

    def __init__(self) -> None:
        self.taken: list[dict] = []
        self.turned_away = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v2/notifications/email")
        async def email(request: Request) -> Response:
            token = request.headers["authorization"].removeprefix("Bearer ")
            jwt.decode(token, self.SECRET, algorithms=["HS256"], issuer=self.SERVICE)
            if not self.turned_away:
                self.turned_away += 1
                return Response('{"errors": [{"error": "Exception", "message": "busy"}]}', status_code=500)
            sent = await request.json()
            self.taken.append(sent)
            answer = {"id": str(uuid.uuid4()), "reference": sent.get("reference"), "content": {}}
            return Response(json.dumps(answer), status_code=201, media_type="application/json")

        return app


async def test_through_gov_uk_notify_each_mailbox_gets_its_task_once(env, engine, policy, task_queue):
    directory(engine)
    notify = FakeNotify()
    template = str(uuid.uuid4())
    async with served(notify.app()) as port:
        through_notify = dataclasses.replace(
            postroom(free_port()),
            smtp_host=None,
            notify_api_key=FakeNotify.KEY,
            notify_template_id=template,
            notify_base_url=f"http://127.0.0.1:{port}",
        )
        async with running_worker(env.client, engine, task_queue, postroom=through_notify):
            case = opening(await env.get_current_time()).model_copy(update={"summary": SUMMARY})
            handle = await start_case(env.client, task_queue, case, policy)
            await handle.execute_update(
                CaseWorkflow.request_information,
                by(BUSINESS_UNIT, InformationRequest(agencies=["luton-schools"], asked_for=ASKED)),
            )
            await until(
                lambda: all(d.status == "sent" for d in deliveries(engine)) and notify.taken, "Notify"
            )
            await asyncio.sleep(1.5)  # nothing more comes
    assert sorted(m["email_address"] for m in notify.taken) == sorted(MAILBOXES["luton-schools"])
    for message in notify.taken:
        assert message["template_id"] == template
        assert message["personalisation"]["subject"].startswith(f"[{case.reference}] New task")
        assert ASKED in message["personalisation"]["body"] and SUMMARY not in json.dumps(message)
        assert case.reference not in message["reference"]  # the delivery's key, hashed
    tried = [[outcome for outcome, _ in attempts(engine, d.id)] for d in deliveries(engine)]
    assert sorted(tried) == [["failed", "sent"], ["sent"]]  # the busy moment, once; then each once
    assert all("GOV.UK Notify" in detail for d in deliveries(engine) for _, detail in attempts(engine, d.id))


def messages_time_zone():
    from safeguarding.render.emails import LOCAL_TIME

    return LOCAL_TIME


async def test_escalations_go_to_the_roles_the_policy_names(env, engine, policy, task_queue):
    """An information return left overdue: reminders to the agency, then the escalation to the Business
    Unit and the JCRG chair, each by email to the mailboxes the directory holds for those roles."""
    directory(engine)
    port = free_port()
    mailroom = Mailroom()
    smtp = Controller(mailroom, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        async with running_worker(env.client, engine, task_queue, postroom=postroom(port)):
            handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
            await handle.execute_update(
                CaseWorkflow.request_information,
                by(BUSINESS_UNIT, InformationRequest(agencies=["bedfordshire-police"], asked_for=ASKED)),
            )
            await env.sleep(timedelta(days=10))  # past the 5 working days
            await until(lambda: len(mailroom.received) >= 5, "the reminders and the escalation")
            await asyncio.sleep(1)
    finally:
        smtp.stop()
    subjects = {
        address: [m["Subject"] for m in mailroom.to(address)] for address in chain(*MAILBOXES.values())
    }
    police = subjects["mash@police.example"]
    the_return = "Agency information return for the rapid review"
    assert sum("New task" in s for s in police) == 1
    assert sum(f"Reminder: {the_return}" in s for s in police) == 2
    assert not any("Overdue" in s for s in police)  # the policy escalates to the partnership, not back
    escalation = [s for s in subjects["jcrg.chair@lscp.example"] if the_return in s]
    assert len(escalation) == 1 and f"Overdue: {the_return} (escalation 1)" in escalation[0]
    assert escalation[0] in subjects["business.unit@lscp.example"]
    assert subjects["dsl@school.example"] == []  # not the school's work


async def test_two_partnerships_each_escalate_to_their_own_mailboxes_only(env, engine, policy, task_queue):
    """Luton and Central Bedfordshire on one deployment, each with an information return left overdue
    by Bedfordshire Police (one organisation, an entry in each directory): each partnership's escalation
    reaches its own Business Unit and JCRG chair, and each police mailbox hears of its own partnership's
    task only. The JCRG chair of the one never hears of the other's case."""
    from safeguarding.platform.policy_files import load_policies
    from safeguarding.platform.settings import get_settings

    central_policy = load_policies(get_settings().policy_dir)["central-bedfordshire"]
    seed(engine)
    mailboxes = {
        ("luton", "lscp-business-unit"): "business.unit@lscp.example",
        ("luton", "joint-case-review-group"): "jcrg.chair@lscp.example",
        ("luton", "bedfordshire-police"): "mash@police.example",
        ("central-bedfordshire", "cbscp-business-unit"): "business.unit@cbscp.example",
        ("central-bedfordshire", "joint-case-review-group"): "jcrg.chair@cbscp.example",
        ("central-bedfordshire", "bedfordshire-police"): "central.mash@police.example",
    }
    with engine.begin() as connection:
        for (partnership, code), address in mailboxes.items():
            connection.execute(
                update(AgencyRow)
                .where(AgencyRow.partnership == partnership, AgencyRow.code == code)
                .values(mailboxes=[address])
            )
    port = free_port()
    mailroom = Mailroom()
    smtp = Controller(mailroom, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        async with running_worker(env.client, engine, task_queue, postroom=postroom(port)):
            started = await env.get_current_time()
            luton_case = opening(started).model_copy(update={"reference": "LSCP-ESC-1"})
            central_case = opening(started).model_copy(
                update={"reference": "CBSCP-ESC-1", "partnership": "central-bedfordshire"}
            )
            for case, case_policy in ((luton_case, policy), (central_case, central_policy)):
                handle = await start_case(env.client, task_queue, case, case_policy)
                await handle.execute_update(
                    CaseWorkflow.request_information,
                    by(BUSINESS_UNIT, InformationRequest(agencies=["bedfordshire-police"], asked_for=ASKED)),
                )
            await env.sleep(timedelta(days=10))  # past the 5 working days
            await until(lambda: len(mailroom.received) >= 10, "both partnerships' reminders and escalations")
            await asyncio.sleep(1)
    finally:
        smtp.stop()
    subjects = {address: [m["Subject"] for m in mailroom.to(address)] for address in mailboxes.values()}
    overdue = "Overdue: Agency information return for the rapid review (escalation 1)"
    for partnership, reference, other in (
        ("luton", "LSCP-ESC-1", "CBSCP-ESC-1"),
        ("central-bedfordshire", "CBSCP-ESC-1", "LSCP-ESC-1"),
    ):
        office = "lscp" if partnership == "luton" else "cbscp"
        for who in ("business.unit", "jcrg.chair"):
            heard = subjects[f"{who}@{office}.example"]
            escalations = [s for s in heard if overdue in s]
            assert len(escalations) == 1 and escalations[0].startswith(f"[{reference}] {overdue}"), heard
            assert not any(other in s for s in heard), (who, partnership, heard)
        police = subjects["mash@police.example" if partnership == "luton" else "central.mash@police.example"]
        assert sum(f"[{reference}] New task" in s for s in police) == 1 and not any(
            other in s for s in police
        )
    assert sorted(a for recipients, _, _ in mailroom.received for a in recipients) == sorted(
        a for a in mailboxes.values() for _ in mailroom.to(a)
    )


async def test_a_digest_agency_gets_one_email_a_day(env, engine, policy, task_queue):
    directory(engine, **{"luton-schools": {"digest": True}})
    port = free_port()
    mailroom = Mailroom()
    smtp = Controller(mailroom, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        async with running_worker(env.client, engine, task_queue, postroom=postroom(port)):
            handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
            asked = await handle.execute_update(
                CaseWorkflow.request_information,
                by(
                    BUSINESS_UNIT,
                    InformationRequest(agencies=["luton-schools", "bedfordshire-police"], asked_for=ASKED),
                ),
            )
            school_task = next(t for t in asked.tasks if t.agency == "luton-schools")
            await handle.execute_update(
                CaseWorkflow.withdraw_task,
                by(BUSINESS_UNIT, TaskWithdrawal(task_id=school_task.id, reasons="Not involved after all")),
            )
            await until(lambda: len(mailroom.to("mash@police.example")) == 1, "the police's own email")
            await until(
                lambda: (
                    [d.status for d in deliveries(engine) if d.agency == "luton-schools"] == ["digest"] * 4
                ),
                "the school's notices held for the digest",
            )
            assert mailroom.to("dsl@school.example") == []  # held, not sent one by one

            day = (await env.get_current_time()).date()
            run = DigestRun(
                day=day, first_retry=timedelta(milliseconds=300), give_up_after=timedelta(minutes=5)
            )
            assert (
                await env.client.execute_workflow(
                    DigestWorkflow.run,
                    run,
                    id=f"digest-{task_queue}-1",
                    task_queue=delivery_queue(task_queue),
                )
                == 2
            )
            await until(lambda: len(mailroom.to("office@school.example")) == 1, "the digest")
            # The same day's digest again (a schedule's retry): nothing more.
            assert (
                await env.client.execute_workflow(
                    DigestWorkflow.run,
                    run,
                    id=f"digest-{task_queue}-2",
                    task_queue=delivery_queue(task_queue),
                )
                == 0
            )
            # Something new for the school the same day: a second digest carries it, and only it.
            await handle.execute_update(
                CaseWorkflow.request_information,
                by(
                    BUSINESS_UNIT,
                    InformationRequest(agencies=["luton-schools"], asked_for="Attendance record"),
                ),
            )
            await until(
                lambda: (
                    [d.status for d in deliveries(engine) if d.agency == "luton-schools"].count("digest") == 2
                ),
                "the new notice held",
            )
            assert (
                await env.client.execute_workflow(
                    DigestWorkflow.run,
                    run,
                    id=f"digest-{task_queue}-3",
                    task_queue=delivery_queue(task_queue),
                )
                == 2
            )
            await until(lambda: len(mailroom.to("office@school.example")) == 2, "the second digest")
            await asyncio.sleep(1)
    finally:
        smtp.stop()
    digest, later = mailroom.to("dsl@school.example")
    assert digest["Subject"].startswith("Daily digest for Education settings")
    body = text_of(digest)
    assert "New task: Information for the rapid review" in body and "No longer needed" in body
    assert "Attendance record" not in body and "Attendance record" in text_of(later)
    assert ASKED not in text_of(later)
    for message in (digest, later):
        assert_nothing_sensitive(message)
    assert [d.status for d in deliveries(engine) if d.agency == "luton-schools" and d.notification_id] == [
        "sent"
    ] * 6


# ---------------------------------------------------------------- webhooks


@dataclass
class Receiver:
    """An agency's case system: refuses the first request (it is busy), then checks each signature."""

    secret: str
    accepted: list[dict] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/sll-events")
        async def receive(request: Request) -> Response:
            body = await request.body()
            if not self.refused:
                self.refused.append(503)
                return Response(INTERNAL_DETAIL, status_code=503)
            try:
                # The Standard Webhooks library's own verifier, as any receiver would use it.
                Webhook(self.secret).verify(body, dict(request.headers))
            except WebhookVerificationError:
                self.refused.append(401)
                return Response(status_code=401)
            self.accepted.append({"headers": dict(request.headers), **json.loads(body)})
            return Response(status_code=204)

        return app


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[int]:
    """A stand-in for another system (an agency's receiver, GOV.UK Notify) served on this machine: its port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        await serving


@contextlib.asynccontextmanager
async def serving_webhook(receiver: Receiver, env, engine: Engine) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """The receiver served, and Bedfordshire Police's directory entry pointing at it."""
    async with served(receiver.app()) as port:
        seed(engine)
        with engine.begin() as connection:
            connection.execute(
                update(AgencyRow)
                .where(AgencyRow.code == "bedfordshire-police")
                .values(
                    webhook_url=f"http://127.0.0.1:{port}/sll-events",
                    webhook_secret=seal(env.client.data_converter.payload_codec, receiver.secret),
                )
            )
        yield


async def test_an_agency_webhook_gets_each_event_signed_once_after_a_busy_moment(
    env, engine, policy, task_queue
):
    receiver = Receiver(webhooks.new_secret())
    async with serving_webhook(receiver, env, engine):
        async with running_worker(env.client, engine, task_queue, postroom=postroom(free_port())):
            case = opening(await env.get_current_time()).model_copy(update={"summary": SUMMARY})
            handle = await start_case(env.client, task_queue, case, policy)
            asked = await handle.execute_update(
                CaseWorkflow.request_information,
                by(BUSINESS_UNIT, InformationRequest(agencies=["bedfordshire-police"], asked_for=ASKED)),
            )
            await until(lambda: len(receiver.accepted) == 1, "the webhook")
            await handle.execute_update(
                CaseWorkflow.withdraw_task,
                by(BUSINESS_UNIT, TaskWithdrawal(task_id=asked.tasks[0].id, reasons="Returned by phone")),
            )
            await until(lambda: len(receiver.accepted) == 2, "the second webhook")
            await asyncio.sleep(1)

    assert receiver.refused == [503]  # the busy moment; no request failed its signature check
    first, second = receiver.accepted
    assert (first["event"], second["event"]) == ("task_assigned", "task_withdrawn")
    assert first["case_reference"] == case.reference and first["asked"] == ASKED
    assert first["task_id"] == asked.tasks[0].id and first["due_at"] is not None
    assert first["link"] == f"{PUBLIC_URL}/cases/{case.reference}"
    assert all(SUMMARY not in json.dumps(event) for event in receiver.accepted)
    webhook = [d for d in deliveries(engine) if d.channel == "webhook"]
    assert [d.status for d in webhook] == ["sent", "sent"]
    assert [o for o, _ in attempts(engine, webhook[0].id)] == ["failed", "sent"]
    assert "HTTP 503" in attempts(engine, webhook[0].id)[0][1]
    assert INTERNAL_DETAIL not in attempts(engine, webhook[0].id)[0][1]  # what it answered is not kept
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(NotificationRow)).scalar_one() == 2


async def the_police_webhooks_one_attempt(env, engine, policy, task_queue, receiver: Receiver, post) -> tuple:  # type: ignore[no-untyped-def]
    """A case asks Bedfordshire Police (whose webhook is ``receiver``) for information; its webhook
    delivery fails at once: that one attempt's outcome and detail."""
    async with serving_webhook(receiver, env, engine):
        async with running_worker(env.client, engine, task_queue, postroom=post):
            case = opening(await env.get_current_time())
            handle = await start_case(env.client, task_queue, case, policy)
            await handle.execute_update(
                CaseWorkflow.request_information,
                by(BUSINESS_UNIT, InformationRequest(agencies=["bedfordshire-police"], asked_for=ASKED)),
            )
            webhook = lambda: [d for d in deliveries(engine) if d.channel == "webhook"]  # noqa: E731
            await until(lambda: bool(webhook()) and webhook()[0].status == "failed", "the refusal")
    (attempt,) = attempts(engine, webhook()[0].id)  # failed once, not tried again
    return attempt


async def test_in_production_a_webhook_to_this_machine_is_refused_and_never_called(
    env, engine, policy, task_queue
):
    receiver = Receiver(webhooks.new_secret())
    receiver.refused.append(0)  # not busy: any request it got would be accepted
    production = postroom(free_port(), webhooks_anywhere=False)
    outcome, detail = await the_police_webhooks_one_attempt(
        env, engine, policy, task_queue, receiver, production
    )
    assert receiver.accepted == [] and receiver.refused == [0]  # never called
    assert outcome == "failed" and "must be https" in detail


@dataclass
class Redirecting(Receiver):
    """An agency's receiver that answers every request with a redirect (towards the cloud's metadata)."""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/sll-events")
        async def elsewhere() -> Response:
            self.refused.append(308)
            return Response(status_code=308, headers={"Location": "http://169.254.169.254/latest/meta-data"})

        return app


async def test_a_webhook_answered_with_a_redirect_is_recorded_undeliverable_at_once(
    env, engine, policy, task_queue
):
    """A redirect is never followed (it could lead inside): the delivery fails at once with the reason,
    rather than being retried against the same answer."""
    receiver = Redirecting(webhooks.new_secret())
    outcome, detail = await the_police_webhooks_one_attempt(
        env, engine, policy, task_queue, receiver, postroom(free_port())
    )
    assert receiver.refused == [308]  # asked once, the redirect not followed
    assert outcome == "failed" and "HTTP 308" in detail and "redirects are not followed" in detail


def test_a_webhook_goes_only_to_https_on_a_public_address():
    for url, reason in [
        ("http://agency.example.org/hook", "must be https"),
        ("https://127.0.0.1/hook", "not public (127.0.0.1)"),
        ("https://localhost:8443/hook", "not public"),
        ("https://169.254.169.254/latest/meta-data", "not public (169.254.169.254)"),
        ("https://10.20.30.40/hook", "not public (10.20.30.40)"),
        ("https://192.168.1.10/hook", "not public"),
        ("https://[::1]/hook", "not public (::1)"),
        ("https://[fe80::1]/hook", "not public"),
    ]:
        with pytest.raises(webhooks.TargetRefused, match=re.escape(reason)):
            webhooks.check_target(url)
    webhooks.check_target("https://93.184.216.34/hook")  # a public address: allowed (no name to resolve)


def test_the_receivers_check_refuses_a_tampered_body_a_stale_timestamp_and_a_replay():
    secret = webhooks.new_secret()
    body = b'{"event":"task_assigned","case_reference":"LSCP-2026-014"}'
    headers = webhooks.signed_headers(secret, body, "delivery-1")
    assert set(headers) >= {"webhook-id", "webhook-timestamp", "webhook-signature"}

    webhooks.verify(secret, headers, body)  # genuine: fine
    Webhook(secret).verify(body, headers)  # and by the library itself

    with pytest.raises(webhooks.WebhookRejected, match="No matching signature"):
        webhooks.verify(secret, headers, body.replace(b"014", b"015"))
    with pytest.raises(webhooks.WebhookRejected, match="No matching signature"):
        webhooks.verify(webhooks.new_secret(), headers, body)
    # The same request captured and sent again an hour later.
    hour_ago = webhooks.signed_headers(secret, body, "delivery-1", now=time.time() - 3600)
    with pytest.raises(webhooks.WebhookRejected, match="too old"):
        webhooks.verify(secret, hour_ago, body)
    # A fresh timestamp pasted onto the old signature does not verify either.
    with pytest.raises(webhooks.WebhookRejected, match="No matching signature"):
        webhooks.verify(
            secret, {**hour_ago, webhooks.TIMESTAMP_HEADER: headers[webhooks.TIMESTAMP_HEADER]}, body
        )
    # A receiver that remembers the deliveries it processed refuses the second copy.
    seen: set[str] = set()
    webhooks.verify(secret, headers, body, seen=seen)
    with pytest.raises(webhooks.WebhookRejected, match="received before"):
        webhooks.verify(secret, headers, body, seen=seen)
    with pytest.raises(webhooks.WebhookRejected, match="Missing required headers"):
        webhooks.verify(secret, {}, body)


def test_a_secret_made_before_standard_webhooks_still_signs_with_its_own_text():
    legacy = "a-shared-secret-the-agency-keeps-in-its-vault"
    body = b'{"event":"task_assigned"}'
    headers = webhooks.signed_headers(legacy, body, "delivery-2")
    Webhook(legacy.encode()).verify(body, headers)  # the receiver passes the text's bytes


# ---------------------------------------------------------------- the embedded default's mail, the seed


def test_the_local_mail_server_keeps_each_message_where_a_person_can_read_it(tmp_path):
    import mailbox
    import smtplib
    from email.message import EmailMessage

    from safeguarding.dev.local_mail import serve

    port = free_port()
    server = serve(port, tmp_path / "mail")
    try:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = (
            "[LSCP-1] New task",
            "a@lscp.example",
            "b@x.example",
        )
        message.set_content("Asked: a chronology")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
    finally:
        server.stop()
    (kept,) = list(mailbox.Maildir(tmp_path / "mail", create=False))
    assert kept["Subject"] == "[LSCP-1] New task" and kept["X-Envelope-To"] == "b@x.example"
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1  # one plain file per message


def test_the_default_directory_holds_every_agency_the_partnership_names():
    """The relevant agencies listed in the partnership's own arrangements are all in the seed."""
    from pathlib import Path

    from safeguarding.store.directory import DIRECTORIES, load_seed

    arrangements = (
        Path(__file__).resolve().parents[2] / "shared" / "seeds" / "luton-masa-arrangements-2024-25.txt"
    )
    if not arrangements.exists():
        pytest.skip(f"the partnership's arrangements are not at {arrangements}")
    text = arrangements.read_text(encoding="utf-8")
    listed = text.split(
        "relevant agencies of the Luton Multi Agency Safeguarding Arrangements are listed below."
    )[1]
    listed = listed.split("Luton Safeguarding Children Partnership will continue")[0]
    names = [line.removeprefix("- ").strip() for line in listed.splitlines() if line.startswith("- ")]
    assert len(names) == 11
    seeded = " | ".join(entry.name for entry in load_seed(DIRECTORIES / "luton.yaml").agencies).lower()
    for name, key in zip(
        names,
        [
            "education",
            "fire and rescue",
            "hospitals",
            "probation",
            "cafcass",
            "cambridgeshire community",
            "work and pensions",
            "east london",
            "border",
            "independent scrutineer",
            "voluntary",
        ],
        strict=True,
    ):
        assert key in name.lower() and key in seeded, name


def test_access_logs_never_keep_a_calendar_token():
    import logging

    from safeguarding.platform.logs import RedactFeedTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/calendar/s3cr3t-t0ken.ics", "1.1", 200),
        None,
    )
    assert RedactFeedTokens().filter(record)
    assert "s3cr3t" not in record.getMessage() and "/calendar/<redacted>.ics" in record.getMessage()


class Refuser:
    """A mail server that knows no such mailbox: a permanent refusal."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return "550 5.1.1 No such mailbox here"


async def test_a_mailbox_the_server_refuses_is_recorded_as_failed_at_once(env, engine, policy, task_queue):
    directory(engine)
    port = free_port()
    smtp = Controller(Refuser(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        async with running_worker(env.client, engine, task_queue, postroom=postroom(port)):
            handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
            await handle.execute_update(
                CaseWorkflow.request_information,
                by(BUSINESS_UNIT, InformationRequest(agencies=["bedfordshire-police"], asked_for=ASKED)),
            )
            await until(lambda: [d.status for d in deliveries(engine)] == ["failed"], "the refusal")
            await asyncio.sleep(1.5)  # and no retry follows
    finally:
        smtp.stop()
    (delivery,) = deliveries(engine)
    tried = attempts(engine, delivery.id)
    assert len(tried) == 1 and tried[0][0] == "failed" and "550" in tried[0][1]
    assert "No such mailbox" in delivery.last_error


def test_a_webhook_goes_to_the_address_checked_not_to_its_name_resolved_again(monkeypatch):
    """DNS rebinding: the name answers a public address for the check and this host's a moment later.
    The request is sent to the address checked; the name is not looked up again."""
    asked: list[str] = []
    connected: list[tuple[str, int]] = []

    def rebinding(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(host)
        address = "93.184.216.34" if asked.count("hook.example") == 1 else "127.0.0.1"
        if host not in ("hook.example", address):
            address = host  # an address literal resolves to itself
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def refused(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        connected.append(address)
        raise ConnectionRefusedError("the test connects nowhere")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", refused)
    with pytest.raises(httpx.ConnectError):
        webhooks.post("https://hook.example/sll", b"{}", {}, 2.0, pin=True)
    assert connected == [("93.184.216.34", 443)]
    assert asked.count("hook.example") == 1
    # Asked again now, the name answers this host's address: refused, before anything is sent.
    with pytest.raises(webhooks.TargetRefused, match="not public"):
        webhooks.pinned("https://hook.example:8443/sll?x=1")


def _certificate_for(name: str, tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A test certificate authority and a server certificate for ``name``: (the server's context, a
    client's context trusting only that authority)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def made(subject: str, key, issuer, signer, *, ca: bool, dns: str | None = None):  # type: ignore[no-untyped-def]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if dns:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority = made(
        "Test CA", ca_key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]), ca_key, ca=True
    )
    leaf = made(name, key, authority.subject, ca_key, ca=False, dns=name)
    pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    (tmp_path / "server.pem").write_bytes(
        pem(leaf)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "server.pem")
    client = ssl.create_default_context(cadata=pem(authority).decode())
    return server, client


def test_a_pinned_webhook_keeps_its_name_for_tls_and_the_host_header(monkeypatch, tmp_path):
    """Sent to the address, the request still names the host: the certificate is checked against the
    name (SNI), and the receiver sees its own name in Host. (The receiver runs on this host, so the
    public-address rule, tested above, is set aside here.)"""
    import http.server
    import threading

    server_tls, client_tls = _certificate_for("hook.example", tmp_path)
    seen: dict[str, str] = {}

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["host"] = self.headers["Host"]
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"])).decode()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    httpd.socket = server_tls.wrap_socket(httpd.socket, server_side=True)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "hook.example" else host, *a, **k),
    )
    monkeypatch.setattr(webhooks, "public", lambda address: True)
    try:
        answer = webhooks.post(
            f"https://hook.example:{port}/sll", b'{"ok": 1}', {}, 5.0, pin=True, verify=client_tls
        )
        assert answer.status_code == 204
        assert seen == {"host": f"hook.example:{port}", "body": '{"ok": 1}'}
        # Another name on the same address: its certificate does not match, and nothing is sent.
        monkeypatch.setattr(
            socket,
            "getaddrinfo",
            lambda host, *a, **k: real("127.0.0.1" if host == "other.example" else host, *a, **k),
        )
        seen.clear()
        with pytest.raises(httpx.ConnectError, match=r"certificate|hostname"):
            webhooks.post(f"https://other.example:{port}/sll", b"{}", {}, 5.0, pin=True, verify=client_tls)
        assert seen == {}
    finally:
        httpd.shutdown()


def test_a_webhook_tries_each_address_its_name_has_in_the_resolvers_order(monkeypatch):
    """A receiver with an IPv6 and an IPv4 address, on a network with no IPv6 route: the next address is
    tried, as a client does, never an address that was not checked. A user and password in the URL go as
    Basic authorization, and an IPv6 host is written in brackets."""
    connected: list[tuple[str, int]] = []

    def resolved(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "hook.example":
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", port, 0, 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            ]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]

    def refused(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        connected.append(address[:2])
        raise ConnectionRefusedError("no route")

    monkeypatch.setattr(socket, "getaddrinfo", resolved)
    monkeypatch.setattr(socket, "create_connection", refused)
    with pytest.raises(httpx.ConnectError):
        webhooks.post("https://hook.example/sll", b"{}", {}, 2.0, pin=True)
    assert connected == [("2606:2800:220:1::1", 443), ("93.184.216.34", 443)]

    target = webhooks.pinned("https://agency:s%40cret@hook.example:8443/sll?x=1")
    assert target.urls == (
        "https://[2606:2800:220:1::1]:8443/sll?x=1",
        "https://93.184.216.34:8443/sll?x=1",
    )
    assert (target.host_header, target.tls_name) == ("hook.example:8443", "hook.example")
    assert target.authorization == "Basic " + base64.b64encode(b"agency:s@cret").decode()
    literal = webhooks.pinned("https://[2606:2800:220:1::1]/sll")
    assert literal.host_header == "[2606:2800:220:1::1]" and literal.authorization is None
