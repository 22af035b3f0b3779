from __future__ import annotations

from collections import Counter

import numpy as np

from openlfr.alerts.state import FaceSample, TrackEvidence, candidate_from, quality_rank, rank_ceiling
from openlfr.match.index import SearchHit
from openlfr.quality.metrics import FaceQuality, measure_face
from openlfr.types import l2_normalise


def quality(iod: float = 40, sharp: float = 200, yaw: float = 0, score: float = 0.9) -> FaceQuality:
    return FaceQuality(iod, score, sharp, yaw, 0.0, 0.0, 120.0, 40.0, True)


def sample(rank: float, vector: list[float], subject: str = "alice", score: float = 0.8) -> FaceSample:
    return FaceSample(
        rank=rank,
        vector=l2_normalise(np.array([vector], np.float32))[0],
        crop=np.zeros((8, 8, 3), np.uint8),
        frame_index=0,
        captured_at=0.0,
        media_time_s=0.0,
        hits=[SearchHit(subject, score)],
    )


def test_quality_rank_prefers_bigger_sharper_frontal_faces() -> None:
    assert quality_rank(quality(iod=40)) > quality_rank(quality(iod=15))
    assert quality_rank(quality(sharp=150)) > quality_rank(quality(sharp=20))
    assert quality_rank(quality(yaw=0)) > quality_rank(quality(yaw=80)) > 0
    # Saturation: a face beyond the embedder's useful size is not better.
    assert quality_rank(quality(iod=80)) == quality_rank(quality(iod=40))


def test_rank_ceiling_bounds_the_rank_of_any_crop_and_is_reached_by_a_sharp_one() -> None:
    rng = np.random.default_rng(3)
    box = np.array([100, 100, 160, 170], np.float32)
    for _ in range(50):
        landmarks = np.array([[120, 125], [142, 124], [131, 138], [122, 152], [141, 151]], np.float32) + rng.normal(
            0, 4, (5, 2)
        ).astype(np.float32)
        score = float(rng.uniform(0.6, 1.0))
        ceiling = rank_ceiling(score, landmarks)
        flat = np.full((112, 112, 3), 128, np.uint8)
        noisy = rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)  # Laplacian variance far above saturation
        assert quality_rank(measure_face((480, 640), box, landmarks, score, flat)) <= ceiling
        assert quality_rank(measure_face((480, 640), box, landmarks, score, noisy)) == ceiling


def test_keeps_best_k_and_counts_votes_of_all_embedded_faces() -> None:
    evidence = TrackEvidence(track_id=1, keep=2)
    evidence.add(sample(0.1, [1, 0]), threshold=0.5)
    evidence.add(sample(0.3, [1, 0]), threshold=0.5)
    evidence.add(sample(0.2, [1, 0], subject="bob", score=0.4), threshold=0.5)  # below threshold: no vote
    assert [s.rank for s in evidence.samples] == [0.3, 0.2]
    assert evidence.votes == Counter({"alice": 2})
    assert evidence.embedded == 3


def test_fusion_is_quality_weighted() -> None:
    evidence = TrackEvidence(track_id=1, keep=5)
    evidence.add(sample(0.9, [1, 0]), threshold=0.5)
    evidence.add(sample(0.1, [0, 1]), threshold=0.5)
    fused = evidence.fused()
    assert abs(float(np.linalg.norm(fused)) - 1.0) < 1e-5
    assert fused[0] > 0.9 > fused[1] > 0


def test_fusion_rules_weight_the_kept_faces_as_named() -> None:
    evidence = TrackEvidence(track_id=1, keep=5)
    evidence.add(sample(0.9, [1, 0]), threshold=0.5)
    evidence.add(sample(0.3, [0, 1]), threshold=0.5)
    quality_weighted, mean, best = (evidence.fused(rule) for rule in ("quality", "mean", "best"))
    assert np.allclose(quality_weighted, l2_normalise(np.array([[0.9, 0.3]], np.float32))[0], atol=1e-6)
    assert np.allclose(mean, l2_normalise(np.array([[1, 1]], np.float32))[0], atol=1e-6)
    assert np.allclose(best, [1, 0], atol=1e-6)
    assert np.allclose(evidence.fused(), quality_weighted)  # the default rule


def test_discard_forgets_faces_and_embeddings() -> None:
    evidence = TrackEvidence(track_id=1, keep=2)
    evidence.add(sample(0.5, [1, 0]), threshold=0.5)
    evidence.discard()
    assert evidence.samples == []
    assert not evidence.votes
    assert evidence.embedded == 1  # counts survive


def test_candidate_from_hits() -> None:
    assert candidate_from([], Counter()) is None
    candidate = candidate_from([SearchHit("a", 0.7), SearchHit("b", 0.3)], Counter({"a": 2}))
    assert candidate is not None
    assert (candidate.subject_id, candidate.score, candidate.second_score, candidate.evidence) == ("a", 0.7, 0.3, 2)
    single = candidate_from([SearchHit("a", 0.7)], Counter())
    assert single is not None and single.second_score is None and single.evidence == 0
