"""Two ways to score a probe against a subject, measured on ``faces/lfw_dev`` from one embedding pass.

docs/EVALUATION.md "Better scores from the one model" quotes this script's output. Every photo is detected,
aligned and embedded once by the default engine (``FaceEngine.from_settings(Settings())``: SFace, flip on), as
``lfr eval identify`` does (``--face``, default the largest face). Then, over the identity splits of seeds
0..N-1 (``split_dataset``: identities shuffled by the seed, the first half the gallery), two experiments report
FNIR at FPIR 10 %, 1 % and 0.1 % and rank-1 per seed and their mean over seeds:

- **enrolment**: the split of ``--enrol 2``. A gallery identity enrols its first two photos (one if it has one);
  the third photo of the identities with three is the mated probe, every photo of the other half a non-mated
  probe. A subject's score is its ``best`` template (what ``match`` does now), its ``mean`` template (the
  normalised mean of its templates), ``both`` (the best of its templates and their mean), or ``first`` (its
  first photo alone: what a second photo adds).
- **cohort**: the split of ``--enrol 1``. A third of the non-gallery identities (chosen by the seed) is a
  background cohort; their photos are no probes. A probe-template score ``s`` is normalised with the top-k
  cohort scores of the probe (mean ``mu_p``, spread ``sd_p``) and of the template (``mu_t``, ``sd_t``):
  ``topk`` gives ``s - (mu_p + mu_t) / 2``, ``asnorm`` (adaptive S-norm)
  ``((s - mu_p) / sd_p + (s - mu_t) / sd_t) / 2``; k from ``--ks``. ``raw`` is the score as it is. Rank-1 is
  taken on the normalised scores.

A rate whose FPIR target times the non-mated probes is under 10 expected errors is flagged in ``notes``.

    .venv/bin/python benchmarks/enrolment_and_cohort.py [--dataset DIR] [--seeds 10] > enrolment_and_cohort.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.eval.dataset import FACE_CHOICES, DatasetEmbeddings, LabelledImage, embed_dataset, scan_dataset
from openlfr.eval.identify import FPIR_TARGETS, split_dataset
from openlfr.eval.metrics import format_rate, open_set_identification
from openlfr.types import FloatArray

ENROLMENT_RULES = ("first", "best", "mean", "both")
COHORT_FRACTION = 3  # a third of the non-gallery identities
# A probe-by-gallery score matrix, normalised given the probes' vectors.
Normaliser = Callable[[FloatArray, FloatArray], FloatArray]


def parse_args(argv: list[str]) -> argparse.Namespace:
    default = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces" / "lfw_dev"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=default)
    parser.add_argument("--seeds", type=int, default=10, help="identity splits (seeds 0..N-1)")
    parser.add_argument("--face", choices=FACE_CHOICES, default="largest")
    parser.add_argument("--ks", default="20,50,100,200", help="cohort top-k sizes")
    return parser.parse_args(argv)


def unit(vectors: FloatArray) -> FloatArray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def rows_of(data: DatasetEmbeddings) -> dict[Path, int]:
    return {image.path: row for row, image in enumerate(data.images)}


def open_set(
    scores: FloatArray, truth: list[str], names: list[str], nonmated: FloatArray
) -> tuple[dict[str, Any], int, int]:
    """Open-set metrics from the mated probes' subject scores (one column per name) and the non-mated ones."""
    best = scores.argmax(axis=1)
    correct = np.array([names[b] == t for b, t in zip(best, truth, strict=True)])
    mated_top = scores[np.arange(len(truth)), best].astype(np.float64)
    nonmated_top = nonmated.max(axis=1).astype(np.float64)
    result = open_set_identification(mated_top, correct, nonmated_top, FPIR_TARGETS)
    return (
        {"rank1": result.rank1, "fnir_at_fpir": result.fnir_at_fpir, "threshold_at_fpir": result.threshold_at_fpir},
        len(truth),
        len(nonmated_top),
    )


