"""`lfr eval verify|identify` end to end with the real models on the shared face sets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.data import shared_data

from openlfr.cli import main
from openlfr.eval.dataset import scan_dataset
from openlfr.eval.identify import split_dataset

pytestmark = pytest.mark.model


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(list(args)) == 0
    out = capsys.readouterr().out
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # One converted-model cache for the module, not the user's home directory.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LFR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def test_verify_deepface(capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_env: None) -> None:
    plot = tmp_path / "det.png"
    report = _run(capsys, "eval", "verify", str(shared_data() / "faces" / "deepface"), "--json", "--plot", str(plot))
    assert report["images"] == 61 and report["identities"] == 13 and report["failed"] == 0
    # All unordered pairs: 61·60/2 = 1830, of which same-identity pairs are genuine.
    assert report["genuine_pairs"] + report["impostor_pairs"] == 1830
    assert report["auc"] >= 0.999 and report["eer"] <= 0.01
    assert set(report["tar_at_far"]) == set(report["threshold_at_far"]) == {"0.01", "0.001", "0.0001"}
    assert report["tar_at_far"]["0.01"] >= 0.99
    assert report["model"]["model"] == "sface-2021dec-int8bq" and report["model"]["dimension"] == 128
    assert len(report["model"]["weights_sha256"]) == 64
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_identify_deepface(capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_env: None) -> None:
    report = _run(
        capsys,
        "eval",
        "identify",
        str(shared_data() / "faces" / "deepface"),
        "--json",
        "--plot",
        str(tmp_path / "det.png"),
    )
    assert report["rank1"] == 1.0
    assert report["gallery_identities"] == 7  # 13 identities: the gallery half is rounded up
    assert report["mated_probes"] + report["nonmated_probes"] + report["gallery_templates"] == 61
    assert set(report["fnir_at_fpir"]) == set(report["threshold_at_fpir"]) == {"0.1", "0.01", "0.001"}
    assert report["fnir_at_fpir"]["0.1"] == 0.0
    assert (tmp_path / "det.png").is_file()


def test_identify_is_deterministic_per_seed(capsys: pytest.CaptureFixture[str], cache_env: None) -> None:
    dataset = str(shared_data() / "faces" / "knn")
    first = _run(capsys, "eval", "identify", dataset, "--json", "--seed", "3")
    again = _run(capsys, "eval", "identify", dataset, "--json", "--seed", "3")
    assert first == again
    items = scan_dataset(Path(dataset))
    splits = {tuple(split_dataset(items, 1, seed).gallery_identities) for seed in range(10)}
    assert len(splits) > 1  # the seed does change the split


def test_enrol_k_uses_first_images_by_name(cache_env: None) -> None:
    items = scan_dataset(shared_data() / "faces" / "deepface")
    split = split_dataset(items, enrol=2, seed=0)
    for identity in split.gallery_identities:
        names = sorted(item.path.name for item in items if item.identity == identity)
        assert [i.path.name for i in split.enrolment if i.identity == identity] == names[:2]
    assert not {i.identity for i in split.nonmated_probes} & set(split.gallery_identities)


def test_bad_files_are_reported_and_the_rest_evaluated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache_env: None
) -> None:
    source = shared_data() / "faces" / "knn"
    for person in ("obama", "biden", "kit_harington"):
        shutil.copytree(source / person, tmp_path / person)
    (tmp_path / "obama" / "zero.jpg").write_bytes(b"")
    (tmp_path / "biden" / "broken.jpg").write_bytes((source / "biden" / "biden.jpg").read_bytes()[:300])
    (tmp_path / "biden" / "notes.txt").write_text("ignored: not an image")
    (tmp_path / "kit_harington" / "blank.png").write_bytes((shared_data() / "edge_cases" / "32bit.png").read_bytes())
    report = _run(capsys, "eval", "verify", str(tmp_path), "--json")
    reasons = {Path(f["path"]).name: f["reason"] for f in report["failures"]}
    assert reasons["zero.jpg"] == "empty file (0 bytes)"
    assert "corrupt or truncated" in reasons["broken.jpg"]
    assert "notes.txt" not in reasons
    assert report["failed"] == len(reasons) and report["genuine_pairs"] > 0


def test_human_output_and_progress_on_stderr(cache_env: None) -> None:
    dataset = shared_data() / "faces" / "openface"
    done = subprocess.run(
        [sys.executable, "-m", "openlfr", "eval", "verify", str(dataset), "--progress"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "AUC" in done.stdout and "TAR @ FAR 0.01" in done.stdout
    assert "embedding" in done.stderr  # the progress bar's label


@pytest.mark.parametrize(
    ("layout", "message"),
    [("missing", "not a directory"), ("empty", "no images found"), ("one", "genuine")],
)
def test_dataset_errors_are_clear(tmp_path: Path, layout: str, message: str, cache_env: None) -> None:
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "one":
        (root / "a").mkdir()
        shutil.copy(shared_data() / "faces" / "knn" / "biden" / "biden.jpg", root / "a" / "x.jpg")
    done = subprocess.run(
        [sys.executable, "-m", "openlfr", "eval", "verify", str(root), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "lfr: error [dataset_invalid]" in done.stderr and message in done.stderr
