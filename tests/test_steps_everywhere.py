"""Who may take each step is written once (``safeguarding/domain/steps.py``) and read everywhere: by
the step's API route, by its workflow's update and validator, and by the README's table."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from fastapi.routing import APIRoute
from temporalio.workflow import _Definition

from api import action_plans, cases, reviews, tasks, yearly_reports
from safeguarding.domain.steps import STEPS, Process, markdown_table
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow
from workflows.yearly_report import YearlyReportWorkflow

README = Path(__file__).resolve().parent.parent / "README.md"
WORKFLOW = {
    Process.case: CaseWorkflow,
    Process.review: ReviewWorkflow,
    Process.plan: ActionPlanWorkflow,
    Process.yearly_report: YearlyReportWorkflow,
}


def test_the_readme_prints_the_table_of_steps_as_the_code_has_it():
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- steps:[^\n]*-->\n(.*?)\n<!-- /steps -->", text, re.S)
    assert found, "the README has lost its generated table of steps"
    assert found.group(1).strip() == markdown_table(), "run: python -m safeguarding steps, and paste it"


def test_each_route_lets_in_exactly_the_roles_of_the_steps_it_takes():
    routes = {
        (method, route.path): route
        for module in (cases, reviews, action_plans, tasks, yearly_reports)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    steps_of_route = defaultdict(list)
    for step in STEPS:
        method, path = step.method.split(" ", 1)
        assert (method, path) in routes, f"{step.update} names {step.method}, which the API does not have"
        steps_of_route[(method, path)].append(step)
    for key, steps in steps_of_route.items():
        allowed = {
            role
            for dependency in routes[key].dependant.dependencies
            for role in getattr(dependency.call, "roles", ())
        }
        assert allowed == {role for step in steps for role in step.roles}, key


def test_each_step_is_an_update_of_its_workflow_with_a_validator():
    for step in STEPS:
        updates = _Definition.must_from_class(WORKFLOW[step.process]).updates
        assert step.update in updates, f"{step.process.value}.{step.update} is not an update"
        assert updates[step.update].validator is not None, (
            f"{step.process.value}.{step.update} has no validator"
        )
