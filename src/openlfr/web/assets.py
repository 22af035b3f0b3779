"""The console's shipped files, read once: the API serves them (``openlfr.api.routes.console``); this package
knows nothing of the API, so the console's files can be listed, checked or packaged on their own."""

from __future__ import annotations

from functools import cache
from importlib import resources

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}


@cache
def assets() -> dict[str, tuple[bytes, str]]:
    """name → (bytes, media type) of every shipped console file (read once, on first request)."""
    folder = resources.files("openlfr.web") / "static"
    found: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in MEDIA_TYPES:
            found[entry.name] = (entry.read_bytes(), MEDIA_TYPES[suffix])
    return found
