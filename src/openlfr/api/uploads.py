"""The upload guard for image uploads (used by the enrolment routes of the next round):

* size: at most ``api.max_upload_bytes`` (the body cap in front of it stops larger bodies while streaming);
* type: decided by the file's first bytes (JPEG, PNG, WebP), never by its name or declared content type;
* decompression bombs: the pixel count and decoded size are checked from the header before decoding
  (``openlfr.imaging``), the decode runs off the event loop, ``api.max_parallel_decodes`` at a time;
* names: the client's file name is reduced to a display label; nothing is ever written under it.

Use: ``def route(image: GuardedUpload) -> ...`` with a multipart form field named ``file``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from openlfr.api.deps import ContextDep
from openlfr.api.errors import ApiError, PayloadTooLargeError, UnsupportedMediaError
from openlfr.errors import ImageDecodeError
from openlfr.imaging.decode import decode_image
from openlfr.types import ImageBGR

ImageKind = Literal["jpeg", "png", "webp"]
MAX_LABEL = 120


def sniff_image(data: bytes) -> ImageKind | None:
    """The image format announced by the magic bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def display_name(filename: str | None) -> str:
    """A harmless label from a client-supplied file name: last path component (either slash), no control
    or separator characters, no leading dots, bounded length. Never use it as a path."""
    if not filename:
        return "upload"
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    return name[:MAX_LABEL] or "upload"


@dataclass(frozen=True, slots=True)
class GuardedImage:
    data: bytes = field(repr=False)
    kind: ImageKind
    sha256: str
    name: str
    """display label only"""
    image: ImageBGR = field(repr=False)


BUSY_RETRY_AFTER_S = 5


async def guard_image_upload(request: Request, ctx: ContextDep, file: Annotated[UploadFile, File()]) -> GuardedImage:
    limit = ctx.settings.api.max_upload_bytes
    try:
        data = await file.read(limit + 1)
    finally:
        await file.close()
    if len(data) > limit:
        raise PayloadTooLargeError(f"the file exceeds {limit} bytes")
    kind = sniff_image(data)
    if kind is None:
        raise UnsupportedMediaError(
            "the file is not a JPEG, PNG or WebP image (the type is read from its content, not its name)"
        )
    name = display_name(file.filename)
    # Decoding a large image takes seconds and hundreds of MB: never on the event loop (every other request
    # would wait), and only max_parallel_decodes at once; one more is refused now rather than queued.
    slots = request.app.state.decode_slots
    if not slots.acquire(blocking=False):
        raise ApiError(
            "the server is decoding other images; try again shortly",
            code="server_busy",
            status=503,
            headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
        )
    try:
        image = await run_in_threadpool(decode_image, data, max_pixels=ctx.settings.engine.max_image_pixels, name=name)
    except ImageDecodeError as exc:
        raise ImageDecodeError(str(exc)) from None  # message names the label, never a server path
    finally:
        slots.release()
    return GuardedImage(data, kind, hashlib.sha256(data).hexdigest(), name, image)


GuardedUpload = Annotated[GuardedImage, Depends(guard_image_upload)]
