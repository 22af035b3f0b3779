"""Image decoding with per-file errors, and small image helpers."""

from openlfr.imaging.decode import decode_image, load_image

__all__ = ["decode_image", "load_image"]
