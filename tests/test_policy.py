"""The declarative deadline policy: the shared Pan Bedfordshire procedure, the three partnerships that
inherit it, and refusal of faulty files with the file and line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter

from safeguarding.domain.milestones import Milestone
from safeguarding.domain.policy import DATE_SET, Duration, Policy, PolicyDuration
from safeguarding.platform.policy_files import PolicyError, load_policies, parse_policy
from safeguarding.platform.settings import get_settings

POLICIES = get_settings().policy_dir
DEFAULT_FILE = POLICIES / "procedures" / "pan-bedfordshire.yaml"
LUTON = (POLICIES / "luton.yaml").read_text(encoding="utf-8")


def folder(tmp_path, procedure: str, **partnerships: str):
    """A policy folder holding the procedure and the given partnerships' files."""
    (tmp_path / "procedures").mkdir()
    (tmp_path / "procedures" / "pan-bedfordshire.yaml").write_text(procedure, encoding="utf-8")
    for name, text in partnerships.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def text() -> str:
    return DEFAULT_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policies(get_settings().policy_dir)["luton"]


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the only line in ``text`` containing ``fragment``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


def test_the_default_policy_loads_with_a_version(policy):
    assert policy.partnership == "luton" and policy.name == "Luton Safeguarding Children Partnership"
    assert policy.version.strip() and policy.procedure == "pan-bedfordshire 2026.5"
    assert policy.timezone == "Europe/London"
    assert policy.working_days.end_of_working_day.hour == 17


LOOKED_AFTER = {"child_status": ["looked_after"], "child_died": True}
CARE_LEAVER = {"child_status": ["care_leaver"], "child_died": True}


@pytest.mark.parametrize(
    ("key", "amount", "unit", "starts_on", "applies_when"),
    [
        ("notify_panel", 5, "working_days", "incident_notifiable", {}),
        ("report_to_partners", 5, "working_days", "incident_notifiable", {}),
        ("notify_secretary_of_state_looked_after_death", 5, "working_days", "case_opened", LOOKED_AFTER),
        ("notify_ofsted_looked_after_death", 5, "working_days", "case_opened", LOOKED_AFTER),
        ("notify_secretary_of_state_care_leaver_death", 5, "working_days", "case_opened", CARE_LEAVER),
        ("notify_ofsted_care_leaver_death", 5, "working_days", "case_opened", CARE_LEAVER),
        ("referral_written_confirmation", 48, "hours", "referral_made", {"route": ["agency_referral"]}),
        ("agency_information_return", 5, "working_days", "information_requested", {}),
        ("rapid_review_to_panel", 15, "working_days", "panel_notified", {}),
        ("panel_response", 10, "working_days", "rapid_review_sent", {}),
    ],
)
def test_each_domain_deadline_is_in_the_default_policy(policy, key, amount, unit, starts_on, applies_when):
    rule = policy.deadlines[key]
    assert (rule.due.amount, rule.due.unit.value) == (amount, unit)
    assert rule.starts_on.value == starts_on
    assert rule.applies_when.model_dump(exclude_none=True, mode="json") == applies_when
    # DOMAIN.md: the local procedure's own settings and the Panel's service level are not statutory.
    assert rule.statutory is (
        key not in {"panel_response", "referral_written_confirmation", "agency_information_return"}
    )


def test_every_deadline_has_a_source_and_someone_to_remind(policy):
    for key, rule in policy.deadlines.items():
        assert len(rule.source) >= 3, key
        assert rule.reminders_to, key
        assert policy.escalation_for(rule), key


