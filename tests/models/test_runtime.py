"""Choosing the runtime (onnxruntime / OpenVINO, f32 / bf16) and the OpenVINO runner's batching."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from openlfr.errors import ModelLoadError
from openlfr.models.runtime import (
    OnnxRuntimeRunner,
    OpenVinoRunner,
    choose_runtime,
    cpu_supports_bf16,
    create_runner,
    openvino_installed,
    power_of_two_chunks,
    resolve_runtime,
)


@pytest.mark.parametrize(
    ("runtime", "precision", "installed", "bf16", "expected"),
    [
        # auto: OpenVINO bf16 only where both the package and native bf16 are there
        ("auto", "auto", True, True, "openvino-bf16"),
        ("auto", "auto", True, False, "onnxruntime-f32"),
        ("auto", "auto", False, True, "onnxruntime-f32"),
        ("auto", "auto", False, False, "onnxruntime-f32"),
        ("auto", "f32", True, True, "onnxruntime-f32"),
        ("auto", "bf16", True, True, "openvino-bf16"),
        ("onnxruntime", "auto", True, True, "onnxruntime-f32"),
        ("onnxruntime", "f32", False, False, "onnxruntime-f32"),
        ("openvino", "auto", True, True, "openvino-bf16"),
        ("openvino", "auto", True, False, "openvino-f32"),
        ("openvino", "f32", True, True, "openvino-f32"),
        ("openvino", "bf16", True, True, "openvino-bf16"),
    ],
)
def test_choice(runtime: str, precision: str, installed: bool, bf16: bool, expected: str) -> None:
    choice = choose_runtime(runtime, precision, openvino_installed=installed, cpu_bf16=bf16)
    assert choice.label == expected
    assert choice.reason


@pytest.mark.parametrize(
    ("runtime", "precision", "installed", "bf16", "message"),
    [
        ("onnxruntime", "bf16", True, True, "needs runtime openvino"),
        ("openvino", "auto", False, True, "not installed"),
        ("openvino", "bf16", True, False, "no native bf16"),
        ("auto", "bf16", True, False, "CPU bf16 support is missing"),
        ("auto", "bf16", False, True, "openvino package is missing"),
        ("tensorrt", "auto", True, True, "unknown runtime"),
    ],
)
def test_impossible_choices_are_refused(
    runtime: str, precision: str, installed: bool, bf16: bool, message: str
) -> None:
    with pytest.raises(ModelLoadError, match=message):
        choose_runtime(runtime, precision, openvino_installed=installed, cpu_bf16=bf16)


def test_this_machine_resolves_auto_by_its_cpu() -> None:
    expected = "openvino-bf16" if openvino_installed() and cpu_supports_bf16() else "onnxruntime-f32"
    assert resolve_runtime("auto", "auto").label == expected
    assert resolve_runtime("onnxruntime", "auto").label == "onnxruntime-f32"


@pytest.mark.parametrize(
    ("count", "chunks"),
    [
        (1, [(0, 1)]),
        (2, [(0, 2)]),
        (7, [(0, 4), (4, 6), (6, 7)]),
        (16, [(0, 16)]),
        (21, [(0, 16), (16, 20), (20, 21)]),
        (0, []),
    ],
)
def test_power_of_two_chunks(count: int, chunks: list[tuple[int, int]]) -> None:
    assert power_of_two_chunks(count) == chunks


def _conv_model(path: Path, weight: np.ndarray, *, pooled: bool) -> Path:
    """A 1×1 convolution with ``weight`` (2 outputs × 3 channels) on (N, 3, H, W), then flattened: after a
    global average pool (→ (N, 2)) or pixel by pixel (→ (N, 2·H·W)). Batch and image dimensions symbolic."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["c"])]
    if pooled:
        nodes.append(helper.make_node("GlobalAveragePool", ["c"], ["p"]))
    nodes.append(helper.make_node("Flatten", ["p" if pooled else "c"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "F"])],
        [numpy_helper.from_array(weight.astype(np.float32).reshape(2, 3, 1, 1), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


_TINY_WEIGHT = np.arange(6, dtype=np.float64).reshape(2, 3) / 10.0
_PIXELWISE_WEIGHT = np.array([[1.0, 10.0, 100.0], [-1.0, 0.5, 2.0]])


def _tiny_model(path: Path) -> Path:
    """(N, 3, H, W) → (N, 2): channel means times ``_TINY_WEIGHT``."""
    return _conv_model(path, _TINY_WEIGHT, pooled=True)


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 4, 4, 3), dtype=np.uint8)


def _by_hand(images: np.ndarray, channels: str) -> np.ndarray:
    """The tiny model computed in numpy: channel means of the model-ordered image times the 1×1 weights."""
    ordered = images[..., ::-1] if channels == "rgb" else images
    return ordered.astype(np.float64).mean(axis=(1, 2)) @ _TINY_WEIGHT.T


