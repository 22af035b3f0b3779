"""Credential redaction for URLs and for any message that may quote one (FFmpeg and OpenCV errors do)."""

from __future__ import annotations

import re

# scheme://userinfo@ — userinfo may hold ':' and any character except '/', '@' and whitespace.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
# Query parameters that commonly carry secrets in camera URLs (?user=…&password=…&token=…).
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;](?:user(?:name)?|pass(?:word|wd)?|pwd|token|auth|key|secret|api_?key)=)[^&;\s#]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``rtsp://user:pass@host/x?token=1`` → ``rtsp://***@host/x?token=***``; other text is unchanged."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    return _SECRET_PARAM.sub(r"\g<key>***", text)
