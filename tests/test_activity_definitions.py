"""Workflows call activities by their definitions (``safeguarding/domain/activities.py``), never by
importing the code that does the I/O: the worker must register an implementation of each, under the
same name, taking and giving the same models; and nothing the worker registers goes undefined."""

from __future__ import annotations

import typing
from datetime import timedelta

from temporalio.activity import _Definition

from activities.delivery import DeliveryActivities, Postroom
from safeguarding.domain.activities import CASE_ACTIVITIES, DELIVERY_ACTIVITIES, ActivityDefinition
from worker import case_activities

POSTROOM = Postroom(
    public_url="http://127.0.0.1:8000",
    smtp_host=None,
    smtp_port=25,
    smtp_username=None,
    smtp_password=None,
    smtp_starttls=False,
    smtp_tls=False,
    mail_from="test@example.invalid",
    first_retry=timedelta(seconds=1),
    give_up_after=timedelta(hours=1),
    webhook_timeout=1.0,
)


def _registered() -> dict[str, typing.Callable]:
    delivery = DeliveryActivities(None, POSTROOM, None)  # type: ignore[arg-type]
    functions = [
        *case_activities(None, POSTROOM, None),  # type: ignore[arg-type]
        delivery.deliver,
        delivery.give_up,
        delivery.prepare_digests,
        delivery.start_waiting_deliveries,
    ]
    return {_Definition.must_from_callable(fn).name: fn for fn in functions}


def _signature(fn: typing.Callable) -> tuple[object, object]:
    hints = typing.get_type_hints(fn)
    returns = hints.pop("return")
    takes = next(iter(hints.values()), None)
    return takes, type(None) if returns is None else returns


def test_every_activity_a_workflow_calls_is_registered_with_the_models_it_was_defined_with():
    registered = _registered()
    definitions: list[ActivityDefinition] = [*CASE_ACTIVITIES, *DELIVERY_ACTIVITIES]
    assert {d.name for d in definitions} == set(registered), (
        "a definition without an implementation, or the reverse"
    )
    for definition in definitions:
        takes, gives = _signature(registered[definition.name])
        assert (takes, gives) == (definition.takes, definition.gives), definition.name
