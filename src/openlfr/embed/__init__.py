"""Face embedding: 5-point alignment and the FaceEmbedder protocol with backends (sface, arcface_onnx, fake)."""

from openlfr.embed.align import align_faces
from openlfr.embed.base import FaceEmbedder, create_embedder

__all__ = ["FaceEmbedder", "align_faces", "create_embedder"]
