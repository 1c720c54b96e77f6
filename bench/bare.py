"""The floor the project is measured against: a minimal workflow with state, one update and one query
(its own module: the workflow sandbox imports nothing else with it)."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    """The floor: state, one update, one query, nothing else."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.finished = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.finished)
        return len(self.steps)

    @workflow.update
    async def step(self, name: str) -> int:
        self.steps.append(name)
        return len(self.steps)

    @workflow.query
    def view(self) -> list[str]:
        return self.steps

    @workflow.signal
    def finish(self) -> None:
        self.finished = True
