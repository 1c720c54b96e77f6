"""The case workflow starts its review and plan, and signals them, by name (its sandbox does not import
their modules): the names must be the ones those workflows are registered under."""

import subprocess
import sys
from pathlib import Path

from temporalio.workflow import _Definition

from workflows import follow_up
from workflows.action_plan import ActionPlanWorkflow
from workflows.review import ReviewWorkflow


def test_the_review_is_started_and_rescoped_by_its_registered_names() -> None:
    review = _Definition.from_class(ReviewWorkflow)
    assert review is not None
    assert review.name == follow_up.REVIEW_WORKFLOW
    assert follow_up.RESCOPE_REVIEW in review.signals


def test_the_plan_is_started_and_given_the_reviews_recommendations_by_its_registered_names() -> None:
    plan = _Definition.from_class(ActionPlanWorkflow)
    assert plan is not None
    assert plan.name == follow_up.PLAN_WORKFLOW
    assert follow_up.TAKE_REVIEW_RECOMMENDATIONS in plan.signals


def test_the_case_workflow_does_not_import_the_review_or_the_plan() -> None:
    # In a process of its own: this test's imports above have loaded them here.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, workflows.incident; print(sorted(m for m in sys.modules if m.startswith('workflows.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(follow_up.__file__).parents[1],
    ).stdout
    assert "workflows.incident" in loaded
    assert "workflows.review" not in loaded
    assert "workflows.action_plan" not in loaded
