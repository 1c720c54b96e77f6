"""The non-identifying facts of a case that the deadline policy may condition on: how it came in, the
child's status, whether the child died."""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    serious_incident_notification = "serious_incident_notification"
    agency_referral = "agency_referral"
    cdop_referral = "cdop_referral"
    # Our part in a review another area leads and runs elsewhere: our agencies' information, sent to it.
    contribution_to_external_review = "contribution_to_external_review"


class ChildStatus(StrEnum):
    looked_after = "looked_after"
    care_leaver = "care_leaver"
    neither = "neither"