def subject_scores(probes: FloatArray, templates: FloatArray, owner: np.ndarray, subjects: int) -> FloatArray:
    """Each probe's score per subject: its best template's."""
    scores = probes @ templates.T
    out = np.full((len(probes), subjects), -np.inf, dtype=np.float64)
    for subject in range(subjects):
        out[:, subject] = scores[:, owner == subject].max(axis=1)
    return out


def enrolment_split(data: DatasetEmbeddings, items: list[LabelledImage], seed: int) -> dict[str, Any]:
    split = split_dataset(items, enrol=2, seed=seed)
    index = rows_of(data)
    enrolment = [item for item in split.enrolment if item.path in index]
    names = sorted({item.identity for item in enrolment})
    position = {name: i for i, name in enumerate(names)}
    owner = np.array([position[item.identity] for item in enrolment])
    templates = data.vectors[[index[item.path] for item in enrolment]]
    means = unit(np.stack([templates[owner == s].mean(axis=0) for s in range(len(names))]))
    first_rows = [int(np.flatnonzero(owner == s)[0]) for s in range(len(names))]
    galleries = {
        "first": (templates[first_rows], np.arange(len(names))),
        "best": (templates, owner),
        "mean": (means, np.arange(len(names))),
        "both": (np.concatenate([templates, means]), np.concatenate([owner, np.arange(len(names))])),
    }
    mated = [item for item in split.mated_probes if item.path in index]
    mated_vectors = data.vectors[[index[item.path] for item in mated]]
    nonmated_vectors = data.vectors[[index[item.path] for item in split.nonmated_probes if item.path in index]]
    out: dict[str, Any] = {
        "gallery_subjects": len(names),
        "subjects_with_two_templates": int(np.count_nonzero(np.bincount(owner) >= 2)),
    }
    for rule, (gallery, owners) in galleries.items():
        result, n_mated, n_nonmated = open_set(
            subject_scores(mated_vectors, gallery, owners, len(names)),
            [item.identity for item in mated],
            names,
            subject_scores(nonmated_vectors, gallery, owners, len(names)),
        )
        out[rule] = result
        out["mated_probes"], out["nonmated_probes"] = n_mated, n_nonmated
    return out


