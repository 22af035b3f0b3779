"""Gallery search benchmark: exact numpy vs FAISS latency, build time and FAISS recall@1.

Galleries are random unit vectors (one template per subject unless told otherwise). Probes are two
halves: *mated* probes, noisy copies of gallery templates at a fixed cosine similarity to their
source (what a watchlist hit looks like), and *random* probes (a passer-by not on the watchlist;
the hardest case for approximate search, since the best neighbour barely stands out).
Latency is measured on batched calls (all probes in one ``search``) and on one probe per call.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.match import FaissParams, SearchHit, VectorIndex, build_index
from openlfr.types import FloatArray, ModelContract

BEGIN = "<!-- search:begin -->"
END = "<!-- search:end -->"
RANDOM_CONTRACT_MODEL = "random-unit-vectors"


def random_unit_vectors(rng: np.random.Generator, rows: int, dimension: int) -> FloatArray:
    """Gaussian rows normalised in place (a 1M x 128 gallery stays at 512 MB, no temporary copy)."""
    vectors = rng.standard_normal((rows, dimension), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def mated_probes(rng: np.random.Generator, sources: FloatArray, similarity: float) -> FloatArray:
    """Unit vectors whose cosine similarity to their source row is exactly ``similarity``."""
    noise = random_unit_vectors(rng, len(sources), sources.shape[1])
    noise -= np.sum(noise * sources, axis=1, keepdims=True) * sources  # orthogonal to the source
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    probes: FloatArray = (similarity * sources + np.sqrt(1.0 - similarity**2) * noise).astype(np.float32)
    return probes


def _timed_search(index: VectorIndex, probes: FloatArray, repeat: int) -> tuple[list[list[SearchHit]], float]:
    """Hits of the first call and the median seconds over ``repeat`` calls (the first included, so
    a 1M gallery is searched once, not once more for warm-up)."""
    timings = []
    hits: list[list[SearchHit]] = []
    for _ in range(repeat):
        start = time.perf_counter()
        hits = index.search(probes, 1)
        timings.append(time.perf_counter() - start)
    return hits, statistics.median(timings)


def _single_probe_ms(index: VectorIndex, probes: FloatArray, count: int) -> float:
    timings = []
    for row in probes[:count]:
        start = time.perf_counter()
        index.search(row[None, :], 1)
        timings.append(time.perf_counter() - start)
    return round(statistics.median(timings) * 1000.0, 4)


def _recall_at_1(approximate: list[list[SearchHit]], exact: list[list[SearchHit]]) -> float:
    """Share of probes whose approximate best subject is the exact best (or scores the same)."""
    agree = sum(
        a[0].subject_id == e[0].subject_id or abs(a[0].score - e[0].score) <= 1e-6
        for a, e in zip(approximate, exact, strict=True)
    )
    return round(agree / len(exact), 5)


def bench_search(
    gallery: int,
    probes: int = 1000,
    *,
    dimension: int = 128,
    templates_per_subject: int = 1,
    mated_similarity: float = 0.6,
    repeat: int = 0,
    single_probes: int = 50,
    seed: int = 0,
    faiss_params: FaissParams | None = None,
) -> dict[str, Any]:
    """Benchmark exact and FAISS search on a random gallery of ``gallery`` templates.

    ``repeat`` timed calls per backend (0: 3 up to 100k templates, 1 above, where one call is long)."""
    if gallery < 1 or probes < 2:
        raise ValueError("need a gallery of at least 1 template and at least 2 probes")
    params = faiss_params or FaissParams()
    rng = np.random.default_rng(seed)
    templates = random_unit_vectors(rng, gallery, dimension)
    width = len(str(gallery))
    subject_ids = [f"s{row // templates_per_subject:0{width}d}" for row in range(gallery)]
    contract = ModelContract(RANDOM_CONTRACT_MODEL, "0" * 64, dimension, "none")
    n_mated = probes // 2
    sources = templates[rng.integers(0, gallery, n_mated)]
    probe_matrix = np.concatenate(
        [mated_probes(rng, sources, mated_similarity), random_unit_vectors(rng, probes - n_mated, dimension)]
    )

    start = time.perf_counter()
    exact = build_index(templates, subject_ids, contract, backend="exact")
    exact_build_s = time.perf_counter() - start
    start = time.perf_counter()
    approximate = build_index(templates, subject_ids, contract, backend="faiss", faiss_params=params)
    faiss_build_s = time.perf_counter() - start
    del templates  # the indexes hold what they need

    repeat = repeat if repeat > 0 else (3 if gallery <= 100_000 else 1)
    exact_hits, exact_s = _timed_search(exact, probe_matrix, repeat)
    faiss_hits, faiss_s = _timed_search(approximate, probe_matrix, repeat)
    return {
        "gallery": gallery,
        "subjects": exact.subjects,
        "templates_per_subject": templates_per_subject,
        "dimension": dimension,
        "probes": probes,
        "probe_mix": f"{n_mated} mated (noisy copies, cosine {mated_similarity} to source) + "
        f"{probes - n_mated} random unit vectors",
        "k": 1,
        "exact_build_s": round(exact_build_s, 3),
        "exact_ms_per_probe": round(exact_s * 1000.0 / probes, 4),
        "exact_probes_per_s": round(probes / exact_s, 1),
        "exact_ms_single_probe": _single_probe_ms(exact, probe_matrix, single_probes),
        "faiss_backend": approximate.backend,
        "faiss_params": asdict(params),
        "faiss_build_s": round(faiss_build_s, 3),
        "faiss_ms_per_probe": round(faiss_s * 1000.0 / probes, 4),
        "faiss_probes_per_s": round(probes / faiss_s, 1),
        "faiss_ms_single_probe": _single_probe_ms(approximate, probe_matrix, single_probes),
        "faiss_recall_at_1": _recall_at_1(faiss_hits[:n_mated], exact_hits[:n_mated]),
        "faiss_recall_at_1_random": _recall_at_1(faiss_hits[n_mated:], exact_hits[n_mated:]),
        "faiss_recall_at_1_all": _recall_at_1(faiss_hits, exact_hits),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "repeat": repeat,
        "batched": "one search() call with all probes; ms_per_probe = median call time / probes",
    }


TABLE_COLUMNS = (
    ("gallery", "gallery"),
    ("exact build s", "exact_build_s"),
    ("exact ms/probe (batched)", "exact_ms_per_probe"),
    ("exact probes/s", "exact_probes_per_s"),
    ("exact ms (1 probe/call)", "exact_ms_single_probe"),
    ("FAISS index", "faiss_backend"),
    ("FAISS build s", "faiss_build_s"),
    ("FAISS ms/probe (batched)", "faiss_ms_per_probe"),
    ("FAISS probes/s", "faiss_probes_per_s"),
    ("FAISS ms (1 probe/call)", "faiss_ms_single_probe"),
    ("FAISS recall@1 mated", "faiss_recall_at_1"),
    ("FAISS recall@1 random", "faiss_recall_at_1_random"),
    ("load avg", "load_average_1m"),
)


def format_table(results: list[dict[str, Any]]) -> str:
    """A Markdown table, one row per gallery size."""
    header = "| " + " | ".join(title for title, _ in TABLE_COLUMNS) + " |"
    rule = "|" + "|".join("---:" for _ in TABLE_COLUMNS) + "|"
    rows = [
        "| " + " | ".join(f"{r[key]:,}" if key == "gallery" else str(r[key]) for _, key in TABLE_COLUMNS) + " |"
        for r in results
    ]
    return "\n".join([header, rule, *rows])


def update_section(document: str, section: str) -> str:
    """``document`` with the text between the search markers replaced (or the section appended)."""
    block = f"{BEGIN}\n{section.strip()}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: block, document, count=1)
    prefix = document.rstrip("\n")
    return f"{prefix}\n\n{block}\n" if prefix else f"# Benchmarks\n\n{block}\n"


def write_section(path: Path, section: str) -> None:
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(update_section(existing, section), encoding="utf-8")
