"""How a workflow calls an activity: by its definition (``safeguarding/domain/activities.py``), so that
no workflow module imports an activity's implementation or the I/O libraries behind it."""

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from safeguarding.domain.activities import ActivityDefinition

In = TypeVar("In")
Out = TypeVar("Out")

# Work that must happen (a due date, a read-model write): tried again until it succeeds.
RETRY_FOREVER = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


async def call(
    definition: ActivityDefinition[In, Out],
    arg: In | None = None,
    *,
    start_to_close: timedelta,
    retry: RetryPolicy | None = RETRY_FOREVER,
    **options: Any,
) -> Out:
    """Run the activity and wait for its answer, decoded as the definition says."""
    args = [] if definition.takes is None else [arg]
    return await workflow.execute_activity(
        definition.name,
        args=args,
        result_type=definition.gives,
        start_to_close_timeout=start_to_close,
        retry_policy=retry,
        **options,
    )
