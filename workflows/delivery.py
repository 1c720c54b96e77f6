"""Delivery of notifications, apart from the cases: a mailbox or webhook that is down for a day delays
its own message, never a case's clock or steps.

- ``DeliveryWorkflow``: one per delivery (its id comes from the delivery's key, so it runs once): the
  send activity retried with back-off, then recorded as failed if it never gets through.
- ``DigestWorkflow``: each morning (a Temporal Schedule), the day's digest for every agency that asked
  for one, each digest then a delivery like any other.
- ``DeliverySweepWorkflow``: every few minutes (a Schedule), starts any delivery left waiting (a worker
  that stopped between writing a notification and starting its delivery).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from safeguarding.domain.activities import DELIVER, GIVE_UP, PREPARE_DIGESTS, START_WAITING_DELIVERIES
from safeguarding.domain.dates import local_date
from safeguarding.domain.delivery import DELIVERY_WORKFLOW, DeliveryOrder, DigestRun, GiveUp, workflow_key
from workflows.calls import call

LOCAL_TIME = "Europe/London"
MAX_RETRY_INTERVAL = timedelta(hours=1)


@workflow.defn(name=DELIVERY_WORKFLOW)
class DeliveryWorkflow:
    @workflow.run
    async def run(self, order: DeliveryOrder) -> str:
        try:
            return await call(
                DELIVER,
                order.delivery_id,
                start_to_close=timedelta(minutes=2),
                schedule_to_close_timeout=order.give_up_after,
                retry=RetryPolicy(
                    initial_interval=order.first_retry,
                    backoff_coefficient=2.0,
                    maximum_interval=max(MAX_RETRY_INTERVAL, order.first_retry),
                    non_retryable_error_types=["Undeliverable"],
                ),
            )
        except ActivityError as failure:
            reason = str(failure.cause or failure)
            await call(
                GIVE_UP,
                GiveUp(delivery_id=order.delivery_id, reason=reason),
                start_to_close=timedelta(minutes=1),
                retry=None,
            )
            return f"failed: {reason}"


@workflow.defn
class DigestWorkflow:
    @workflow.run
    async def run(self, run: DigestRun) -> int:
        """The digests of ``run.day`` (today in Europe/London when the schedule starts it)."""
        day = run.day or local_date(workflow.now(), LOCAL_TIME)
        batch = await call(PREPARE_DIGESTS, day, start_to_close=timedelta(minutes=5), retry=None)
        for delivery_id, key in batch.deliveries:
            try:
                await workflow.start_child_workflow(
                    DeliveryWorkflow.run,
                    DeliveryOrder(
                        delivery_id=delivery_id, first_retry=run.first_retry, give_up_after=run.give_up_after
                    ),
                    id=workflow_key(key),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                )
            except (WorkflowAlreadyStartedError, ChildWorkflowError):
                pass  # started before: one digest, one delivery
        return len(batch.deliveries)


@workflow.defn
class DeliverySweepWorkflow:
    @workflow.run
    async def run(self) -> int:
        return await call(START_WAITING_DELIVERIES, start_to_close=timedelta(minutes=5), retry=None)
