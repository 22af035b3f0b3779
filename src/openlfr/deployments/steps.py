"""What can be done next with a deployment, and the permission each step needs: the console offers these and
nothing else (its buttons follow the server, not a copy of the state machine). The domain functions named
below check the same rules again when a step is taken."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openlfr.auth.permissions import Permission
from openlfr.deployments.service import is_authorised
from openlfr.deployments.types import EDITABLE
from openlfr.store.governance_models import Deployment


class Step(StrEnum):
    AUTHORISE = "authorise"
    """``authorise_deployment``: a draft, after the supervisor has seen its watchlist composition"""
    SIGNAGE = "signage"
    """``record_placement``: signs put up (recognition cannot start before one is recorded)"""
    START = "start"
    """``start_deployment``: an authorised deployment, unchanged since it was authorised"""
    END = "end"
    """``end_deployment``: a live one; its watchlist templates are destroyed"""
    CANCEL = "cancel"
    """``cancel_deployment``: a draft or authorised one"""
    SIGN_OFF = "sign_off"
    """``sign_off_deployment``: the post-deployment review of an ended one, once"""


@dataclass(frozen=True, slots=True)
class NextStep:
    step: Step
    permission: Permission


_NEEDS = {
    Step.AUTHORISE: Permission.DEPLOYMENTS_AUTHORISE,
    Step.SIGNAGE: Permission.DEPLOYMENTS_MANAGE,
    Step.START: Permission.DEPLOYMENTS_MANAGE,
    Step.END: Permission.DEPLOYMENTS_MANAGE,
    Step.CANCEL: Permission.DEPLOYMENTS_MANAGE,
    Step.SIGN_OFF: Permission.DEPLOYMENTS_AUTHORISE,
}


def next_steps(deployment: Deployment, *, signed_off: bool) -> list[NextStep]:
    """The steps ``deployment``'s state allows now, in the order they are usually taken."""
    steps: list[Step] = []
    if deployment.status == "draft":
        steps.append(Step.AUTHORISE)
    if deployment.status in (*EDITABLE, "live"):
        steps.append(Step.SIGNAGE)
    if deployment.status == "authorised" and is_authorised(deployment):
        steps.append(Step.START)
    if deployment.status == "live":
        steps.append(Step.END)
    if deployment.status in EDITABLE:
        steps.append(Step.CANCEL)
    if deployment.status == "ended" and not signed_off:
        steps.append(Step.SIGN_OFF)
    return [NextStep(step, _NEEDS[step]) for step in steps]
