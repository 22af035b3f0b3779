"""Account errors with stable codes (printed by the CLI, mapped to HTTP statuses by the API)."""

from __future__ import annotations

from openlfr.errors import OpenLFRError
from openlfr.store.errors import ConflictError


class AccountInvalidError(OpenLFRError):
    """A username, password or role that the rules refuse; the message says which rule."""

    code = "account_invalid"


class LastAdminError(ConflictError):
    """The change would leave no enabled administrator, i.e. nobody who could undo it."""

    code = "last_admin"


class SessionSecretError(OpenLFRError):
    """The session secret is missing, weak or stored insecurely (outside development)."""

    code = "session_secret_invalid"


class LastSupervisorError(ConflictError):
    """The change would leave no enabled supervisor, i.e. nobody who could manage the operational accounts."""

    code = "last_supervisor"


class PermissionDeniedError(OpenLFRError):
    """The principal may not do this (role, a token where a person is needed, an account it does not manage)."""

    code = "forbidden"


class SeparationOfDutiesError(PermissionDeniedError):
    """The same person may not do both halves of a governed decision (governance.separation_of_duties)."""

    code = "separation_of_duties"


class NotSignedInError(OpenLFRError):
    """A governed command-line action without a signed-in user or an ``LFR_TOKEN``."""

    code = "not_signed_in"


class LoginRefusedError(OpenLFRError):
    """Too many failed logins for this account from this client (or from this client): wait ``retry_after_s``."""

    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class InvalidLoginError(OpenLFRError):
    """Wrong username or password (or a disabled account: the answer is the same)."""

    code = "invalid_credentials"


class CompetenceInvalidError(OpenLFRError):
    """A competence record the rules refuse (an empty course, dates that mean nothing, an account whose role
    does not take that competence); the message says which rule."""

    code = "competence_invalid"


class CompetenceRequiredError(PermissionDeniedError):
    """The person has no competence record for what they are doing (governance.require_competence)."""

    code = "competence_required"


class CompetenceExpiredError(CompetenceRequiredError):
    """The person's newest competence record for what they are doing has expired."""

    code = "competence_expired"
