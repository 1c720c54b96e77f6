"""What a case is opened with: how it came in, the facts the intake asks, and, for the routes that have
them, what they carry (the area leading a review we contribute to, the report learnt from elsewhere,
a thematic review's cases). Re-exported by ``safeguarding/domain/case.py``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from safeguarding.domain.facts import AbuseOrNeglect, CareActBasis, ChildStatus, Route
from safeguarding.domain.fields import (
    AGENCY_PATTERN,
    AgencyCode,
    AwareDatetime,
    CaseReference,
    ShortText,
    StrictModel,
)
from safeguarding.domain.partnerships import Contribution
from safeguarding.domain.stated_rules import both, given, left_out, values, when


class NotificationRecipient(StrEnum):
    panel = "panel"
    safeguarding_partners = "safeguarding_partners"
    secretary_of_state = "secretary_of_state"
    ofsted = "ofsted"


class ExternalReviewKind(StrEnum):
    rapid_review = "rapid_review"
    child_safeguarding_practice_review = "child_safeguarding_practice_review"
    other_review = "other_review"


class ExternalLead(StrictModel):
    """The area that leads a review we contribute to, when it is not run on this deployment."""

    name: ShortText = Field(
        max_length=200,
        description="The leading partnership, e.g. Hertfordshire Safeguarding Children Partnership.",
    )
    review: ExternalReviewKind
    their_reference: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = Field(
        default=None, description="The lead's own reference for the review, if it gave one."
    )


class LearningSourceKind(StrEnum):
    national_review = "national_review"  # a national review's report (the Panel's)
    other_area_review = "other_area_review"  # another area's CSPR (e.g. Essex "Child V")
    audit = "audit"
    safeguarding_adults_review = "safeguarding_adults_review"
    domestic_abuse_related_death_review = "domestic_abuse_related_death_review"
    other = "other"


class LearningSource(StrictModel):
    """Where an action plan's learning comes from when it is not a case of this partnership's."""

    kind: LearningSourceKind
    title: ShortText = Field(description="The report, e.g. 'The Myth of Invisible Men' (national review).")
    their_reference: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    recommendations: list[ShortText] = Field(min_length=1, max_length=60)


class ThematicScope(StrictModel):
    """A thematic review: one review of a theme across several of the partnership's cases."""

    theme: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,60}$")] = Field(
        description="One of the partnership's themes (its policy lists them)."
    )
    title: ShortText
    cases: list[CaseReference] = Field(
        min_length=2,
        max_length=20,
        description="The cases it covers (each once; not the thematic review's own reference).",
        json_schema_extra={"uniqueItems": True},
    )

    @model_validator(mode="after")
    def _several_cases(self) -> ThematicScope:
        if len(set(self.cases)) != len(self.cases):
            raise ValueError("each case is named once")
        return self


NOT_REFERRED = (
    Route.serious_incident_notification,
    Route.care_leaver_death,
    Route.learning_from_elsewhere,
    Route.thematic_review,
    Route.safeguarding_adults_review,
)
EARLY = (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners)
_NO_CHILD_HERE = values(child_status=ChildStatus.neither, child_died=False, notified={}, contributors=[])

# The validators below, as the OpenAPI document states them. What compares values (a notification not
# before la_aware_at; a thematic review not covering itself; each contributor once, not the lead) is said
# in the fields' descriptions.
STATED_RULES = [
    when(
        "route",
        [Route.safeguarding_adults_review],
        both(given("care_act_basis"), values(child_status=ChildStatus.neither, notified={}, contributors=[])),
        left_out("care_act_basis"),
    ),
    when("route", [Route.thematic_review], both(given("thematic"), _NO_CHILD_HERE), left_out("thematic")),
    when(
        "route",
        [Route.learning_from_elsewhere],
        both(given("learning_source"), _NO_CHILD_HERE),
        left_out("learning_source"),
    ),
    when(
        "route",
        [Route.contribution_to_external_review],
        both(given("external_lead"), values(notified={}, contributors=[])),
        left_out("external_lead"),
    ),
    {
        "if": {
            "properties": {
                "route": {"const": Route.serious_incident_notification.value},
                "abuse_or_neglect": {"const": AbuseOrNeglect.not_suspected.value},
            },
            "required": ["route", "abuse_or_neglect"],
        },
        "then": values(child_status=ChildStatus.looked_after, child_died=True),
    },
    when("route", [Route.care_leaver_death], values(child_status=ChildStatus.care_leaver, child_died=True)),
    when("route", [route for route in Route if route not in NOT_REFERRED], given("referred_at")),
    when(
        "route",
        [route for route in Route if route is not Route.serious_incident_notification],
        {"properties": {"notified": {"propertyNames": {"not": {"enum": [each.value for each in EARLY]}}}}},
    ),
]


