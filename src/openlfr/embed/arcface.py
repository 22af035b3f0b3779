"""Generic InsightFace-style ArcFace embedder for a user-supplied ONNX file.

UNTESTED AGAINST REAL WEIGHTS: no ArcFace-class weights ship here. The tests check the contract with
tiny graphs built in the test. Conventions: input (N, 3, 112, 112) RGB, (x − 127.5)/127.5; output
(N, D). A model with a fixed batch of 1 is run face by face.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from openlfr.config.models import ArcFaceOnnxConfig, EmbedderConfig
from openlfr.embed.align import ALIGNED_SIZE, ALIGNMENT_VERSION
from openlfr.embed.base import run_batched
from openlfr.errors import ModelLoadError
from openlfr.models.files import file_sha256
from openlfr.models.runtime import create_session
from openlfr.types import FloatArray, ModelContract, l2_normalise

ARCFACE_PREPROCESSING = f"{ALIGNMENT_VERSION}+rgb-127.5/127.5"


class ArcFaceOnnxEmbedder:
    def __init__(self, config: ArcFaceOnnxConfig) -> None:
        if not config.model_path.is_file():
            raise ModelLoadError(f"ArcFace model file not found: {config.model_path}")
        self._session = create_session(config.model_path, config.threads)
        model_input = self._session.get_inputs()[0]
        shape = list(model_input.shape)
        if len(shape) != 4 or shape[1] != 3 or shape[2:] != [ALIGNED_SIZE, ALIGNED_SIZE]:
            raise ModelLoadError(
                f"{config.model_path}: input shape {shape} is not (N, 3, 112, 112) as ArcFace-style models use"
            )
        output_shape = self._session.get_outputs()[0].shape
        if len(output_shape) != 2 or not isinstance(output_shape[1], int):
            raise ModelLoadError(f"{config.model_path}: output shape {output_shape} is not (N, D)")
        self._input_name = model_input.name
        self._max_batch = config.max_batch if not isinstance(shape[0], int) else 1
        self.contract = ModelContract(
            model=config.model_name,
            weights_sha256=file_sha256(config.model_path),
            dimension=int(output_shape[1]),
            preprocessing=ARCFACE_PREPROCESSING,
        )

    def embed_aligned(self, crops: npt.NDArray[np.uint8]) -> FloatArray:
        return run_batched(crops, self._max_batch, self.contract.dimension, self._infer)

    def _infer(self, crops: npt.NDArray[np.uint8]) -> FloatArray:
        blob = ((crops[..., ::-1].astype(np.float32) - 127.5) / 127.5).transpose(0, 3, 1, 2)
        (features,) = self._session.run(None, {self._input_name: np.ascontiguousarray(blob)})
        return l2_normalise(features)


def make_arcface_embedder(config: EmbedderConfig, cache_dir: Path) -> ArcFaceOnnxEmbedder:
    assert isinstance(config, ArcFaceOnnxConfig)
    return ArcFaceOnnxEmbedder(config)
