"""Every odd input either decodes to an 8-bit BGR image or raises ImageDecodeError — nothing else."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers.data import shared_data

from openlfr.errors import ImageDecodeError
from openlfr.imaging.decode import decode_image, load_image


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _gradient_rgb(width: int = 40, height: int = 30) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[..., 0] = x  # red ramps left to right
    rgb[..., 2] = 255 - x
    return Image.fromarray(rgb, "RGB")


def test_jpeg_decodes_to_bgr_uint8() -> None:
    image = decode_image(_encode(_gradient_rgb(), "PNG"))
    assert image.dtype == np.uint8 and image.shape == (30, 40, 3) and image.flags.c_contiguous
    # BGR order: blue channel holds 255 - x, so it is bright on the left.
    assert image[0, 0, 0] == 255 and image[0, 0, 2] == 0
    assert image[0, -1, 2] == 255


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"this is a text file, not an image\n" * 10, "not a recognised image format"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "image"),
    ],
)
def test_garbage_raises_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ImageDecodeError, match=message):
        decode_image(data, name="x.jpg")


def test_truncated_jpeg_raises_clear_error() -> None:
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    data = _encode(noise, "JPEG", quality=90)
    with pytest.raises(ImageDecodeError, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2], name="half.jpg")


def test_sixteen_bit_grey_png_is_scaled_to_eight_bit() -> None:
    ramp = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1024).astype(np.uint16)
    data = _encode(Image.fromarray(ramp), "PNG")
    image = decode_image(data)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    assert image[0, 0, 0] == 0 and image[-1, -1, 0] == pytest.approx(63 * 1024 / 65535 * 255, abs=1)
    assert np.array_equal(image[..., 0], image[..., 2])


def test_grey_palette_and_cmyk_become_three_channels() -> None:
    base = _gradient_rgb()
    for converted, fmt in ((base.convert("L"), "PNG"), (base.convert("P"), "GIF"), (base.convert("CMYK"), "JPEG")):
        image = decode_image(_encode(converted, fmt))
        assert image.shape == (30, 40, 3) and image.dtype == np.uint8


def test_rgba_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red
    image = decode_image(_encode(rgba, "PNG"))
    assert image[0, 0].tolist() == [255, 255, 255]


def test_real_32bit_rgba_png_from_the_shared_data() -> None:
    image = load_image(shared_data() / "edge_cases" / "32bit.png")
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8


def test_animated_gif_gives_first_frame() -> None:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    image = decode_image(buffer.getvalue())
    assert image[5, 5].tolist() == [0, 0, 254] or image[5, 5].tolist() == [0, 0, 255]


def test_pgm_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "face.pgm"
    path.write_bytes(b"P5\n4 2\n255\n" + bytes(range(0, 256, 32)))
    image = load_image(path)
    assert image.shape == (2, 4, 3) and image[1, 3, 0] == 224


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width×height 1-bit pixels of zeros: tiny on disk, huge when decoded."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    pixels = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png_header_only(30_000, 30_000)  # 900 Mpx from a few hundred kB
    assert len(bomb) < 2_000_000
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_image(bomb, name="bomb.png")


def test_limit_is_configurable() -> None:
    data = _encode(_gradient_rgb(100, 100), "PNG")
    with pytest.raises(ImageDecodeError, match="exceeds the limit of 5000"):
        decode_image(data, max_pixels=5000)
    assert decode_image(data, max_pixels=10_000).shape == (100, 100, 3)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    data = _encode(_gradient_rgb(40, 30), "JPEG", exif=exif.tobytes())
    assert decode_image(data).shape == (40, 30, 3)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match=r"missing\.jpg: cannot read file"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageDecodeError, match="is a directory"):
        load_image(tmp_path)
    empty = tmp_path / "zero.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageDecodeError, match=r"zero\.jpg: empty file"):
        load_image(empty)