class CaseOpening(StrictModel):
    """What the Business Unit knows when a case is opened."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": STATED_RULES})

    reference: CaseReference = Field(description="The partnership's case reference: the only identifier.")
    partnership: str = Field(pattern=AGENCY_PATTERN, description="Which partnership's policy applies.")
    route: Route
    la_aware_at: AwareDatetime = Field(description="When the local authority became aware of the incident.")
    referred_at: AwareDatetime | None = Field(
        default=None,
        description=(
            "When the referral was made (required for agency and CDOP referrals), or when the leading "
            "area asked for our contribution."
        ),
    )
    referring_agency: AgencyCode
    child_status: ChildStatus
    child_died: bool
    summary: ShortText = Field(description="A short, non-identifying summary. No names.")
    # What the intake asks, for what is owed (None: not asked, on cases opened before it was).
    abuse_or_neglect: AbuseOrNeglect | None = Field(
        default=None, description="Whether abuse or neglect is known or suspected."
    )
    in_custody: bool | None = Field(default=None, description="The child was in custody (youth detention).")
    regulated_setting: bool | None = Field(
        default=None, description="The child was in a setting Ofsted regulates (a children's home, say)."
    )
    harmed_outside_england: bool | None = Field(
        default=None, description="The harm happened outside England (the child living in England)."
    )
    notified: dict[NotificationRecipient, AwareDatetime] = Field(
        default_factory=dict,
        description="Notifications already sent when the case is opened (a case entered after the event); "
        "none before la_aware_at.",
    )
    contributors: list[Contribution] = Field(
        default_factory=list,
        max_length=5,
        description=(
            "Partnerships that contribute to this case: where the child lives, is looked after or is "
            "placed. The opening partnership (where the incident happened) leads; each other one is named once."
        ),
    )

    external_lead: ExternalLead | None = Field(
        default=None,
        description="For a contribution_to_external_review: the area that leads the review.",
    )
    learning_source: LearningSource | None = Field(
        default=None,
        description="For learning_from_elsewhere: the report and its recommendations the plan takes.",
    )

    thematic: ThematicScope | None = Field(
        default=None, description="For a thematic_review: its theme and the cases it covers (two or more)."
    )

    care_act_basis: CareActBasis | None = Field(
        default=None,
        description="For a safeguarding_adults_review: s44_1 (must be held) or s44_4 (may be held).",
    )

    @model_validator(mode="after")
    def _adults_review(self) -> CaseOpening:
        sar = self.route is Route.safeguarding_adults_review
        if sar != (self.care_act_basis is not None):
            raise ValueError("care_act_basis is given exactly when the route is safeguarding_adults_review")
        if sar and (self.child_status is not ChildStatus.neither or self.notified or self.contributors):
            raise ValueError(
                "a Safeguarding Adults Review is about an adult: child_status neither, no notifications or "
                "contributors here"
            )
        return self

    @model_validator(mode="after")
    def _thematic(self) -> CaseOpening:
        thematic = self.route is Route.thematic_review
        if thematic != (self.thematic is not None):
            raise ValueError("thematic is given exactly when the route is thematic_review")
        if thematic and (
            self.child_died
            or self.child_status is not ChildStatus.neither
            or self.notified
            or self.contributors
        ):
            raise ValueError("a thematic review has no child, notifications or contributors of its own")
        if thematic and self.reference in self.thematic.cases:  # type: ignore[union-attr]
            raise ValueError("a thematic review does not cover itself")
        return self

    @model_validator(mode="after")
    def _learning_from_elsewhere(self) -> CaseOpening:
        elsewhere = self.route is Route.learning_from_elsewhere
        if elsewhere != (self.learning_source is not None):
            raise ValueError("learning_source is given exactly when the route is learning_from_elsewhere")
        if elsewhere and (
            self.child_died
            or self.child_status is not ChildStatus.neither
            or self.notified
            or self.contributors
        ):
            raise ValueError(
                "learning from elsewhere has no child, notifications or contributors of its own here "
                "(child_status neither, child_died false)"
            )
        return self

    @model_validator(mode="after")
    def _external_lead_only_for_a_contribution(self) -> CaseOpening:
        external = self.route is Route.contribution_to_external_review
        if external and self.external_lead is None:
            raise ValueError(
                "a contribution to another area's review names the area that leads it (external_lead)"
            )
        if not external and self.external_lead is not None:
            raise ValueError("external_lead is given only for a contribution_to_external_review")
        if external and (self.contributors or self.notified):
            raise ValueError(
                "a contribution to another area's review has no contributors or notifications of its own"
            )
        return self

    @model_validator(mode="after")
    def _notified_only_when_abuse_or_neglect(self) -> CaseOpening:
        looked_after_death = self.child_status is ChildStatus.looked_after and self.child_died
        if (
            self.route is Route.serious_incident_notification
            and self.abuse_or_neglect is AbuseOrNeglect.not_suspected
            and not looked_after_death
        ):
            raise ValueError(
                "a serious incident notification needs abuse or neglect known or suspected (or a looked after "
                "child's death): open it as an agency referral to be screened, or with what is suspected"
            )
        return self

    @model_validator(mode="after")
    def _care_leaver_death(self) -> CaseOpening:
        if self.route is Route.care_leaver_death and not (
            self.child_status is ChildStatus.care_leaver and self.child_died
        ):
            raise ValueError(
                "the care_leaver_death route is for a care leaver who died (child_status care_leaver, child_died true)"
            )
        return self

    @model_validator(mode="after")
    def _contributors_are_others(self) -> CaseOpening:
        codes = [c.partnership for c in self.contributors]
        if self.partnership in codes:
            raise ValueError("the lead partnership does not contribute to its own case")
        if len(set(codes)) != len(codes):
            raise ValueError("each contributing partnership is named once")
        return self

    @model_validator(mode="after")
    def _referral_has_a_time(self) -> CaseOpening:
        referred = self.route not in NOT_REFERRED
        if referred and self.referred_at is None:
            raise ValueError(f"referred_at is required for a {self.route.value}")
        early = set(EARLY) & set(self.notified)
        if early and self.route is Route.care_leaver_death:
            raise ValueError(
                "a care leaver's death is told to the Secretary of State and Ofsted, not the Panel"
            )
        if early and self.route is not Route.serious_incident_notification:
            raise ValueError(
                "a referral notifies the Panel and the partners only once screened: record it then"
            )
        for recipient, sent_at in self.notified.items():
            if sent_at < self.la_aware_at:
                raise ValueError(
                    f"{recipient.value} cannot be notified before the local authority became aware"
                )
        return self

    def facts(self) -> dict[str, Any]:
        """The non-identifying facts the deadline policy may condition on."""
        facts: dict[str, Any] = {
            "route": self.route.value,
            "child_status": self.child_status.value,
            "child_died": self.child_died,
        }
        asked = {
            "abuse_or_neglect": self.abuse_or_neglect.value if self.abuse_or_neglect else None,
            "in_custody": self.in_custody,
            "regulated_setting": self.regulated_setting,
            "harmed_outside_england": self.harmed_outside_england,
        }
        return facts | {k: v for k, v in asked.items() if v is not None}
