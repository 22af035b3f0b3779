"""The records that cross between the control plane and the workers (no Ray needed): a snapshot travels in
chunks small enough for Ray to carry inside each call, and comes back whole."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from openlfr.cluster.types import RAY_INLINE_LIMIT_BYTES, SNAPSHOT_CHUNK_BYTES, SnapshotPayload
from openlfr.types import ModelContract

CONTRACT = ModelContract("test-model", "a" * 64, 512, "v1")


def test_a_realistic_watchlist_crosses_in_chunks_under_rays_inline_limit_and_comes_back_whole() -> None:
    count = 10_000  # 10,000 subjects x 512 float32: 20 MB, 200 times Ray's inline limit
    templates = np.random.default_rng(3).standard_normal((count, 512)).astype(np.float32)
    payload = SnapshotPayload(
        "snap", templates, tuple(f"s{i:05d}" for i in range(count)), tuple(f"r{i:05d}" for i in range(count)), CONTRACT
    )
    assert payload.nbytes >= 200 * RAY_INLINE_LIMIT_BYTES
    chunks = payload.to_chunks()
    assert SNAPSHOT_CHUNK_BYTES < RAY_INLINE_LIMIT_BYTES
    assert all(0 < len(c) <= SNAPSHOT_CHUNK_BYTES for c in chunks)
    assert len(chunks) >= payload.nbytes // SNAPSHOT_CHUNK_BYTES
    back = SnapshotPayload.from_chunks(chunks)
    assert np.array_equal(back.templates, templates) and back.templates.dtype == np.float32
    assert back.subject_ids == payload.subject_ids and back.references == payload.references
    assert back.name == "snap" and back.contract == CONTRACT


def test_chunks_of_something_else_are_refused() -> None:
    with pytest.raises(TypeError, match="not a snapshot"):
        SnapshotPayload.from_chunks([pickle.dumps({"templates": []})])
