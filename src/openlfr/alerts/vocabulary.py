"""The words of alert review, defined once: the store's columns, the API's schemas, the review rules, the
deployment figures and the console (through ``GET /api/alerts/options``) all use these. Values are stored and
published: change one only with a migration."""

from __future__ import annotations

from enum import StrEnum


class AlertStatus(StrEnum):
    PENDING = "pending"
    """raised, waiting for an officer"""
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    """passed to a second officer, still waiting for a decision"""


OPEN_STATUSES = frozenset({AlertStatus.PENDING, AlertStatus.ESCALATED})
"""statuses that still wait for an officer's decision"""


class Decision(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    ESCALATE = "escalate"


STATUS_AFTER = {
    Decision.CONFIRM: AlertStatus.CONFIRMED,
    Decision.REJECT: AlertStatus.REJECTED,
    Decision.ESCALATE: AlertStatus.ESCALATED,
}
DECIDED = frozenset({AlertStatus.CONFIRMED, AlertStatus.REJECTED})
"""statuses of a reviewed alert: an engagement outcome may be recorded, a decision only amended"""

# From which status each decision may be taken: an escalated alert is decided by a second officer (checked
# against escalated_by_account); a confirmed or rejected alert changes only by an amendment with a reason.
ALLOWED_FROM = {
    Decision.CONFIRM: OPEN_STATUSES,
    Decision.REJECT: OPEN_STATUSES,
    Decision.ESCALATE: frozenset({AlertStatus.PENDING}),
}


class RejectReason(StrEnum):
    """Why an officer rejected an alert (stable codes; the transparency figures count them)."""

    DIFFERENT_PERSON = "different_person"
    POOR_IMAGE = "poor_image"
    NOT_ON_SCENE = "not_on_scene"
    """the person could not be seen or found where the camera is"""
    DUPLICATE_ALERT = "duplicate_alert"
    OTHER = "other"


class EngagementOutcome(StrEnum):
    """What happened after the review (stable codes; the published figures count them, GOVERNANCE §5)."""

    SPOKEN_TO = "spoken_to"
    ARRESTED = "arrested"
    NO_ACTION = "no_action"
    """engaged: it was the person, and no further action was taken"""
    NOT_THE_PERSON = "not_the_person"
    """engaged: the person stopped was not the watchlist subject (a false alert, whatever the review said)"""
    NOT_LOCATED = "not_located"
    NOT_ENGAGED = "not_engaged"
    """officers decided not to approach the person"""


ENGAGED = frozenset(
    {
        EngagementOutcome.SPOKEN_TO,
        EngagementOutcome.ARRESTED,
        EngagementOutcome.NO_ACTION,
        EngagementOutcome.NOT_THE_PERSON,
    }
)
"""outcomes where an officer engaged the person: the Met's *confirmed* (``not_located`` and ``not_engaged`` are
*unconfirmed*)"""
