"""Turns files into 8-bit BGR arrays, or raises ImageDecodeError saying why for that file.

Pillow does the decoding (JPEG, PNG, GIF, PGM/PPM, BMP, TIFF, WebP…). Every odd format is normalised
here, once, so no stage downstream sees 16-bit, grey, palette or alpha images:
16-bit → scaled to 8-bit; grey/palette/CMYK → RGB; alpha → composited on white; EXIF orientation applied;
animated images → first frame. The pixel count is checked from the header *before* decoding, so a
decompression bomb costs nothing.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from openlfr.errors import ImageDecodeError
from openlfr.types import ImageBGR

DEFAULT_MAX_PIXELS = 60_000_000
# Bytes per pixel Pillow holds for an image of each mode once decoded (RGB is stored as 4): the decoded size is
# known from the header, before any pixel is decoded. The 8-bit BGR result adds 3 bytes per pixel.
_DECODED_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 4, "PA": 4, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_DEFAULT_DECODED_BYTES = 4


def load_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageBGR:
    """Decode the image file at ``path``; raise ImageDecodeError (never anything else) when it cannot."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError as exc:
        raise ImageDecodeError(f"{path}: is a directory, not an image") from exc
    except OSError as exc:
        raise ImageDecodeError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    return decode_image(data, max_pixels=max_pixels, name=str(path))


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, name: str = "<bytes>") -> ImageBGR:
    """Decode encoded image bytes (see module docstring for the normalisation rules)."""
    if not data:
        raise ImageDecodeError(f"{name}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns or raises depending on size; ours below is the one that counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageDecodeError(
                    f"{name}: {width}x{height} pixels exceeds the limit of {max_pixels} (possible decompression bomb)"
                )
            decoded = width * height * _DECODED_BYTES.get(image.mode, _DEFAULT_DECODED_BYTES)
            if decoded > max_pixels * _DEFAULT_DECODED_BYTES:
                raise ImageDecodeError(f"{name}: {image.mode} image of {width}x{height} is too large to decode")
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"{name}: too many pixels (possible decompression bomb)") from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{name}: not a recognised image format") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated/corrupt data as OSError ("image file is truncated", "broken data stream").
        raise ImageDecodeError(f"{name}: corrupt or truncated image ({exc})") from exc
    if image.width < 1 or image.height < 1:
        raise ImageDecodeError(f"{name}: image has no pixels")
    return _to_bgr8(image)


def _to_bgr8(image: Image.Image) -> ImageBGR:
    mode = image.mode
    if mode.startswith("I;16"):
        # 16-bit grey → 8-bit in integers: x * 255 / 65535 == x / 257 exactly. (Through float64 this took 8 bytes
        # a pixel per intermediate: 2.85 GB for a 7,740² PNG; now 2 + 1 + 3.)
        grey16 = np.asarray(image)
        grey = (grey16 // 257).astype(np.uint8)
        del grey16
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode in ("I", "F"):
        array = np.asarray(image, dtype=np.float32)
        grey = _scale_to_uint8(array, None)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _scale_to_uint8(array: np.ndarray, full_scale: float | None) -> np.ndarray:
    """Map a high-bit-depth grey image to 0..255: by its nominal range when known, else by its own range."""
    if full_scale is None:
        low, high = float(array.min()), float(array.max())
        if low >= 0 and high <= 255:
            full_scale = 255.0
        elif low >= 0 and high <= 65535:
            full_scale = 65535.0
        else:
            array, full_scale = array - low, max(high - low, 1e-9)
    return np.clip(array / full_scale * 255.0, 0, 255).astype(np.uint8)