@pytest.mark.parametrize(
    ("old", "new", "mentions"),
    [
        ("due: 48 hours", "due: 48 hourz", "is not a duration"),
        ("reminders: [24 hours]", "reminders: [24 hourz]", "is not a duration"),
        ("starts_on: referral_made", "starts_on: referral_maid", "Input should be"),
        (
            "escalate_to: [business_unit, jcrg_chair]",
            "escalate_to: [business_unitt, jcrg_chair]",
            "is not a recipient",
        ),
        ("met_by: referral_confirmed", "met_by: referral_made", "cannot be met by the milestone that starts"),
        ("timezone: Europe/London", "timezone: Europe/Lundon", "is not a time zone"),
        ("timezone: Europe/London", "timezone: Europe/London\ncolour: blue", "Extra inputs"),
        ("    met_by: panel_notified", "\tmet_by: panel_notified", "not valid YAML"),
        ("    met_by: panel_notified", "      met_by: panel_notified", "not valid YAML"),
    ],
    ids=[
        "bad-duration",
        "bad-reminder",
        "unknown-milestone",
        "unknown-recipient",
        "met-by-its-start",
        "unknown-zone",
        "unknown-top-level-key",
        "tab",
        "indentation",
    ],
)
def test_a_faulty_policy_is_refused_naming_the_file_and_line(tmp_path, text, old, new, mentions):
    faulty = text.replace(old, new, 1)
    assert faulty != text
    line = line_of(faulty, new.splitlines()[-1])  # the line at fault, wherever it lands in the text
    path = folder(tmp_path, faulty, luton=LUTON) / "procedures" / "pan-bedfordshire.yaml"
    with pytest.raises(PolicyError) as refused:
        load_policies(tmp_path)
    message = str(refused.value)
    assert f"{path} line {line}:" in message
    assert mentions in message


def test_a_policy_that_is_not_a_mapping_is_refused():
    with pytest.raises(PolicyError, match=r"^p\.yaml line 1:"):
        parse_policy("- just\n- a list\n", source="p.yaml")


def test_load_policies_refuses_a_file_named_other_than_its_partnership(tmp_path, text):
    folder(tmp_path, text, bedford=LUTON)
    with pytest.raises(PolicyError, match="must match the file name") as refused:
        load_policies(tmp_path)
    assert str(tmp_path / "bedford.yaml") in str(refused.value)


def test_load_policies_refuses_an_empty_directory(tmp_path):
    with pytest.raises(PolicyError, match="no policy files"):
        load_policies(tmp_path)


def test_load_policies_reads_a_correctly_named_file(tmp_path, text):
    assert list(load_policies(folder(tmp_path, text, luton=LUTON))) == ["luton"]


def test_three_partnerships_share_the_pan_bedfordshire_procedure_each_with_its_own_name_and_reporting():
    policies = load_policies(POLICIES)
    assert sorted(policies) == ["bedford-borough", "central-bedfordshire", "luton"]
    assert {p.procedure for p in policies.values()} == {"pan-bedfordshire 2026.5"}
    assert len({p.name for p in policies.values()}) == 3
    shared = policies["luton"].deadlines
    assert all(p.deadlines == shared for p in policies.values())
    # Luton's business plan 2025-27 adds a theme of its own; the others keep the shared list.
    assert policies["luton"].themes["violence_against_women_and_girls"] == "Violence against women and girls"
    assert "violence_against_women_and_girls" not in policies["bedford-borough"].themes
    assert list(policies["luton"].themes)[:1] == ["neglect"]  # the procedure's order first


def test_a_partnership_may_change_one_setting_of_a_shared_deadline(tmp_path, text):
    own = LUTON + "deadlines:\n  agency_information_return:\n    due: 10 working days\n"
    policy = load_policies(folder(tmp_path, text, luton=own))["luton"]
    changed = policy.deadlines["agency_information_return"]
    assert str(changed.due) == "10 working days"
    assert changed.title == "Agency information return for the rapid review"  # the rest inherited


def test_a_fault_in_the_partnerships_own_file_is_named_there(tmp_path, text):
    own = LUTON.replace('version: "2026.6"', 'version: "2026.6"\ncolour: blue')
    folder(tmp_path, text, luton=own)
    with pytest.raises(PolicyError) as refused:
        load_policies(tmp_path)
    assert f"{tmp_path / 'luton.yaml'} line {line_of(own, 'colour: blue')}:" in str(refused.value)


