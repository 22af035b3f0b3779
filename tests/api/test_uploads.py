"""The upload guard against abuse: size, disguised content, decompression bombs, hostile file names."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx2 import Response
from PIL import Image

from openlfr.api.deps import require
from openlfr.api.permissions import Permission
from openlfr.api.uploads import GuardedUpload, display_name, sniff_image
from openlfr.config.models import EngineConfig
from tests.api.conftest import Api, build_api, make_settings


def encoded(fmt: str, size: tuple[int, int] = (32, 24), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 0 if mode == "1" else (200, 120, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def upload_api(tmp_path: Path) -> Iterator[Api]:
    settings = make_settings(tmp_path, max_upload_bytes=64 * 1024)
    settings = settings.model_copy(update={"engine": EngineConfig(max_image_pixels=1_000_000)})
    for api in build_api(settings):

        @api.app.post("/test/upload", dependencies=[require(Permission.PUBLIC)])
        def upload(image: GuardedUpload) -> dict[str, object]:
            return {"kind": image.kind, "name": image.name, "sha256": image.sha256, "shape": list(image.image.shape)}

        yield api


def post(api: Api, data: bytes, filename: str = "face.png", content_type: str = "image/png") -> Response:
    return api.client().post("/test/upload", files={"file": (filename, data, content_type)})


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")])
def test_real_images_pass_with_their_sniffed_kind(upload_api: Api, fmt: str, kind: str) -> None:
    response = post(upload_api, encoded(fmt), filename="whatever.bin", content_type="application/octet-stream")
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == kind and response.json()["shape"] == [24, 32, 3]


def test_oversized_file_is_413(upload_api: Api) -> None:
    big = encoded("PNG") + b"\0" * (64 * 1024)
    response = post(upload_api, big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\0" * 100,  # a real image type we do not accept
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"#!/bin/sh\nrm -rf /\n",
        b"",
    ],
)
def test_content_not_name_decides_the_type(upload_api: Api, data: bytes) -> None:
    response = post(upload_api, data, filename="innocent.png", content_type="image/png")
    assert response.status_code == 415, data
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_decompression_bomb_is_refused_before_decoding(upload_api: Api) -> None:
    bomb = encoded("PNG", size=(4000, 4000), mode="1")  # 16 Mpx in a few kB
    assert len(bomb) < 64 * 1024
    response = post(upload_api, bomb)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "image_unreadable" and "decompression bomb" in error["message"]


def test_truncated_image_is_422(upload_api: Api) -> None:
    response = post(upload_api, encoded("JPEG")[:40], filename="cut.jpg")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "image_unreadable"


def test_missing_file_field_is_422(upload_api: Api) -> None:
    response = upload_api.client().post("/test/upload", data={"other": "x"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("filename", "label"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/var/lib/openlfr/openlfr.db", "openlfr.db"),
        ("..", "upload"),
        (".hidden.png", "hidden.png"),
        ("evil\x00.png\r\n", "evil.png"),
        ("", "upload"),
    ],
)
@pytest.mark.slow
def test_hostile_file_names_become_harmless_labels(upload_api: Api, tmp_path: Path, filename: str, label: str) -> None:
    assert display_name(filename) == label
    before = _files(tmp_path)
    response = post(upload_api, encoded("PNG"), filename=filename or "x")
    assert response.status_code == 200
    name = response.json()["name"]
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert _files(tmp_path) == before  # nothing written anywhere under any name


def _files(root: Path) -> list[Path]:
    # SQLite's own journal files come and go with every request; they are not the upload's doing.
    return sorted(p.relative_to(root) for p in root.rglob("*") if not p.name.endswith(("-wal", "-shm", "-journal")))


def test_sniffing_needs_the_full_signature() -> None:
    assert sniff_image(b"\x89PNG\r\n\x1a\n") == "png"
    assert sniff_image(b"\x89PNG") is None
    assert sniff_image(b"RIFF\0\0\0\0WAVE") is None
    assert sniff_image(b"\xff\xd8\xff\xe0") == "jpeg"
