"""The non-identifying facts of a case that the deadline policy may condition on: how it came in, the
child's status, whether the child died, whether abuse or neglect is known or suspected, and where the
child was (in custody, in a setting Ofsted regulates, harmed outside England)."""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    serious_incident_notification = "serious_incident_notification"
    agency_referral = "agency_referral"
    cdop_referral = "cdop_referral"
    # Our part in a review another area leads and runs elsewhere: our agencies' information, sent to it.
    contribution_to_external_review = "contribution_to_external_review"
    # The death of a care leaver aged up to 24: the Secretary of State and Ofsted are told; no rapid
    # review (Working Together 2023), unless abuse or neglect is suspected (then it is notified as such).
    care_leaver_death = "care_leaver_death"
    # Learning from elsewhere, without a case of its own here: a national review's report, another
    # area's review, an audit, a SAR, a domestic abuse related death review. Its action plan only.
    learning_from_elsewhere = "learning_from_elsewhere"
    # One review of a theme across several of the partnership's cases (serious youth violence, say).
    thematic_review = "thematic_review"
    # A Safeguarding Adults Review on its own (Care Act 2014, s44), run by the all-age group.
    safeguarding_adults_review = "safeguarding_adults_review"


class ChildStatus(StrEnum):
    looked_after = "looked_after"
    care_leaver = "care_leaver"
    neither = "neither"


class AbuseOrNeglect(StrEnum):
    """Whether abuse or neglect is known or suspected: a serious incident notification needs it (the
    death of a looked after child is notified whatever)."""

    known = "known"
    suspected = "suspected"
    not_suspected = "not_suspected"


class CareActBasis(StrEnum):
    """Why a Safeguarding Adults Review is held (Care Act 2014, s44)."""

    mandatory = (
        "s44_1"  # an adult with care and support needs died or came to serious harm from abuse or neglect
    )
    discretionary = "s44_4"  # any other case involving an adult with care and support needs
