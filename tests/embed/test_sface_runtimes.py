"""SFace on OpenVINO (f32 and bf16) gives the onnxruntime embeddings on real aligned faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from tests.helpers.data import shared_data

from openlfr.config.models import SFaceConfig, YuNetConfig
from openlfr.detect.base import detect_scaled
from openlfr.detect.yunet import YuNetDetector
from openlfr.embed.align import align_faces
from openlfr.embed.sface import SFaceEmbedder
from openlfr.imaging import load_image
from openlfr.models.runtime import cpu_supports_bf16

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def crops(cache_dir: Path) -> npt.NDArray[np.uint8]:
    """Aligned faces from real photos: 6 + 3 faces of two scenes and one face of each deepface identity."""
    detector = YuNetDetector(YuNetConfig(runtime="onnxruntime"), cache_dir)
    data = shared_data()
    paths = [data / "scenes" / "selfie-many-people.jpg", data / "scenes" / "obama_and_biden.jpg"]
    paths += [min(folder.iterdir()) for folder in sorted((data / "faces" / "deepface").iterdir())]
    faces = []
    for path in paths:
        image = load_image(path)
        faces.append(align_faces(image, detect_scaled(detector, image, 640).landmarks))
    return np.concatenate(faces)


@pytest.fixture(scope="module")
def reference(cache_dir: Path, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    return SFaceEmbedder(SFaceConfig(runtime="onnxruntime"), cache_dir).embed_aligned(crops)


def _embed(config: SFaceConfig, cache_dir: Path, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    embedder = SFaceEmbedder(config, cache_dir)
    assert embedder.runtime.label == f"{config.runtime}-{config.precision}"
    # Odd batch (split 16 + 4 + 1 …), then one at a time: the same vectors either way.
    batched = embedder.embed_aligned(crops)
    singles = np.concatenate([embedder.embed_aligned(crops[i : i + 1]) for i in range(0, len(crops), 7)])
    np.testing.assert_allclose(singles, batched[::7], atol=1e-3)
    return batched


def test_openvino_f32_matches_onnxruntime(
    cache_dir: Path, crops: npt.NDArray[np.uint8], reference: npt.NDArray[np.float32]
) -> None:
    assert len(crops) >= 15 and len(crops) & (len(crops) - 1) != 0  # several chunks
    vectors = _embed(SFaceConfig(runtime="openvino", precision="f32", max_batch=32), cache_dir, crops)
    cosine = (vectors * reference).sum(axis=1)
    assert float(cosine.min()) > 0.99999


@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no native bf16")
def test_openvino_bf16_embeddings_stay_interchangeable(
    cache_dir: Path, crops: npt.NDArray[np.uint8], reference: npt.NDArray[np.float32]
) -> None:
    """Measured on 467 faces: cosine to the f32 vector min 0.9985, median 0.99993 (docs/ENGINE.md)."""
    vectors = _embed(SFaceConfig(runtime="openvino", precision="bf16"), cache_dir, crops)
    cosine = (vectors * reference).sum(axis=1)
    assert float(cosine.min()) > 0.998
    assert float(np.median(cosine)) > 0.9999


def test_contract_does_not_depend_on_the_runtime(cache_dir: Path) -> None:
    """Templates enrolled by one runtime are searched by the other (justified in docs/ENGINE.md)."""
    contracts = {
        SFaceEmbedder(SFaceConfig(runtime=runtime, precision=precision), cache_dir).contract
        for runtime, precision in (("onnxruntime", "f32"), ("openvino", "f32"), ("openvino", "auto"))
    }
    assert len(contracts) == 1
