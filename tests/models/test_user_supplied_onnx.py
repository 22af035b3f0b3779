"""Shape contracts of the user-supplied `scrfd_onnx` detector and `arcface_onnx` embedder.

No real SCRFD/ArcFace weights ship here: tiny graphs built in the test stand in for them, with
outputs we can predict exactly, so the preprocessing and decoding conventions are pinned down.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from openlfr.config.models import ArcFaceOnnxConfig, ScrfdOnnxConfig
from openlfr.detect.scrfd import ScrfdDetector, anchor_centres
from openlfr.embed.arcface import ArcFaceOnnxEmbedder
from openlfr.errors import ModelLoadError


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _arcface_model(path: Path, weights: np.ndarray, batch: int | str = "N") -> Path:
    """y = flatten(x) @ W: linear, so the expected output is computable in numpy."""
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["x"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w"], ["y"]),
        ],
        "tiny_arcface",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 112, 112])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, weights.shape[1]])],
        initializer=[numpy_helper.from_array(weights, "w")],
    )
    return _save(graph, path)


@pytest.mark.parametrize("batch", ["N", 1])
def test_arcface_preprocessing_and_normalisation(tmp_path: Path, batch: int | str) -> None:
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((3 * 112 * 112, 8)).astype(np.float32) / 100
    path = _arcface_model(tmp_path / "arc.onnx", weights, batch)
    embedder = ArcFaceOnnxEmbedder(ArcFaceOnnxConfig(model_path=path, model_name="tiny"))
    crops = rng.integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)  # BGR
    vectors = embedder.embed_aligned(crops)
    rgb = crops[..., ::-1].astype(np.float32)
    expected = (((rgb - 127.5) / 127.5).transpose(0, 3, 1, 2).reshape(3, -1)) @ weights
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert vectors.shape == (3, 8) and np.allclose(vectors, expected, atol=1e-4)
    assert embedder.contract.dimension == 8 and embedder.contract.model == "tiny"
    assert embedder.contract.preprocessing.endswith("rgb-127.5/127.5")
    assert embedder.embed_aligned(crops[:0]).shape == (0, 8)


def test_arcface_rejects_wrong_input_shape(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "wrong",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 64, 64])],
    )
    with pytest.raises(ModelLoadError, match=r"not \(N, 3, 112, 112\)"):
        ArcFaceOnnxEmbedder(ArcFaceOnnxConfig(model_path=_save(graph, tmp_path / "wrong.onnx")))
    with pytest.raises(ModelLoadError, match="not found"):
        ArcFaceOnnxEmbedder(ArcFaceOnnxConfig(model_path=tmp_path / "missing.onnx"))


SIZE = 64  # network input side for the tiny SCRFD graph


def _scrfd_model(path: Path, face_at: tuple[int, int], distances: np.ndarray, kps: np.ndarray) -> Path:
    """Constant outputs shaped like SCRFD's for a 64×64 input: one confident anchor at stride 8."""
    outputs, initializers, nodes = [], [], []
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            anchors = (SIZE // stride) ** 2 * 2
            value = np.zeros((anchors, width), np.float32)
            if stride == 8:
                cell = face_at[1] * (SIZE // 8) + face_at[0]
                row = cell * 2  # first anchor of that cell
                value[row] = {"score": np.array([0.9]), "bbox": distances, "kps": kps}[kind]
            name = f"{kind}_{stride}"
            initializers.append(numpy_helper.from_array(value, f"{name}_c"))
            nodes.append(helper.make_node("Identity", [f"{name}_c"], [name]))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [anchors, width]))
    graph = helper.make_graph(
        nodes,
        "tiny_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        outputs,
        initializer=initializers,
    )
    return _save(graph, path)


def test_scrfd_decoding_and_letterbox_mapping(tmp_path: Path) -> None:
    distances = np.array([1.0, 2.0, 1.5, 2.5], np.float32)  # left, top, right, bottom in stride units
    kps = np.arange(10, dtype=np.float32) / 10
    path = _scrfd_model(tmp_path / "scrfd.onnx", (3, 2), distances, kps)
    detector = ScrfdDetector(ScrfdOnnxConfig(model_path=path, input_size=SIZE))
    image = np.zeros((64, 128, 3), np.uint8)  # letterboxed into 64×64 at scale 0.5
    found = detector.detect(image)
    assert len(found) == 1 and found.scores[0] == pytest.approx(0.9)
    centre = np.array([3 * 8, 2 * 8], np.float32)
    expected_box = np.concatenate([centre - distances[:2] * 8, centre + distances[2:] * 8]) / 0.5
    assert np.allclose(found.boxes[0], expected_box)
    assert np.allclose(found.landmarks[0], (centre + kps.reshape(5, 2) * 8) / 0.5)


def test_scrfd_anchor_layout() -> None:
    centres = anchor_centres(64, 16)
    assert centres.shape == (32, 2) and centres[:4].tolist() == [[0, 0], [0, 0], [16, 0], [16, 0]]


def test_scrfd_without_landmarks_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "no_kps",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
    )
    with pytest.raises(ModelLoadError, match="expected 9 outputs"):
        ScrfdDetector(ScrfdOnnxConfig(model_path=_save(graph, tmp_path / "x.onnx"), input_size=SIZE))