def test_a_partnership_inheriting_an_unknown_procedure_is_refused(tmp_path, text):
    folder(tmp_path, text, luton=LUTON.replace("inherits: pan-bedfordshire", "inherits: pan-bedford"))
    with pytest.raises(PolicyError, match="no procedure 'pan-bedford' \\(known: pan-bedfordshire\\)"):
        load_policies(tmp_path)


def facts(route="serious_incident_notification", child_status="neither", child_died=False) -> dict:
    return {"route": route, "child_status": child_status, "child_died": child_died}


LOOKED_AFTER_RULES = {"notify_secretary_of_state_looked_after_death", "notify_ofsted_looked_after_death"}
CARE_LEAVER_RULES = {"notify_secretary_of_state_care_leaver_death", "notify_ofsted_care_leaver_death"}


@pytest.mark.parametrize(
    ("milestone", "case_facts", "expected"),
    [
        (Milestone.case_opened, facts(child_status="looked_after", child_died=True), LOOKED_AFTER_RULES),
        (Milestone.case_opened, facts(child_status="looked_after", child_died=False), set()),
        (Milestone.case_opened, facts(child_status="care_leaver", child_died=True), CARE_LEAVER_RULES),
        (Milestone.case_opened, facts(child_status="neither", child_died=True), set()),
        (Milestone.referral_made, facts(route="agency_referral"), {"referral_written_confirmation"}),
        (Milestone.referral_made, facts(route="cdop_referral"), set()),
        (Milestone.incident_notifiable, facts(), {"notify_panel", "report_to_partners"}),
        (Milestone.panel_notified, facts(route="agency_referral"), {"rapid_review_to_panel"}),
    ],
)
def test_rules_started_by_a_milestone_honour_applies_when(policy, milestone, case_facts, expected):
    assert {key for key, _ in policy.rules_started_by(milestone, case_facts)} == expected


@pytest.mark.parametrize(
    ("amount", "unit", "words"),
    [
        (1, "working_days", "1 working day"),
        (5, "working_days", "5 working days"),
        (1, "hours", "1 hour"),
        (48, "hours", "48 hours"),
        (6, "calendar_months", "6 calendar months"),
        (1, "calendar_days", "1 calendar day"),
    ],
)
def test_a_duration_prints_back_as_words(amount, unit, words):
    assert str(Duration(amount=amount, unit=unit)) == words


def test_every_default_duration_reads_back_from_its_words(policy):
    words = TypeAdapter(PolicyDuration)
    for rule in policy.deadlines.values():
        periods = [*rule.reminders, *([] if rule.due == DATE_SET else [rule.due])]
        periods += [step.after for step in rule.escalation or [] if step.after is not None]
        for period in periods:
            assert words.validate_python(str(period)) == period


def test_a_deadline_defined_twice_is_refused_rather_than_one_silently_dropped(text):
    doubled = text.replace("  report_to_partners:", "  notify_panel:", 1)
    first = doubled.splitlines().index("  notify_panel:") + 1
    second = doubled.splitlines().index("  notify_panel:", first) + 1
    with pytest.raises(
        PolicyError,
        match=rf"line {second}: deadlines.notify_panel is defined twice \(first on line {first}\)",
    ):
        parse_policy(doubled, "doubled.yaml")


def test_a_deadline_that_does_not_say_whether_it_is_statutory_is_refused_at_load():
    from safeguarding.platform.policy_files import PolicyError, parse_policy

    procedure = Path(__file__).parent.parent / "safeguarding/policies/procedures/pan-bedfordshire.yaml"
    text = "partnership: somewhere\nname: Somewhere\n" + procedure.read_text(encoding="utf-8")
    assert parse_policy(text).deadlines["notify_ofsted_regulated_setting"].statutory is False
    unsaid = text.replace("    statutory: false  # the partnership's own setting\n", "", 1)
    with pytest.raises(PolicyError, match=r"deadlines\.notify_ofsted_regulated_setting: say statutory: true"):
        parse_policy(unsaid)