def test_openvino_runner_matches_onnxruntime_across_batch_splits(tmp_path: Path) -> None:
    model = _tiny_model(tmp_path / "tiny.onnx")
    images = _images(7)
    (expected,) = OnnxRuntimeRunner(model, 1).run_images(images)
    runner = OpenVinoRunner(model, 1, "f32", split_batch=True)
    (got,) = runner.run_images(images)  # 4 + 2 + 1
    assert runner.output_names == ("y",)
    assert got.shape == (7, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(got, _by_hand(images, "bgr"), rtol=1e-5)
    (single,) = runner.run_images(images[3:4])
    np.testing.assert_allclose(single, expected[3:4], rtol=1e-5)


@pytest.mark.parametrize("channels", ["bgr", "rgb"])
def test_both_runtimes_feed_the_model_its_channel_order(tmp_path: Path, channels: str) -> None:
    # OpenVINO converts inside the graph, onnxruntime in numpy: both must see the same input.
    model = _tiny_model(tmp_path / "tiny.onnx")
    images = _images(3, seed=1)
    (on_ort,) = OnnxRuntimeRunner(model, 1, channels=channels).run_images(images)  # type: ignore[arg-type]
    (on_ov,) = OpenVinoRunner(model, 1, "f32", channels=channels).run_images(images)  # type: ignore[arg-type]
    np.testing.assert_allclose(on_ort, _by_hand(images, channels), rtol=1e-5)
    np.testing.assert_allclose(on_ov, _by_hand(images, channels), rtol=1e-5)


@pytest.mark.parametrize("channels", ["bgr", "rgb"])
def test_in_graph_conversion_keeps_every_pixel_in_its_place(tmp_path: Path, channels: str) -> None:
    # A non-square image and a model that sees each pixel separately: a swapped height and width, a wrong
    # layout or channel order inside OpenVINO's conversion would move values around.
    model = _conv_model(tmp_path / "pixelwise.onnx", _PIXELWISE_WEIGHT, pooled=False)
    images = np.random.default_rng(2).integers(0, 256, (2, 3, 5, 3), dtype=np.uint8)  # N, H=3, W=5, C
    ordered = (images[..., ::-1] if channels == "rgb" else images).astype(np.float64)
    expected = np.einsum("nhwc,kc->nkhw", ordered, _PIXELWISE_WEIGHT).reshape(2, -1)
    (on_ov,) = OpenVinoRunner(model, 1, "f32", channels=channels).run_images(images)  # type: ignore[arg-type]
    (on_ort,) = OnnxRuntimeRunner(model, 1, channels=channels).run_images(images)  # type: ignore[arg-type]
    np.testing.assert_allclose(on_ov, expected, rtol=1e-5)
    np.testing.assert_allclose(on_ort, expected, rtol=1e-5)


def test_openvino_runner_serves_several_threads_at_once(tmp_path: Path) -> None:
    # Camera threads detect side by side with one shared model: each thread needs its own infer request
    # (a shared one would mix inputs and outputs of concurrent calls).
    model = _tiny_model(tmp_path / "tiny.onnx")
    runner = OpenVinoRunner(model, 1, "f32", parallel_calls=2)
    inputs = [_images(1, seed) for seed in range(4)]
    expected = [_by_hand(images, "bgr") for images in inputs]
    start = threading.Barrier(len(inputs))
    mismatches: list[int] = []

    def call_many(which: int) -> None:
        start.wait()
        for _ in range(200):
            (got,) = runner.run_images(inputs[which])
            if not np.allclose(got, expected[which], rtol=1e-5):
                mismatches.append(which)

    threads = [threading.Thread(target=call_many, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


def test_openvino_refuses_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="OpenVINO cannot load"):
        OpenVinoRunner(broken, 1, "f32")


def test_create_runner_logs_what_runs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    model = _tiny_model(tmp_path / "tiny.onnx")
    images = _images(2)
    with caplog.at_level(logging.INFO, logger="openlfr.models.runtime"):
        onnx_runner = create_runner(model, 1, "onnxruntime", "auto", what="tiny model")
        openvino_runner = create_runner(model, 1, "openvino", "f32", what="tiny model")
    assert "tiny model runs on onnxruntime-f32 (configured; 1 thread(s))" in caplog.text
    assert "tiny model runs on openvino-f32 (configured; 1 thread(s))" in caplog.text
    assert isinstance(onnx_runner, OnnxRuntimeRunner) and isinstance(openvino_runner, OpenVinoRunner)
    np.testing.assert_allclose(openvino_runner.run_images(images)[0], onnx_runner.run_images(images)[0], rtol=1e-5)


def _fresh_python(code: str, home: Path) -> str:
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LFR_CACHE_DIR": str(home.parent / "models")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow
def test_onnxruntime_configured_means_openvino_is_never_imported_and_nothing_under_home(tmp_path: Path) -> None:
    """With onnxruntime configured, OpenVINO is not even imported, and onnxruntime's own telemetry (device id and
    event cache under ~/.cache/Microsoft/DeveloperTools on main) is opted out of."""
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sys\n"
        "from openlfr.config.models import Settings, EngineConfig, YuNetConfig, SFaceConfig\n"
        "from openlfr.engine import FaceEngine\n"
        "ort = 'onnxruntime'\n"
        "engine = EngineConfig(detector=YuNetConfig(runtime=ort), embedder=SFaceConfig(runtime=ort))\n"
        "FaceEngine.from_settings(Settings(engine=engine))\n"
        "loaded = [m for m, module in sys.modules.items() if module is not None]\n"
        "print(sorted(m for m in loaded if m.split('.')[0] in ('openvino', 'openvino_telemetry')))\n"
    )
    assert _fresh_python(code, home) == "[]"
    assert list(home.rglob("*")) == []


@pytest.mark.skipif(not openvino_installed(), reason="openvino is not installed")
def test_openvino_runs_without_its_telemetry(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sys\n"
        "from openlfr.models.runtime import import_openvino\n"
        "openvino = import_openvino()\n"
        "openvino.Core()\n"
        "from openvino.tools.ovc import telemetry_utils\n"
        "print(telemetry_utils.tm.__name__, sys.modules['openvino_telemetry'])\n"
    )
    assert _fresh_python(code, home) == "openvino.tools.ovc.telemetry_stub None"
    assert list(home.rglob("*")) == []  # no ~/intel/openvino_ga_cid, no ~/intel/stats
