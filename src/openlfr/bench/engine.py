"""Median per-stage timings of the face engine on real images."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from openlfr.config.models import Settings
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.errors import DatasetError
from openlfr.imaging.decode import decode_image
from openlfr.types import as_image

SCENE = "scenes/selfie-many-people.jpg"  # a real multi-face photo (several faces → batching)


def median_ms(function: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return round(float(np.median(timings)) * 1000.0, 3)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from openlfr.models.runtime import block_runtime_telemetry, cpu_supports_bf16, openvino_installed

    block_runtime_telemetry()
    import onnxruntime

    openvino_version = None
    if openvino_installed():
        from importlib.metadata import PackageNotFoundError, version

        try:  # from the installed metadata: importing OpenVINO only to read its version is not worth it
            openvino_version = version("openvino").split("-")[0]
        except PackageNotFoundError:
            openvino_version = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cpu_bf16": cpu_supports_bf16(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "openvino": openvino_version,
        "opencv": cv2.__version__,
    }


def load_average() -> float | None:
    """1-minute load average (other processes share the cores: report it with every timing)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def runtime_label(backend: object) -> str:
    """``onnxruntime-f32`` / ``openvino-bf16`` … for backends that report their runtime, else ``n/a``."""
    choice = getattr(getattr(backend, "inner", backend), "runtime", None)  # through a wrapper (FlipAugmented)
    label = getattr(choice, "label", None)
    return label if isinstance(label, str) else "n/a"


def bench_engine(engine: FaceEngine, data: Path, repeat: int = 30, batch: int = 16) -> dict[str, Any]:
    scene_path = data / SCENE
    if not scene_path.is_file():
        raise DatasetError(f"benchmark image not found: {scene_path}")
    encoded = scene_path.read_bytes()
    image = decode_image(encoded)
    frame = as_image(cv2.resize(image, (640, 480), interpolation=cv2.INTER_AREA))
    faces = engine.detect(frame)
    if len(faces) == 0:
        raise DatasetError(f"no face found in {scene_path} at 640x480")
    one_face = align_faces(frame, faces.landmarks[:1])
    batch_faces = np.repeat(one_face, batch, axis=0)
    load_before = load_average()
    return {
        "machine": machine_info(),
        "load_average_1min_before": load_before,
        "detector": engine.detector.name,
        "detector_runtime": runtime_label(engine.detector),
        "embedder": engine.contract.model,
        "embedder_runtime": runtime_label(engine.embedder),
        "image": f"{SCENE} ({image.shape[1]}x{image.shape[0]}, {len(encoded)} bytes)",
        "decode_ms": median_ms(lambda: decode_image(encoded), repeat),
        "detect_640x480_ms": median_ms(lambda: engine.detector.detect(frame), repeat),
        "faces_in_frame": len(faces),
        "align_ms_per_face": median_ms(lambda: align_faces(frame, faces.landmarks[:1]), repeat),
        "embed_ms_per_face_batch1": median_ms(lambda: engine.embedder.embed_aligned(one_face), repeat),
        f"embed_ms_per_face_batch{batch}": round(
            median_ms(lambda: engine.embedder.embed_aligned(batch_faces), max(5, repeat // 3)) / batch, 3
        ),
        "batch": batch,
        "repeat": repeat,
        "load_average_1min_after": load_average(),
    }


def with_runtime(settings: Settings, *, runtime: str | None, precision: str | None) -> Settings:
    """``settings`` with the runtime/precision of the detector and embedder overridden (where they have one)."""
    overrides = {key: value for key, value in (("runtime", runtime), ("precision", precision)) if value is not None}
    if not overrides:
        return settings
    engine = settings.engine
    update: dict[str, object] = {}
    for part in ("detector", "embedder"):
        config = getattr(engine, part)
        if all(key in type(config).model_fields for key in overrides):
            update[part] = config.model_validate({**config.model_dump(), **overrides})
    return settings.model_copy(update={"engine": engine.model_copy(update=update)})
