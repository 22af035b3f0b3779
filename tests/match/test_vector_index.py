"""Exact search against a brute-force reference, validation errors and backend selection."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ContractMismatchError
from openlfr.match import SearchHit, VectorIndex, build_index
from openlfr.match._backends import top_k_rows
from openlfr.types import Embedding, FloatArray, ModelContract, l2_normalise

CONTRACT = ModelContract("test-model", "a" * 64, 16, "v1")
OTHER = ModelContract("other-model", "b" * 64, 16, "v1")


def unit(rng: np.random.Generator, rows: int, dimension: int = 16) -> FloatArray:
    return l2_normalise(rng.standard_normal((rows, dimension)))


def brute_force(templates: FloatArray, ids: list[str], probes: FloatArray, k: int) -> list[list[tuple[str, float]]]:
    """Per-subject max by a plain loop; order by score desc then subject id."""
    results = []
    for probe in probes:
        best: dict[str, float] = {}
        for vector, subject in zip(templates, ids, strict=True):
            score = float(np.dot(probe, vector))
            best[subject] = max(best.get(subject, -np.inf), score)
        results.append(sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k])
    return results


def multi_template_gallery(rng: np.random.Generator) -> tuple[FloatArray, list[str]]:
    """97 subjects with 1-5 templates each, rows shuffled so subjects are not contiguous."""
    counts = rng.integers(1, 6, 97)
    ids = [f"subject-{s:03d}" for s, count in enumerate(counts) for _ in range(count)]
    order = rng.permutation(len(ids))
    return unit(rng, len(ids))[order], [ids[i] for i in order]


def assert_same(hits: list[list[SearchHit]], expected: list[list[tuple[str, float]]]) -> None:
    assert [[h.subject_id for h in row] for row in hits] == [[s for s, _ in row] for row in expected]
    for row, expected_row in zip(hits, expected, strict=True):
        np.testing.assert_allclose([h.score for h in row], [s for _, s in expected_row], atol=1e-5)


@pytest.mark.parametrize("k", [1, 3, 10, 97, 500])
def test_exact_matches_brute_force_with_multi_template_subjects(k: int) -> None:
    rng = np.random.default_rng(k)
    templates, ids = multi_template_gallery(rng)
    probes = unit(rng, 25)
    index = build_index(templates, ids, CONTRACT, backend="exact")
    hits = index.search(probes, k)
    assert_same(hits, brute_force(templates, ids, probes, k))
    assert all(len(row) == min(k, 97) for row in hits)


def test_single_template_subjects_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    templates = unit(rng, 200)
    ids = [f"p{i}" for i in rng.permutation(200)]
    probes = unit(rng, 10)
    assert_same(build_index(templates, ids, CONTRACT).search(probes, 5), brute_force(templates, ids, probes, 5))


def test_probe_finds_its_own_subject_with_max_fusion() -> None:
    rng = np.random.default_rng(3)
    templates, ids = multi_template_gallery(rng)
    hits = build_index(templates, ids, CONTRACT).search(templates[:20], 1)
    assert [row[0].subject_id for row in hits] == ids[:20]
    np.testing.assert_allclose([row[0].score for row in hits], 1.0, atol=1e-5)


def test_ties_are_ordered_by_subject_id_even_at_the_kth_place() -> None:
    rng = np.random.default_rng(5)
    shared = unit(rng, 1)
    others = unit(rng, 30)  # unrelated subjects
    templates = np.concatenate([np.repeat(shared, 4, axis=0), others])
    ids = ["delta", "bravo", "charlie", "alpha", *[f"z{i:02d}" for i in range(30)]]
    index = build_index(templates, ids, CONTRACT)
    assert [h.subject_id for h in index.search(shared, 1)[0]] == ["alpha"]
    assert [h.subject_id for h in index.search(shared, 2)[0]] == ["alpha", "bravo"]
    assert [h.subject_id for h in index.search(shared, 4)[0]] == ["alpha", "bravo", "charlie", "delta"]


def test_top_k_rows_breaks_boundary_ties_by_column() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1, 0.5]], dtype=np.float32)
    columns, values = top_k_rows(scores, 3)
    assert columns.tolist() == [[1, 0, 2]]
    assert values[0].tolist() == pytest.approx([0.9, 0.5, 0.5])


def test_k_larger_than_subjects_returns_every_subject_once() -> None:
    rng = np.random.default_rng(11)
    templates = unit(rng, 6)
    ids = ["a", "b", "a", "c", "b", "a"]
    hits = build_index(templates, ids, CONTRACT).search(unit(rng, 2), 50)
    assert all(sorted(h.subject_id for h in row) == ["a", "b", "c"] for row in hits)
    assert all([h.score for h in row] == sorted((h.score for h in row), reverse=True) for row in hits)


def test_index_reports_its_size_contract_and_backend() -> None:
    rng = np.random.default_rng(0)
    index = build_index(unit(rng, 6), ["a", "b", "a", "c", "b", "a"], CONTRACT)
    assert isinstance(index, VectorIndex)
    assert (len(index), index.subjects, index.contract, index.backend) == (6, 3, CONTRACT, "exact")


def test_empty_gallery_is_refused() -> None:
    with pytest.raises(ValueError, match="empty gallery"):
        build_index(np.zeros((0, 16), np.float32), [], CONTRACT)


def test_subject_ids_must_match_templates() -> None:
    with pytest.raises(ValueError, match="3 templates but 2 subject ids"):
        build_index(unit(np.random.default_rng(0), 3), ["a", "b"], CONTRACT)


def test_templates_must_be_normalised() -> None:
    with pytest.raises(ValueError, match="L2-normalised; row 1"):
        build_index(unit(np.random.default_rng(0), 3) * np.array([[1.0], [2.0], [1.0]], np.float32), "abc", CONTRACT)


def test_wrong_template_dimension_names_the_expected_shape() -> None:
    with pytest.raises(ValueError, match=r"shape \(N, 16\) for model test-model, got \(4, 8\)"):
        build_index(unit(np.random.default_rng(0), 4, 8), list("abcd"), CONTRACT)


@pytest.mark.parametrize("backend", ["exact", "faiss"])
def test_wrong_probe_dimension_names_the_expected_shape(backend: str) -> None:
    index = build_index(unit(np.random.default_rng(0), 4), list("abcd"), CONTRACT, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"probes must have shape \(M, 16\) for model test-model, got \(2, 12\)"):
        index.search(unit(np.random.default_rng(1), 2, 12), 1)
    with pytest.raises(ValueError, match=r"got \(16,\)"):
        index.search(unit(np.random.default_rng(1), 1)[0], 1)


def test_k_must_be_positive_and_no_probes_give_no_hits() -> None:
    index = build_index(unit(np.random.default_rng(0), 4), list("abcd"), CONTRACT)
    with pytest.raises(ValueError, match="k must be at least 1"):
        index.search(unit(np.random.default_rng(1), 1), 0)
    assert index.search(np.zeros((0, 16), np.float32), 3) == []
    assert index.search_embeddings([], 3) == []


@pytest.mark.parametrize("backend", ["exact", "faiss"])
def test_search_embeddings_checks_the_contract(backend: str) -> None:
    rng = np.random.default_rng(2)
    templates = unit(rng, 5)
    index = build_index(templates, list("abcde"), CONTRACT, backend=backend)  # type: ignore[arg-type]
    hits = index.search_embeddings([Embedding(templates[3], CONTRACT), Embedding(templates[1], CONTRACT)], 1)
    assert [row[0].subject_id for row in hits] == ["d", "b"]
    with pytest.raises(ContractMismatchError):
        index.search_embeddings([Embedding(templates[0], CONTRACT), Embedding(templates[0], OTHER)], 1)


def test_auto_backend_switches_to_faiss_at_the_threshold() -> None:
    rng = np.random.default_rng(4)
    templates = unit(rng, 100)
    ids = [str(i) for i in range(100)]
    assert build_index(templates[:99], ids[:99], CONTRACT, faiss_min_gallery=100).backend == "exact"
    assert build_index(templates, ids, CONTRACT, faiss_min_gallery=100).backend.startswith("faiss")
    assert build_index(templates, ids, CONTRACT).backend == "exact"  # default threshold is far above 100


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown index backend 'annoy'"):
        build_index(unit(np.random.default_rng(0), 2), ["a", "b"], CONTRACT, backend="annoy")  # type: ignore[arg-type]


def test_top_k_rows_with_k_1_picks_the_first_of_tied_maxima() -> None:
    scores = np.array([[0.2, 0.7, 0.7], [0.9, 0.1, 0.9]], dtype=np.float32)
    columns, values = top_k_rows(scores, 1)
    assert columns.tolist() == [[1], [0]]
    assert values[:, 0].tolist() == pytest.approx([0.7, 0.9])
