"""Images at the boundary: whatever comes in leaves as RGB uint8 HxWx3.

Files and pasted bytes are untrusted. Every failure is an ``ImageError`` whose message names
the image and says what is wrong with it; nothing is decoded before its declared size has
been checked against a pixel limit and the memory decoding it takes against a byte budget.
Pixels are converted to RGB uint8 in bands of rows into one preallocated array, so an image
costs its decoded size once plus its RGB array, whatever its mode or depth.
"""
from __future__ import annotations

import io
import os
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from workbench.core.atomic import atomic_path

DEFAULT_MAX_PIXELS = 64_000_000
DEFAULT_MAX_BYTES = 512 * 2**20   # decoded pixels plus the RGB array; 64 Mpx of RGBA need 448 MB
_BAND_PIXELS = 1 << 18            # pixels converted at a time
_MB = 10**6

# What Pillow may raise while decoding a damaged file.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)

_CONVERTIBLE_MODES = ("CMYK", "YCbCr", "LAB", "HSV", "RGBX")
_ALPHA_MODES = ("LA", "La", "PA", "RGBa")


class ImageError(ValueError):
    """An image that cannot be read, with a message a user understands."""


def load_image(path_or_bytes: str | os.PathLike | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an image file (or its bytes) as RGB uint8 HxWx3.

    - EXIF orientation is applied, so the array is the picture as a viewer shows it.
    - Transparent pixels (RGBA, LA, palette with transparency) are composited on white,
      the background most viewers and documents show them on.
    - 16-bit images are scaled by the full range of their type (65535 -> 255, 32768 -> 128),
      never clipped. 32-bit integer images whose values fit 0..65535 are treated as 16-bit,
      others are stretched from their minimum to their maximum; float images in [0, 1]
      are scaled by 255, others are stretched the same way.
    - CMYK, YCbCr, LAB, HSV and grayscale are converted to RGB.
    - An image declaring more than ``max_pixels`` pixels, or whose decoded pixels and RGB
      array would take more than ``max_bytes``, is refused before it is decoded.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return load_image_bytes(bytes(path_or_bytes), max_pixels=max_pixels, max_bytes=max_bytes)
    path = Path(path_or_bytes)
    if not path.exists():
        raise ImageError(f"image file not found: {path}")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file")
    if not path.is_file():   # a device or a pipe could be endless, or block the open
        raise ImageError(f"{path} is not a regular file, so it is not read as an image")
    try:
        with open(path, "rb") as stream:   # decoded from the file: its bytes are never held whole
            if path.stat().st_size == 0:
                raise ImageError(f"{path} is empty (0 bytes)")
            return _decode(stream, str(path), max_pixels, max_bytes)
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror or e}") from None


