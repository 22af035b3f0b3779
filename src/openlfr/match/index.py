"""The ``VectorIndex`` protocol: top-k subjects for each probe, from a gallery of templates.

Scores are inner products of L2-normalised vectors (cosine similarity). A subject may own several
templates; its score for a probe is the **maximum** over its templates (the best-matching reference
image speaks for the subject — averaging would punish a subject for having one poor enrolment photo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from openlfr.types import Embedding, FloatArray, ModelContract

Backend = Literal["auto", "exact", "faiss"]

DEFAULT_FAISS_MIN_GALLERY = 2_000_000
"""Where ``backend="auto"`` switches to FAISS. Measured on our 2-core machine (docs/BENCHMARKS.md),
exact numpy search beat FAISS ``IndexFlatIP`` at every size up to 1M templates (6.2 vs 6.7 ms per
probe batched at 1M, 0.02 ms at 10k), and no approximate FAISS index kept recall@1 ≥ 0.99 on random
vectors; so FAISS only takes over beyond the sizes we measured, until it is tuned on real embeddings."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One subject returned by a search, with its best template score (cosine similarity)."""

    subject_id: str
    score: float


@dataclass(frozen=True, slots=True)
class FaissParams:
    """How the FAISS backend builds its index.

    ``index="flat"`` (default): ``IndexFlatIP``, exact, batched BLAS with FAISS's fused top-k (no
    (M, N) score matrix). ``index="hnsw"``: ``IndexHNSWFlat`` with the inner-product metric —
    approximate, only worth it where it was measured to keep recall: on uniform random 128-D vectors
    it did not (recall@1 0.52 at 200k, M=16, efSearch=128; see docs/BENCHMARKS.md), and its build
    took over 15 minutes at 1M on two shared cores. Real embeddings cluster by identity, which is
    the case HNSW is built for, but that is not measured yet. ``threads`` is set explicitly so
    FAISS's OpenMP pool does not oversubscribe the cores shared with decoding and inference.
    """

    index: Literal["flat", "hnsw"] = "flat"
    threads: int = 2
    hnsw_m: int = 32
    ef_construction: int = 64
    ef_search: int = 128


@runtime_checkable
class VectorIndex(Protocol):
    """A searchable gallery of templates that all share one model contract."""

    @property
    def contract(self) -> ModelContract: ...

    @property
    def backend(self) -> str:
        """Backend name and its index type, e.g. ``"exact"``, ``"faiss:IndexHNSWFlat"``."""
        ...

    @property
    def subjects(self) -> int:
        """Number of distinct subjects."""
        ...

    def __len__(self) -> int:
        """Number of templates."""
        ...

    def search(self, probes: FloatArray, k: int) -> list[list[SearchHit]]:
        """Top-``k`` subjects for each row of ``probes`` (M, D), best first.

        Fewer than ``k`` hits when the gallery has fewer subjects. Equal scores are ordered by
        ``subject_id``.
        """
        ...

    def search_embeddings(self, embeddings: list[Embedding], k: int) -> list[list[SearchHit]]:
        """As :meth:`search`; raises ``ContractMismatchError`` if any embedding's contract differs."""
        ...


def build_index(
    templates: FloatArray,
    subject_ids: Sequence[str],
    contract: ModelContract,
    *,
    backend: Backend = "auto",
    faiss_min_gallery: int = DEFAULT_FAISS_MIN_GALLERY,
    faiss_params: FaissParams | None = None,
) -> VectorIndex:
    """An index over ``templates`` (N, D) float32, L2-normalised, one ``subject_ids`` entry per row.

    ``backend="auto"`` picks FAISS from ``faiss_min_gallery`` templates on, exact numpy below.
    """
    from openlfr.match._backends import build

    return build(
        templates,
        subject_ids,
        contract,
        backend=backend,
        faiss_min_gallery=faiss_min_gallery,
        faiss_params=faiss_params or FaissParams(),
    )
