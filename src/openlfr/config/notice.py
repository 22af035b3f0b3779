"""Settings of public notice: who the public contacts, how they ask for their data, where the published records
live (``Settings.governance.notice``; env ``LFR_GOVERNANCE__NOTICE__<FIELD>``, nested with ``__``).

Signs and leaflets are printed from these and from the deployment record (docs/GOVERNANCE.md, "Public
notice"). Nothing here has a made-up default that could end up on a real sign: an organisation that has not
said who it is, how to reach it and how to ask for data gets a clear refusal instead of a misleading sign.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_WHAT_TO_SEND = (
    "Your name and an address to reply to; the date, the time (to the nearest half hour) and the place you passed "
    "the cameras; a recent photograph of yourself so we can find any alert about you; and a copy of a document "
    "that proves who you are."
)
DEFAULT_RESPONSE_TIME = "We answer within one month."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactBlock(_Strict):
    """The data controller (the force or organisation running the deployments) and how the public reaches it."""

    organisation: str | None = Field(
        None, min_length=1, max_length=200, description="the controller's name as the public knows it"
    )
    email: str | None = Field(None, min_length=3, max_length=200, description="contact e-mail address")
    phone: str | None = Field(None, min_length=3, max_length=60, description="contact telephone number")
    address: str | None = Field(None, min_length=1, max_length=500, description="postal address (one line)")
    web: str | None = Field(None, min_length=1, max_length=300, description="web page about LFR deployments")
    data_protection_officer: str | None = Field(
        None, min_length=1, max_length=300, description="how to reach the data protection officer"
    )

    def channels(self) -> list[tuple[str, str]]:
        """(label, value) of each way to get in touch that is configured."""
        pairs = (("E-mail", self.email), ("Telephone", self.phone), ("Post", self.address), ("Web", self.web))
        return [(label, value) for label, value in pairs if value]


class SubjectAccessBlock(_Strict):
    """How a member of the public asks for the data held about them (a subject access request)."""

    email: str | None = Field(None, min_length=3, max_length=200, description="where to e-mail a request")
    address: str | None = Field(None, min_length=1, max_length=500, description="where to post a request")
    web: str | None = Field(None, min_length=1, max_length=300, description="online request form")
    what_to_send: str = Field(
        DEFAULT_WHAT_TO_SEND, min_length=1, max_length=800, description="what a request should contain"
    )
    response_time: str = Field(
        DEFAULT_RESPONSE_TIME, min_length=1, max_length=200, description="when the requester hears back"
    )

    def channels(self) -> list[tuple[str, str]]:
        pairs = (("E-mail", self.email), ("Post", self.address), ("Online", self.web))
        return [(label, value) for label, value in pairs if value]


class NoticeConfig(_Strict):
    public_base_url: str | None = Field(
        None,
        description="public address of this service's published records (e.g. https://lfr.police.example); "
        "the QR code on signs and leaflets points to <public_base_url>/public/deployments/<id>",
    )
    timezone: str = Field(
        "UTC", description="IANA time zone that signs, leaflets and the public feed show times in (e.g. Europe/London)"
    )
    legal_basis_explained: str | None = Field(
        None,
        min_length=1,
        max_length=800,
        description="the legal basis in plain words, printed under each deployment's own legal basis",
    )
    contact: ContactBlock = Field(default_factory=ContactBlock)
    subject_access: SubjectAccessBlock = Field(default_factory=SubjectAccessBlock)

    @field_validator("public_base_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("public_base_url must be an absolute http(s) URL, e.g. https://lfr.police.example")
        if parts.query or parts.fragment:
            raise ValueError("public_base_url must not carry a query or fragment")
        return value.strip().rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/London)") from None
        return value

    def missing(self) -> list[str]:
        """What must still be configured before a sign or leaflet can be printed (empty: ready)."""
        gaps = []
        if self.public_base_url is None:
            gaps.append("governance.notice.public_base_url")
        if self.contact.organisation is None:
            gaps.append("governance.notice.contact.organisation")
        if not self.contact.channels():
            gaps.append("governance.notice.contact (email, phone, address or web)")
        if not self.subject_access.channels():
            gaps.append("governance.notice.subject_access (email, address or web)")
        return gaps
