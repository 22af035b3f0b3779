"""Exceptions with stable codes, shared by every layer (CLI exit messages, API envelopes)."""

from __future__ import annotations


class OpenLFRError(Exception):
    """Base class: every error the product raises on purpose carries a stable ``code``."""

    code = "openlfr_error"


class ConfigError(OpenLFRError):
    code = "config_invalid"


class ImageDecodeError(OpenLFRError):
    """An input file could not be turned into an image; the message says why, for that file only."""

    code = "image_unreadable"


class ModelLoadError(OpenLFRError):
    code = "model_unavailable"


class ContractMismatchError(OpenLFRError):
    """Two embeddings from different models (or preprocessing) were compared: their scores mean nothing."""

    code = "model_contract_mismatch"


class DatasetError(OpenLFRError):
    code = "dataset_invalid"


class SourceError(OpenLFRError):
    """A video source cannot be opened or read (missing/corrupt file, unreachable stream). Messages never
    contain credentials."""

    code = "source_unavailable"


class AlertStoreError(OpenLFRError):
    """An alert could not be stored (disk full, database down): the pipeline stops rather than run on with
    alerts that nobody will see."""

    code = "alert_not_stored"


class TooSoonError(OpenLFRError):
    """A rule that spaces an action out in time refused it; ``retry_after_s``: when it is allowed again."""

    code = "too_soon"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
