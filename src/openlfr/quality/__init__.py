"""Face quality: measurements from one detection, and a gate with fixed reason codes."""

from openlfr.quality.gate import QualityVerdict, Reason, assess_image, gate_face
from openlfr.quality.metrics import FaceQuality, measure_face

__all__ = ["FaceQuality", "QualityVerdict", "Reason", "assess_image", "gate_face", "measure_face"]