def topk_stats(vectors: FloatArray, cohort: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """Mean and spread of each vector's k highest scores against the cohort."""
    scores = vectors @ cohort.T
    top = -np.sort(-scores, axis=1)[:, :k]
    return top.mean(axis=1), np.maximum(top.std(axis=1), 1e-6)


def cohort_normalisers(templates: FloatArray, cohort: FloatArray, ks: list[int]) -> dict[str, Normaliser]:
    def raw(probes: FloatArray, scores: FloatArray) -> FloatArray:
        return scores

    normalisers: dict[str, Normaliser] = {"raw": raw}
    for k in ks:
        mu_t, sd_t = topk_stats(templates, cohort, k)

        def topk(probes: FloatArray, scores: FloatArray, k: int = k, mu_t: FloatArray = mu_t) -> FloatArray:
            mu_p, _ = topk_stats(probes, cohort, k)
            return scores - (mu_p[:, None] + mu_t[None, :]) / 2

        def asnorm(
            probes: FloatArray, scores: FloatArray, k: int = k, mu_t: FloatArray = mu_t, sd_t: FloatArray = sd_t
        ) -> FloatArray:
            mu_p, sd_p = topk_stats(probes, cohort, k)
            return ((scores - mu_p[:, None]) / sd_p[:, None] + (scores - mu_t[None, :]) / sd_t[None, :]) / 2

        normalisers[f"topk_{k}"] = topk
        normalisers[f"asnorm_{k}"] = asnorm
    return normalisers


def cohort_split(data: DatasetEmbeddings, items: list[LabelledImage], seed: int, ks: list[int]) -> dict[str, Any]:
    split = split_dataset(items, enrol=1, seed=seed)
    index = rows_of(data)
    outsiders = sorted({item.identity for item in split.nonmated_probes})
    order = np.random.default_rng([seed, 1]).permutation(len(outsiders))
    background = {outsiders[i] for i in order[: len(outsiders) // COHORT_FRACTION]}
    cohort_rows = [index[i.path] for i in split.nonmated_probes if i.identity in background and i.path in index]
    cohort = data.vectors[cohort_rows]
    enrolment = [item for item in split.enrolment if item.path in index]
    names = [item.identity for item in enrolment]
    templates = data.vectors[[index[item.path] for item in enrolment]]
    mated = [item for item in split.mated_probes if item.path in index]
    mated_vectors = data.vectors[[index[item.path] for item in mated]]
    nonmated_vectors = data.vectors[
        [index[i.path] for i in split.nonmated_probes if i.identity not in background and i.path in index]
    ]
    out: dict[str, Any] = {
        "gallery_subjects": len(names),
        "cohort_identities": len(background),
        "cohort_photos": len(cohort),
    }
    for name, normalise in cohort_normalisers(templates, cohort, ks).items():
        result, n_mated, n_nonmated = open_set(
            normalise(mated_vectors, mated_vectors @ templates.T),
            [item.identity for item in mated],
            names,
            normalise(nonmated_vectors, nonmated_vectors @ templates.T),
        )
        out[name] = result
        out["mated_probes"], out["nonmated_probes"] = n_mated, n_nonmated
    return out


def means_over_seeds(splits: dict[int, dict[str, Any]], variants: list[str]) -> dict[str, dict[str, float]]:
    means: dict[str, dict[str, float]] = {}
    for variant in variants:
        rows = [splits[seed][variant] for seed in splits]
        means[variant] = {"rank1": float(np.mean([row["rank1"] for row in rows]))}
        for fpir in rows[0]["fnir_at_fpir"]:
            means[variant][f"fnir_at_fpir_{fpir}"] = float(np.mean([row["fnir_at_fpir"][fpir] for row in rows]))
    return means


def fragile_rates(splits: dict[int, dict[str, Any]]) -> list[str]:
    """The FPIR targets that rest on fewer than 10 expected errors in the smallest split."""
    fewest = min(split["nonmated_probes"] for split in splits.values())
    return [
        f"FPIR {format_rate(t)} rests on {fewest}+ non-mated probes per split ({t * fewest:.1f} expected errors): "
        "one split cannot estimate it; the mean over seeds is still noisy"
        for t in FPIR_TARGETS
        if t * fewest < 10
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ks = [int(k) for k in args.ks.split(",")]
    engine = FaceEngine.from_settings(Settings())
    items = scan_dataset(args.dataset)
    data = embed_dataset(engine, items, face=args.face, progress=progress)
    seeds = range(args.seeds)
    enrolment = {seed: enrolment_split(data, items, seed) for seed in seeds}
    cohort = {seed: cohort_split(data, items, seed, ks) for seed in seeds}
    cohort_variants = ["raw", *(f"{kind}_{k}" for kind in ("topk", "asnorm") for k in ks)]
    report = {
        "dataset": str(args.dataset),
        "face": args.face,
        "model": engine.contract.as_dict(),
        "photos": len(items),
        "photos_usable": len(data.images),
        "seeds": args.seeds,
        "enrolment": {
            "mean_over_seeds": means_over_seeds(enrolment, list(ENROLMENT_RULES)),
            "notes": fragile_rates(enrolment),
            "per_seed": enrolment,
        },
        "cohort": {
            "mean_over_seeds": means_over_seeds(cohort, cohort_variants),
            "notes": fragile_rates(cohort),
            "per_seed": cohort,
        },
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def progress(items: list[LabelledImage]) -> Any:
    """Yield the photos, telling stderr every 500."""
    for n, item in enumerate(items, start=1):
        if n % 500 == 0:
            print(f"{n}/{len(items)} photos", file=sys.stderr)
        yield item


if __name__ == "__main__":
    raise SystemExit(main())