def load_image_bytes(data: bytes, name: str = "pasted image", *, max_pixels: int = DEFAULT_MAX_PIXELS,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Decode an encoded image (PNG, JPEG, TIFF, ...) held in memory; see ``load_image``."""
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)")
    return _decode(io.BytesIO(data), name, max_pixels, max_bytes)


def decoded_bytes(width: int, height: int, mode: str) -> int:
    """The memory decoding an image takes: Pillow's pixels in ``mode`` plus the RGB uint8 array."""
    return width * height * (_stored_bytes(mode) + 3)


def _decode(stream: io.BufferedIOBase, name: str, max_pixels: int, max_bytes: int) -> np.ndarray:
    im = _open_checked(stream, name, max_pixels, max_bytes)
    try:
        im.load()
    except _DECODE_ERRORS as e:
        im.close()
        raise ImageError(f"{name} is truncated or corrupt and cannot be decoded ({e})") from None
    with im:
        orientation = _orientation(im)
        rgb = _pil_to_rgb(im, name)
    # Pillow's pixels are released before the turned copy is made
    return _oriented(rgb, orientation)


def save_image(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write an RGB uint8 HxWx3 (or grayscale HxW) array; the format follows the extension."""
    path = Path(path)
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ImageError(f"cannot save {path}: expected an RGB uint8 HxWx3 array, "
                         f"got {arr.dtype} with shape {arr.shape}")
    if not path.parent.is_dir():
        raise ImageError(f"cannot save {path}: the folder {path.parent} does not exist")
    extension = path.suffix.lower()
    if extension not in Image.registered_extensions():
        raise ImageError(f"cannot save {path}: unknown image format {extension or '(no extension)'!r}; "
                         f"use .png or .jpg")
    options = {"quality": 95} if extension in (".jpg", ".jpeg") else {}
    try:
        with atomic_path(path) as tmp:
            Image.fromarray(np.ascontiguousarray(arr)).save(tmp, **options)
    except (OSError, ValueError, KeyError) as e:
        raise ImageError(f"cannot save {path}: {e}") from None
    return path


def as_rgb(array: np.ndarray, name: str = "image") -> np.ndarray:
    """An in-memory array (HxW, HxWx1, HxWx3 or HxWx4; any numeric dtype) as RGB uint8 HxWx3."""
    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(f"{name} has shape {arr.shape}; expected HxW, HxWx3 or HxWx4")
    if arr.size == 0:
        raise ImageError(f"{name} has no pixels (shape {arr.shape})")
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr)
    return _rgb_in_bands(arr.shape[0], arr.shape[1], lambda top, bottom: arr[top:bottom], arr.dtype, name)


def _open_checked(stream: io.BufferedIOBase, name: str, max_pixels: int, max_bytes: int) -> Image.Image:
    """Open (header only) and refuse images that declare too many pixels or would take too much memory."""
    try:
        with warnings.catch_warnings():
            # our own limit below decides; Pillow's warning would only repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(stream)
    except Image.DecompressionBombError as e:
        declared = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(declared.group(1)):,} pixels" if declared else "too many pixels"
        raise ImageError(f"{name} declares {count}, more than the limit of "
                         f"{min(max_pixels, _pillow_error_limit()):,} pixels; "
                         f"it is refused so a decompression bomb cannot exhaust memory") from None
    except UnidentifiedImageError:
        stream.seek(0)
        raise ImageError(f"{name} is not an image ({_describe_non_image(stream.read(2048))})") from None
    except _DECODE_ERRORS as e:
        raise ImageError(f"{name} is truncated or corrupt: its header cannot be read ({e})") from None
    w, h = im.size
    if w * h > max_pixels:
        raise ImageError(f"{name} declares {w}x{h} pixels ({w * h:,}), more than the limit of "
                         f"{max_pixels:,} pixels; it is refused so a decompression bomb "
                         f"cannot exhaust memory")
    if w == 0 or h == 0:
        raise ImageError(f"{name} declares {w}x{h} pixels; it has no picture in it")
    need = decoded_bytes(w, h, im.mode)
    if need > max_bytes:
        raise ImageError(f"{name} is {w}x{h} pixels in {im.mode} mode: decoding it takes about "
                         f"{need / _MB:,.0f} MB, more than the limit of {max_bytes / _MB:,.0f} MB")
    return im


def _stored_bytes(mode: str) -> int:
    """Bytes per pixel Pillow keeps for an image in ``mode`` (1-, 2- or 4-byte pixels)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(ExifTags.Base.Orientation, 1))
    except (*_DECODE_ERRORS, TypeError):
        return 1  # unreadable EXIF: the pixels are still good, shown as stored


def _oriented(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """The picture as a viewer shows it, for an EXIF orientation (as ``ImageOps.exif_transpose``)."""
    turn = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
            5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
            7: lambda a: a.swapaxes(0, 1)[::-1, ::-1], 8: lambda a: np.rot90(a, 1)}.get(orientation)
    return np.ascontiguousarray(turn(rgb)) if turn else rgb


def _pillow_error_limit() -> int:
    return 2 * (Image.MAX_IMAGE_PIXELS or 0) or 2**63


def _describe_non_image(data: bytes) -> str:
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return "it looks like a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "it looks like a zip archive"
    text = head.decode("utf-8", errors="replace")
    readable = sum(c != "\ufffd" and (c.isprintable() or c in "\t\r\n") for c in text)
    if readable >= 0.95 * len(text):
        return "it looks like an HTML page" if "<html" in text.lower() else "it looks like text"
    return "its contents are not in any image format that can be read"


def _pil_to_rgb(im: Image.Image, name: str) -> np.ndarray:
    mode = im.mode
    target = None  # the mode each band is converted to before its pixels are read
    if mode == "P":
        target = "RGBA" if "transparency" in im.info else "RGB"
    elif mode in _ALPHA_MODES:
        target = "RGBA"
    elif mode in _CONVERTIBLE_MODES:
        target = "RGB"
    elif mode == "1":
        target = "L"
    elif not (mode in ("L", "RGB", "RGBA", "I", "F") or mode.startswith("I;16")):
        raise ImageError(f"{name} uses the {mode} pixel mode, which is not supported; "
                         f"convert it to an 8- or 16-bit RGB or grayscale image")
    width, height = im.size

    def band(top: int, bottom: int) -> np.ndarray:
        rows = im.crop((0, top, width, bottom))
        if target is not None:
            try:
                rows = rows.convert(target)
            except ValueError:
                raise ImageError(f"{name} uses the {mode} colour mode, which cannot be converted to RGB") from None
        return np.asarray(rows)

    return _rgb_in_bands(height, width, band, band(0, 1).dtype, name)


def _rgb_in_bands(height: int, width: int, band, dtype: np.dtype, name: str) -> np.ndarray:
    """RGB uint8 HxWx3 filled band by band from ``band(top, bottom)`` (HxW, HxWx3 or HxWx4 rows).

    Integer and float pixels other than 8 and 16 bits are scaled by the whole image's range,
    found in a first pass, so every band is scaled alike.
    """
    rows = max(1, _BAND_PIXELS // width)
    spans = [(top, min(height, top + rows)) for top in range(0, height, rows)]
    scale = _scaling(np.dtype(dtype), lambda: _extrema(band(*s) for s in spans), name)
    out = np.empty((height, width, 3), np.uint8)
    for top, bottom in spans:
        pixels = scale(band(top, bottom))
        if pixels.ndim == 2:
            out[top:bottom] = pixels[:, :, None]
        elif pixels.shape[2] == 4:
            out[top:bottom] = _composite_on_white(pixels)
        else:
            out[top:bottom] = pixels
    return out


def _extrema(bands) -> tuple[float, float]:
    lo, hi = np.inf, -np.inf
    for b in bands:
        lo, hi = np.minimum(lo, b.min()), np.maximum(hi, b.max())   # NaN propagates through both
    return lo, hi


def _scaling(dtype: np.dtype, extrema, name: str):
    """The function that turns a band of ``dtype`` pixels into uint8 (``extrema()``: the image's range)."""
    if dtype == np.uint8:
        return lambda a: a
    if dtype == np.bool_:
        return lambda a: a.astype(np.uint8) * 255
    if dtype.kind == "u" and dtype.itemsize == 2:
        return _from_16_bit
    if np.issubdtype(dtype, np.integer):
        lo, hi = (int(v) for v in extrema())
        if lo >= 0 and hi <= 65535:
            return _from_16_bit
        return lambda a: _stretch(a, lo, hi)
    if np.issubdtype(dtype, np.floating):
        lo, hi = (float(v) for v in extrema())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ImageError(f"{name} contains NaN or infinite values")
        if lo >= 0.0 and hi <= 1.0:
            return lambda a: np.round(a * 255.0).astype(np.uint8)
        return lambda a: _stretch(a, lo, hi)
    raise ImageError(f"{name} has pixel type {dtype}, which is not supported")


_FROM_16_BIT = ((np.arange(65536, dtype=np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _from_16_bit(a: np.ndarray) -> np.ndarray:
    return _FROM_16_BIT[a]   # 65535 -> 255, 32768 -> 128: rounded by the full range of the type


def _stretch(arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.round((arr.astype(np.float64) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Alpha-composite on white, rounded: (c*a + 255*(255-a) + 127) // 255, in uint16 (at most 65152)."""
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    x = rgba[:, :, :3].astype(np.uint16) * alpha
    x += (255 - alpha) * 255 + 127
    return ((x + 1 + (x >> 8)) >> 8).astype(np.uint8)   # x // 255, exact below 65535
