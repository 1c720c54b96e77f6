"""Running cases must survive a new release: every recorded history replays against today's code.

A failure here means a change would break cases already open (a non-determinism error): guard the
change with ``workflow.patched(...)`` instead. Record new histories with ``python -m tests.record_history``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from safeguarding.platform.codec import data_converter
from tests.conftest import TEST_KEYS
from worker import SANDBOX, WORKFLOWS

HISTORIES = sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))
RECORDED = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in HISTORIES}


def test_there_is_a_recorded_history_to_replay():
    assert HISTORIES, "tests/histories/ is empty: record one with python -m tests.record_history"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_a_recorded_case_replays_on_the_current_code(path: Path):
    if path.stem.startswith("yearly"):
        workflow_id = "yearly-report-pan-bedfordshire-2026"
    else:
        # Recorded before partnerships were kept apart: case-REPLAY-1; since: luton/case-REPLAY-1.
        if path.stem.startswith("thematic"):
            case = "luton/case-THEME-REPLAY-1"
        else:
            case = "luton/case-REPLAY-1" if path.stem >= "case-v5" else "case-REPLAY-1"
        stream = next((s for s in ("review", "plan") if path.stem.endswith(f"-{s}")), None)
        workflow_id = f"{case}/{stream}" if stream else case
    history = WorkflowHistory.from_json(workflow_id, RECORDED[path.stem])
    # The histories are kept unencrypted, readable whatever keys a run uses (the service refuses plain).
    plain = data_converter(TEST_KEYS, accept_unencrypted=True)
    replayer = Replayer(workflows=WORKFLOWS, data_converter=plain, workflow_runner=SANDBOX)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"
