"""Makes the block-quantized OpenCV Zoo graphs loadable by onnxruntime.

onnxruntime refuses ``DequantizeLinear`` with ``block_size`` on these files. Every such node here
dequantizes a constant weight, so we compute its float32 output once and store it as an initializer
("folding"). Reshapes of constants are folded too, dangling graph inputs (old-style weight inputs)
are dropped, and chosen dimensions are made symbolic so one session serves any batch or image size.
The result is cached on disk keyed by the source file's sha256: conversion runs once per machine.

``PRelu`` with a per-channel slope is also rewritten as ``Max(x, slope·x)`` (exact when every slope
is in [0, 1]) or ``Relu(x)·(1 − slope) + slope·x`` (exact for any slope). Measured: onnxruntime's CPU
PRelu with a (C,1,1) slope forces layout reorders around every convolution and took over half of
SFace's inference time; the element-wise form stays in the blocked layout (see docs/ENGINE.md).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.errors import ModelLoadError
from openlfr.models.files import file_sha256

log = logging.getLogger(__name__)

CONVERSION_VERSION = "fold-v2"


def converted_model_path(
    source: Path,
    cache_dir: Path,
    symbolic_input_dims: Sequence[tuple[int, str]],
    symbolic_output_dims: Sequence[tuple[int, str]],
) -> Path:
    """Path of the float32 version of ``source`` in ``cache_dir``, converting it first if needed."""
    digest = file_sha256(source)
    dims_tag = "-".join(f"{i}{n}" for i, n in (*symbolic_input_dims, *symbolic_output_dims))
    target = cache_dir / "models" / f"{source.stem}-{digest[:16]}-{CONVERSION_VERSION}-{dims_tag}.onnx"
    if target.is_file():
        return target
    log.info("converting %s for onnxruntime (once; cached at %s)", source.name, target)
    model = _convert(source, symbolic_input_dims, symbolic_output_dims)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Atomic publish: a concurrent process either sees no file or a whole one.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    try:
        import onnx

        onnx.save(model, tmp)
        Path(tmp).replace(target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def _convert(
    source: Path,
    symbolic_input_dims: Sequence[tuple[int, str]],
    symbolic_output_dims: Sequence[tuple[int, str]],
) -> Any:
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(source))
    except Exception as exc:  # onnx raises DecodeError and friends
        raise ModelLoadError(f"{source}: not a readable ONNX model ({exc})") from exc
    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    kept = []
    for node in graph.node:
        folded = _fold_node(node, constants)
        if folded is None:
            kept.append(node)
        else:
            constants[node.output[0]] = folded
    kept = _rewrite_prelu(kept, constants)
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in kept for name in node.input} | {out.name for out in graph.output}
    del graph.initializer[:]
    graph.initializer.extend(
        numpy_helper.from_array(np.ascontiguousarray(value), name) for name, value in constants.items() if name in used
    )
    inputs = [value for value in graph.input if value.name in used and value.name not in constants]
    del graph.input[:]
    graph.input.extend(inputs)
    for axis, name in symbolic_input_dims:
        graph.input[0].type.tensor_type.shape.dim[axis].dim_param = name
    for output in graph.output:
        for axis, name in symbolic_output_dims:
            output.type.tensor_type.shape.dim[axis].dim_param = name
    return model


def _rewrite_prelu(nodes: list[Any], constants: dict[str, np.ndarray]) -> list[Any]:
    from onnx import helper

    rewritten = []
    for node in nodes:
        slope_name = node.input[1] if node.op_type == "PRelu" else None
        if slope_name is None or slope_name not in constants:
            rewritten.append(node)
            continue
        x, y, slope = node.input[0], node.output[0], constants[slope_name]
        scaled = f"{y}__scaled"
        rewritten.append(helper.make_node("Mul", [x, slope_name], [scaled]))
        if float(slope.min()) >= 0.0 and float(slope.max()) <= 1.0:
            rewritten.append(helper.make_node("Max", [x, scaled], [y]))
            continue
        positive, complement, kept_positive = f"{y}__relu", f"{slope_name}__one_minus", f"{y}__positive"
        constants[complement] = (1.0 - slope).astype(np.float32)
        rewritten += [
            helper.make_node("Relu", [x], [positive]),
            helper.make_node("Mul", [positive, complement], [kept_positive]),
            helper.make_node("Add", [kept_positive, scaled], [y]),
        ]
    return rewritten


def _fold_node(node: object, constants: dict[str, np.ndarray]) -> np.ndarray | None:
    from onnx import helper

    op_type: str = node.op_type  # type: ignore[attr-defined]
    inputs: list[str] = [name for name in node.input if name]  # type: ignore[attr-defined]
    if not inputs or not all(name in constants for name in inputs):
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}  # type: ignore[attr-defined]
    if op_type == "DequantizeLinear":
        return dequantize(
            constants[inputs[0]],
            constants[inputs[1]],
            constants[inputs[2]] if len(inputs) > 2 else None,
            axis=int(attrs.get("axis", 1)),
            block_size=int(attrs.get("block_size", 0)),
        )
    if op_type == "Reshape":
        return constants[inputs[0]].reshape(constants[inputs[1]])
    return None


def dequantize(
    values: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None, axis: int = 1, block_size: int = 0
) -> np.ndarray:
    """ONNX DequantizeLinear semantics (per-tensor, per-axis and blocked): (x - zero_point) * scale."""
    x = values.astype(np.float32)
    s = scale.astype(np.float32)
    z = np.zeros_like(s) if zero_point is None else zero_point.astype(np.float32)
    axis = axis % max(x.ndim, 1)
    if block_size > 0:
        # Each scale covers `block_size` consecutive elements along `axis`; the last block may be short.
        s = np.repeat(s, block_size, axis=axis).take(range(x.shape[axis]), axis=axis)
        z = np.repeat(z, block_size, axis=axis).take(range(x.shape[axis]), axis=axis)
    elif s.ndim == 1 and s.size > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    return ((x - z) * s).astype(np.float32)
