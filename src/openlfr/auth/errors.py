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
