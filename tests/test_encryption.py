"""Nothing sensitive sits in plain text in Temporal's history: every payload is encrypted, the service
still reads it, and keys rotate without losing what older keys wrote."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter

from safeguarding.domain.case import Recommendation, RecommendationKind
from safeguarding.platform.codec import ENCODING, KEY_ID, data_converter
from tests.conftest import TEST_KEYS, running_worker
from tests.support import JCRG_CHAIR, by, opening, start_case, view
from workflows.incident import CaseWorkflow

TIMER_SUMMARIES = {'"read model catch-up"', '"next reminder, due time or checkpoint"'}
SUMMARY = "Unexplained fractures in a seven week old infant"
REASONS = "Practitioners did not share the bruising seen at the health visit"


def payloads_in(message: Message) -> list[Payload]:
    """Every Payload anywhere in a history event, however deep."""
    found = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif getattr(field, "is_repeated", False) or getattr(field, "label", None) == 3:
            items = list(value)
        else:
            items = [value]
        for item in items:
            if isinstance(item, Payload):
                found.append(item)
            elif isinstance(item, Message):
                found.extend(payloads_in(item))
    return found


# What the SDK's markers carry of its own (not case data, not passed through any codec): a patch's change
# id, and a local activity's bookkeeping (its sequence, attempt, type). Its "result" is ours.
SDK_MARKER_DETAILS = {"patch-data", "data"}


async def raw_payloads(client: Client, workflow_id: str) -> tuple[list[Payload], list[Payload]]:
    """The payloads of the case's data as the server stores them, and the SDK's own marker payloads.

    Left out, being no case data and not passed through any codec: search attribute values (stage,
    partnership: non-identifying by design), and the fixed summaries our timers carry in user_metadata
    (checked to be exactly those).
    """
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    ours, sdk = [], []
    for event in history.events:
        if event.WhichOneof("attributes") == "upsert_workflow_search_attributes_event_attributes":
            continue
        for summary in payloads_in(event.user_metadata):
            assert summary.metadata.get("encoding") == ENCODING or summary.data.decode() in TIMER_SUMMARIES
        event.ClearField("user_metadata")
        if event.WhichOneof("attributes") == "marker_recorded_event_attributes":
            for name, payloads in event.marker_recorded_event_attributes.details.items():
                (sdk if name in SDK_MARKER_DETAILS else ours).extend(payloads.payloads)
            continue
        ours.extend(payloads_in(event))
    return ours, sdk


async def test_the_history_on_the_server_holds_no_summary_or_reason_in_plain_text(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        case = opening(await env.get_current_time()).model_copy(update={"summary": SUMMARY})
        handle = await start_case(env.client, task_queue, case, policy)
        await handle.execute_update(
            CaseWorkflow.recommend,
            by(
                JCRG_CHAIR,
                Recommendation(
                    recommendation=RecommendationKind.other_review,
                    review_type="multi_agency_audit",
                    reasons=REASONS,
                ),
            ),
        )
        # The service, with the keys, reads the case as it is.
        state = await view(handle)
        assert state.summary == SUMMARY and state.rapid_review.recommendation.reasons == REASONS

    payloads, sdk_markers = await raw_payloads(env.client, handle.id)
    # The input, the update and its result, the local activities' results (due dates, read-model writes).
    assert len(payloads) >= 6
    for payload in payloads:
        assert payload.metadata["encoding"] == ENCODING, (payload.metadata, payload.data[:100])
        assert payload.metadata[KEY_ID] == b"test-k1"
        for secret in (SUMMARY, REASONS, case.reference):
            assert secret.encode() not in payload.data
    assert sdk_markers  # the patch and the local activities' bookkeeping: plain, and nothing of the case
    for payload in sdk_markers:
        for secret in (SUMMARY, REASONS, case.reference):
            assert secret.encode() not in payload.data


async def test_keys_rotate_and_the_old_key_still_reads_what_it_wrote(env, engine, policy, task_queue):
    rotated = TEST_KEYS.rotated("test-k2")
    async with running_worker(env.client, engine, task_queue, cache=0):
        handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)

    # The worker and the client now encrypt with k2, and keep k1 to read the case's earlier history.
    target = env.client.service_client.config.target_host
    client = await Client.connect(target, data_converter=data_converter(rotated))
    async with running_worker(client, engine, task_queue):
        rotated_handle = client.get_workflow_handle_for(CaseWorkflow.run, handle.id)
        await rotated_handle.execute_update(
            CaseWorkflow.recommend,
            by(
                JCRG_CHAIR,
                Recommendation(
                    recommendation=RecommendationKind.other_review,
                    review_type="multi_agency_audit",
                    reasons=REASONS,
                ),
            ),
        )
        state = await rotated_handle.query(CaseWorkflow.view)
        assert state.rapid_review.recommendation.reasons == REASONS
        assert state.summary  # written under k1, read under k2's configuration

    key_ids = {p.metadata[KEY_ID] for p in (await raw_payloads(client, handle.id))[0]}
    assert key_ids == {b"test-k1", b"test-k2"}


async def test_a_step_sent_without_the_services_keys_is_refused(env, engine, policy, task_queue):
    """Anyone who can reach Temporal could send an update naming any actor; unencrypted, it is refused."""
    async with running_worker(env.client, engine, task_queue):
        handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
        target = env.client.service_client.config.target_host
        outsider = await Client.connect(target, data_converter=pydantic_data_converter)  # no keys
        forged = by(
            JCRG_CHAIR,
            Recommendation(
                recommendation=RecommendationKind.other_review,
                review_type="multi_agency_audit",
                reasons="Forged",
            ),
        )
        with pytest.raises(WorkflowUpdateFailedError):
            await outsider.get_workflow_handle(handle.id).execute_update(CaseWorkflow.recommend, forged)
        state = await view(handle)
    assert state.rapid_review.recommendation is None  # nothing was taken
