"""Backends behind ``build_index``: exact numpy search and FAISS (imported only when used)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from openlfr.match.index import Backend, FaissParams, SearchHit, VectorIndex
from openlfr.types import Embedding, FloatArray, ModelContract

IntArray = npt.NDArray[np.intp]

# Bytes of similarity matrix the exact backend materialises per probe chunk: big enough for BLAS to
# run at full speed, small enough that a 1M gallery does not need gigabytes per batch of probes.
_CHUNK_BYTES = 64 * 1024 * 1024
_NORM_TOLERANCE = 1e-3


@dataclass(frozen=True, slots=True)
class _Subjects:
    """Subject of every template as an integer code; codes follow sorted ``subject_id`` order, so
    ordering equal scores by code orders them by ``subject_id``."""

    names: tuple[str, ...]
    codes: IntArray  # (N,), code of each template row
    max_templates: int

    @classmethod
    def from_ids(cls, subject_ids: Sequence[str]) -> _Subjects:
        names, codes, counts = np.unique(np.asarray(subject_ids, dtype=str), return_inverse=True, return_counts=True)
        return cls(tuple(str(n) for n in names), codes.astype(np.intp).reshape(-1), int(counts.max()))


def build(
    templates: FloatArray,
    subject_ids: Sequence[str],
    contract: ModelContract,
    *,
    backend: Backend,
    faiss_min_gallery: int,
    faiss_params: FaissParams,
) -> VectorIndex:
    vectors = _check_templates(templates, subject_ids, contract)
    subjects = _Subjects.from_ids(subject_ids)
    if backend == "auto":
        backend = "faiss" if len(vectors) >= faiss_min_gallery else "exact"
    if backend == "exact":
        return ExactIndex(vectors, subjects, contract)
    if backend == "faiss":
        return FaissIndex(vectors, subjects, contract, faiss_params)
    raise ValueError(f"unknown index backend {backend!r}; expected 'auto', 'exact' or 'faiss'")


def _check_templates(templates: FloatArray, subject_ids: Sequence[str], contract: ModelContract) -> FloatArray:
    vectors = np.ascontiguousarray(templates, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != contract.dimension:
        raise ValueError(
            f"templates must have shape (N, {contract.dimension}) for model {contract.model}, got {vectors.shape}"
        )
    if len(vectors) == 0:
        raise ValueError("cannot build an index from an empty gallery: enrol at least one template")
    if len(subject_ids) != len(vectors):
        raise ValueError(f"{len(vectors)} templates but {len(subject_ids)} subject ids")
    norms = np.linalg.norm(vectors, axis=1)
    if not np.all(np.abs(norms - 1.0) <= _NORM_TOLERANCE):
        worst = int(np.argmax(np.abs(norms - 1.0)))
        raise ValueError(f"templates must be L2-normalised; row {worst} has norm {float(norms[worst]):.4f}")
    return vectors


class _IndexBase:
    """Validation and hit formatting shared by the backends."""

    def __init__(self, subjects: _Subjects, contract: ModelContract, size: int) -> None:
        self._subjects = subjects
        self._contract = contract
        self._size = size

    @property
    def contract(self) -> ModelContract:
        return self._contract

    @property
    def subjects(self) -> int:
        return len(self._subjects.names)

    def __len__(self) -> int:
        return self._size

    def search(self, probes: FloatArray, k: int) -> list[list[SearchHit]]:
        matrix = self._check_probes(probes, k)
        if len(matrix) == 0:
            return []
        codes, scores = self._search_codes(matrix, min(k, self.subjects))
        names = self._subjects.names
        return [
            [SearchHit(names[c], s) for c, s in zip(row_codes, row_scores, strict=True)]
            for row_codes, row_scores in zip(codes, scores, strict=True)
        ]

    def search_embeddings(self, embeddings: list[Embedding], k: int) -> list[list[SearchHit]]:
        for embedding in embeddings:
            self._contract.require_same(embedding.contract)
        if not embeddings:
            return []
        return self.search(np.stack([e.vector for e in embeddings]), k)

    def _check_probes(self, probes: FloatArray, k: int) -> FloatArray:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        matrix = np.ascontiguousarray(probes, dtype=np.float32)
        dimension = self._contract.dimension
        if matrix.ndim != 2 or matrix.shape[1] != dimension:
            raise ValueError(
                f"probes must have shape (M, {dimension}) for model {self._contract.model}, got {matrix.shape}"
            )
        return matrix

    def _search_codes(self, probes: FloatArray, k: int) -> tuple[list[list[int]], list[list[float]]]:
        raise NotImplementedError


class ExactIndex(_IndexBase):
    """Brute force: one float32 matrix product per chunk of probes, then a per-subject max."""

    def __init__(self, vectors: FloatArray, subjects: _Subjects, contract: ModelContract) -> None:
        super().__init__(subjects, contract, len(vectors))
        # Rows grouped by subject so ``np.maximum.reduceat`` takes each subject's max in one pass.
        order = np.argsort(subjects.codes, kind="stable")
        identity = bool(np.array_equal(order, np.arange(len(order))))
        self._vectors = vectors if identity else np.ascontiguousarray(vectors[order])
        sorted_codes = subjects.codes[order]
        self._starts: IntArray | None = None
        if subjects.max_templates > 1:
            self._starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]).astype(np.intp)

    @property
    def backend(self) -> str:
        return "exact"

    def _search_codes(self, probes: FloatArray, k: int) -> tuple[list[list[int]], list[list[float]]]:
        rows = max(1, _CHUNK_BYTES // (4 * len(self._vectors)))
        codes: list[list[int]] = []
        scores: list[list[float]] = []
        for start in range(0, len(probes), rows):
            similarities = probes[start : start + rows] @ self._vectors.T
            if self._starts is not None:
                similarities = np.maximum.reduceat(similarities, self._starts, axis=1)
            chunk_codes, chunk_scores = top_k_rows(similarities, k)
            codes.extend(chunk_codes.tolist())
            scores.extend(chunk_scores.tolist())
        return codes, scores


def top_k_rows(scores: FloatArray, k: int) -> tuple[IntArray, FloatArray]:
    """Column indices and values of the ``k`` largest entries of each row, by value desc then index asc.

    ``argpartition`` picks arbitrarily among values tied at the k-th place; rows where that happens
    are redone exactly so results never depend on partition internals.
    """
    columns = scores.shape[1]
    k = min(k, columns)
    if k == 1:
        # The common watchlist query; argmax is several times faster than argpartition and already
        # returns the lowest index among ties.
        best = np.argmax(scores, axis=1)[:, None]
        return best.astype(np.intp), np.take_along_axis(scores, best, axis=1)
    if k < columns:
        top = np.argpartition(scores, columns - k, axis=1)[:, columns - k :]
    else:
        top = np.broadcast_to(np.arange(columns), scores.shape).copy()
    values = np.take_along_axis(scores, top, axis=1)
    order = np.lexsort((top, -values), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    if k < columns:
        kth = values[:, -1:]
        for row in np.flatnonzero(np.count_nonzero(scores >= kth, axis=1) > k):
            candidates = np.flatnonzero(scores[row] >= kth[row, 0])
            best = candidates[np.lexsort((candidates, -scores[row, candidates]))][:k]
            top[row] = best
            values[row] = scores[row, best]
    return top.astype(np.intp), values


class FaissIndex(_IndexBase):
    """FAISS over the templates (flat or HNSW, see ``FaissParams``); subjects fused by max after
    over-fetching templates."""

    def __init__(self, vectors: FloatArray, subjects: _Subjects, contract: ModelContract, params: FaissParams) -> None:
        super().__init__(subjects, contract, len(vectors))
        import faiss

        self._faiss: Any = faiss
        self._params = params
        faiss.omp_set_num_threads(params.threads)
        index: Any
        if params.index == "hnsw":
            index = faiss.IndexHNSWFlat(contract.dimension, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = params.ef_construction
            index.hnsw.efSearch = params.ef_search
        else:
            index = faiss.IndexFlatIP(contract.dimension)
        index.add(vectors)
        self._index: Any = index
        self._kind = type(index).__name__

    @property
    def backend(self) -> str:
        return f"faiss:{self._kind}"

    def _search_codes(self, probes: FloatArray, k: int) -> tuple[list[list[int]], list[list[float]]]:
        self._faiss.omp_set_num_threads(self._params.threads)
        if k == 1 and self._subjects.max_templates == 1:
            # The common watchlist query needs no fusion: skip the per-row loop (~20 µs a probe).
            similarities, labels = self._index.search(probes, 1)
            if np.all(labels >= 0):
                codes: list[list[int]] = self._subjects.codes[labels].tolist()
                return codes, similarities.tolist()
        # With at most T templates per subject, the best k*T templates hold the best k subjects
        # (exactly so for a flat index); an approximate index may return fewer: fetch more for those rows.
        fetch = min(len(self), k * self._subjects.max_templates)
        results: dict[int, tuple[list[int], list[float]]] = {}
        pending = np.arange(len(probes))
        while len(pending):
            similarities, labels = self._index.search(probes[pending], fetch)
            short = []
            for row, row_sims, row_labels in zip(pending, similarities, labels, strict=True):
                fused = self._fuse(row_labels, row_sims, k)
                if len(fused[0]) < k and fetch < len(self):
                    short.append(row)
                else:
                    results[int(row)] = fused
            pending = np.asarray(short, dtype=np.intp)
            fetch = min(len(self), fetch * 4)
        ordered = [results[row] for row in range(len(probes))]
        return [codes for codes, _ in ordered], [scores for _, scores in ordered]

    def _fuse(self, labels: IntArray, similarities: FloatArray, k: int) -> tuple[list[int], list[float]]:
        """Best score per subject among the fetched templates; ordered by score desc, subject id asc."""
        valid = labels >= 0
        codes = self._subjects.codes[labels[valid]]
        scores = similarities[valid]
        order = np.lexsort((codes, -scores))
        codes, scores = codes[order], scores[order]
        _, first = np.unique(codes, return_index=True)
        first = np.sort(first)[:k]
        return codes[first].tolist(), scores[first].tolist()
