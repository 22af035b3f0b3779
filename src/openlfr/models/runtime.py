"""onnxruntime session creation with explicit thread counts (two sessions must not oversubscribe the cores)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openlfr.errors import ModelLoadError


def create_session(model_path: Path, threads: int) -> Any:
    """A CPU InferenceSession; raises ModelLoadError with the file name when onnxruntime refuses it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: shape warnings for symbolic dims are noise
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own non-exported exception types
        raise ModelLoadError(f"onnxruntime cannot load {model_path}: {exc}") from exc
