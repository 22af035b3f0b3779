"""Folding block-quantized weights: checked against hand computation and against onnxruntime itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from openlfr.errors import ModelLoadError
from openlfr.models.onnx_convert import converted_model_path, dequantize
from openlfr.models.runtime import create_session


def test_dequantize_blocked_matches_hand_computation() -> None:
    values = np.array([[1, 2, 3, 4, 5]], np.int8)
    scales = np.array([[0.5, 2.0]], np.float32)  # block of 3 then a short block of 2
    zero = np.array([[1, 0]], np.int8)
    expected = [[(1 - 1) * 0.5, (2 - 1) * 0.5, (3 - 1) * 0.5, 4 * 2.0, 5 * 2.0]]
    assert dequantize(values, scales, zero, axis=1, block_size=3).tolist() == expected


def test_dequantize_per_axis_and_per_tensor() -> None:
    values = np.array([[2, 4], [6, 8]], np.int8)
    assert dequantize(values, np.array([0.5, 2.0], np.float32), None, axis=0).tolist() == [[1, 2], [12, 16]]
    assert dequantize(values, np.array(0.25, np.float32), np.array(2, np.int8)).tolist() == [[0, 0.5], [1, 1.5]]


def _blocked_matmul_model(path: Path, weights: np.ndarray, block: int) -> np.ndarray:
    """x (1, K) @ W (K, N) with W stored int8 block-quantized along K; returns the float weights it encodes."""
    k, n = weights.shape
    blocks = -(-k // block)
    scales = np.abs(weights).reshape(-1)[: blocks * n].reshape(blocks, n).astype(np.float32) / 100 + 0.01
    expanded = np.repeat(scales, block, axis=0)[:k]
    quantized = np.clip(np.round(weights / expanded), -127, 127).astype(np.int8)
    nodes = [
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0, block_size=block),
        helper.make_node("MatMul", ["x", "w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "blocked",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
        initializer=[
            numpy_helper.from_array(quantized, "wq"),
            numpy_helper.from_array(scales, "ws"),
            numpy_helper.from_array(np.zeros_like(quantized[:blocks]), "wz"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.save(model, str(path))
    return (quantized.astype(np.float32) * expanded).astype(np.float32)


def test_converted_graph_runs_and_matches(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    source = tmp_path / "blocked.onnx"
    dequantized = _blocked_matmul_model(source, rng.standard_normal((10, 4)).astype(np.float32), block=4)
    converted = converted_model_path(source, tmp_path / "cache", [(0, "N")], [(0, "N")])
    graph = onnx.load(str(converted)).graph
    assert [node.op_type for node in graph.node] == ["MatMul"]
    session = create_session(converted, threads=1)
    x = rng.standard_normal((3, 10)).astype(np.float32)  # batch 3 works: the batch dim is symbolic now
    (y,) = session.run(None, {"x": x})
    assert np.allclose(y, x @ dequantized, atol=1e-5)


def test_conversion_is_cached_by_source_digest(tmp_path: Path) -> None:
    source = tmp_path / "blocked.onnx"
    _blocked_matmul_model(source, np.ones((4, 2), np.float32), block=2)
    first = converted_model_path(source, tmp_path, [], [])
    stamp = first.stat().st_mtime_ns
    assert converted_model_path(source, tmp_path, [], []) == first and first.stat().st_mtime_ns == stamp
    _blocked_matmul_model(source, np.full((4, 2), 3.0, np.float32), block=2)  # new content, new digest
    assert converted_model_path(source, tmp_path, [], []) != first


def test_unreadable_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf at all")
    with pytest.raises(ModelLoadError, match=r"bad\.onnx"):
        converted_model_path(bad, tmp_path / "cache", [], [])
    with pytest.raises(ModelLoadError, match="cannot load"):
        create_session(bad, threads=1)


@pytest.mark.parametrize("slopes", [[0.25, 0.0, 1.0], [-0.8, 0.3, 1.2]])
def test_prelu_rewrite_is_exact(tmp_path: Path, slopes: list[float]) -> None:
    """Both rewrites (Max form for slopes in [0, 1], Relu/Add form otherwise) equal onnxruntime's PRelu."""
    slope = np.array(slopes, np.float32).reshape(3, 1, 1)
    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "slope"], ["y"])],
        "prelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        initializer=[numpy_helper.from_array(slope, "slope")],
    )
    source = tmp_path / "prelu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(source))
    converted = converted_model_path(source, tmp_path / "cache", [], [])
    assert "PRelu" not in {node.op_type for node in onnx.load(str(converted)).graph.node}
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 4)).astype(np.float32)
    (expected,) = create_session(source, threads=1).run(None, {"x": x})
    (actual,) = create_session(converted, threads=1).run(None, {"x": x})
    assert np.allclose(actual, expected, atol=1e-6)
    assert np.allclose(expected, np.where(x > 0, x, slope * x), atol=1e-6)
