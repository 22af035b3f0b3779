"""Test-time flip augmentation: one vector for a face and its mirror image, under its own model contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.config.models import FakeEmbedderConfig, SFaceConfig
from openlfr.embed.base import FLIP_PREPROCESSING, FlipAugmented, create_embedder
from openlfr.errors import ConfigError, ContractMismatchError
from openlfr.pipeline.thresholds import SFACE_INT8BQ, SFACE_INT8BQ_NO_FLIP, default_threshold
from openlfr.types import Embedding, ModelContract


def crops(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 112, 112, 3), dtype=np.uint8)


def test_flip_sums_the_face_and_its_mirror_and_renormalises(tmp_path: Path) -> None:
    plain = create_embedder(FakeEmbedderConfig(), tmp_path)
    flipped = create_embedder(FakeEmbedderConfig(flip=True), tmp_path)
    assert isinstance(flipped, FlipAugmented)
    faces = crops(3)
    expected = plain.embed_aligned(faces) + plain.embed_aligned(np.ascontiguousarray(faces[:, :, ::-1]))
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(flipped.embed_aligned(faces), expected, atol=1e-6)
    # A face and its mirror image are one vector; the plain model gives two different ones.
    mirrored = np.ascontiguousarray(faces[:, :, ::-1])
    np.testing.assert_allclose(flipped.embed_aligned(faces), flipped.embed_aligned(mirrored), atol=1e-6)
    assert not np.allclose(plain.embed_aligned(faces), plain.embed_aligned(mirrored), atol=1e-3)
    assert flipped.embed_aligned(faces[:0]).shape == (0, plain.contract.dimension)


def test_flipped_vectors_never_compare_with_plain_ones(tmp_path: Path) -> None:
    plain = create_embedder(FakeEmbedderConfig(), tmp_path)
    flipped = create_embedder(FakeEmbedderConfig(flip=True), tmp_path)
    assert flipped.contract.preprocessing == plain.contract.preprocessing + FLIP_PREPROCESSING
    face = crops(1)
    a = Embedding(plain.embed_aligned(face)[0], plain.contract)
    b = Embedding(flipped.embed_aligned(face)[0], flipped.contract)
    with pytest.raises(ContractMismatchError):
        a.similarity(b)


def test_sface_flips_by_default_and_each_set_up_has_its_own_calibrated_threshold() -> None:
    assert SFaceConfig().flip is True
    assert SFACE_INT8BQ.preprocessing.endswith(FLIP_PREPROCESSING)
    assert SFACE_INT8BQ_NO_FLIP.preprocessing + FLIP_PREPROCESSING == SFACE_INT8BQ.preprocessing
    for entry in (SFACE_INT8BQ, SFACE_INT8BQ_NO_FLIP):
        contract = ModelContract(entry.model, entry.weights_sha256, 128, entry.preprocessing)
        assert default_threshold(contract) == entry.threshold
    other = ModelContract(SFACE_INT8BQ.model, SFACE_INT8BQ.weights_sha256, 128, "align5-arcface112-v1+other")
    with pytest.raises(ConfigError):
        default_threshold(other)  # same weights, other preprocessing: not calibrated
