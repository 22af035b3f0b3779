"""Settings of the HTTP API and operator console (``Settings.api``; env ``LFR_API__<FIELD>``)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Environment = Literal["production", "development"]


class ApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Environment = Field(
        "production",
        description="'development' relaxes start-up checks (an in-memory session secret is generated when none is "
        "set); never use it on a deployment",
    )
    host: str = Field("127.0.0.1", description="address `lfr serve` listens on (loopback unless told otherwise)")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `lfr serve` listens on")
    session_secret: SecretStr | None = Field(
        None,
        description="key (at least 32 characters) that signs CSRF tokens; default: a random secret generated on "
        "first start and kept in <data_dir>/session_secret (mode 0600)",
    )
    session_idle_minutes: int = Field(30, ge=1, description="a console session unused for this long ends")
    session_max_hours: int = Field(12, ge=1, description="a console session ends this long after login, used or not")
    login_max_failures_per_user: int = Field(
        5,
        ge=1,
        description="failed logins for one username from one client address within login_window_s before that "
        "client's further tries for that username get 429 (attempts are counted before the password is checked)",
    )
    login_max_failures_per_ip: int = Field(
        20,
        ge=1,
        description="failed logins from one client address within login_window_s, whatever the usernames, before "
        "further tries get 429 (higher than per user: a control room shares one address)",
    )
    login_window_s: int = Field(300, ge=1, description="sliding window of the login rate limits (seconds)")
    login_account_backoff_after: int = Field(
        10,
        ge=1,
        description="failed logins for one username from all clients within login_window_s after which attempts "
        "from clients that account never logged in from wait 1 s, 2 s, 4 s … (no hard lock: see docs/API.md)",
    )
    login_account_backoff_max_s: int = Field(
        300, ge=1, le=3600, description="longest wait of the per-account backoff (seconds)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For header names the client; "
        "from anyone else the header is ignored (default: nobody, the peer address is the client)",
    )
    cli_session_minutes: int = Field(
        60, ge=1, le=24 * 60, description="an `lfr login` ends this long after it was made, used or not"
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="largest accepted uploaded file; request bodies are capped just above"
    )
    max_parallel_decodes: int = Field(
        2,
        ge=1,
        le=64,
        description="uploaded images decoded at once (off the event loop; a large image takes seconds and hundreds "
        "of MB); an upload beyond that is answered 503 server_busy at once",
    )
    alert_stream_max_s: float = Field(
        300.0,
        gt=0,
        le=3600,
        description="a live alert stream (Server-Sent Events) ends after this long; the console reconnects at once, "
        "re-checking its login, and resumes from the last alert it saw",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an IP address or network") from None
        return [item.strip() for item in value]
