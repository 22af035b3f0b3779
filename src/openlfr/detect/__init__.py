"""Face detection: the FaceDetector protocol, its registry and backends (yunet, scrfd_onnx, fake)."""

from openlfr.detect.base import FaceDetector, create_detector, detect_scaled

__all__ = ["FaceDetector", "create_detector", "detect_scaled"]
