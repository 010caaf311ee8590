"""Images at the boundary: whatever comes in leaves as RGB uint8 HxWx3.

Files and pasted bytes are untrusted. Every failure is an ``ImageError`` whose message names
the image and says what is wrong with it; nothing is decoded before its declared size has
been checked against a pixel limit.
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
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 64_000_000

# What Pillow may raise while decoding a damaged file.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)

_CONVERTIBLE_MODES = ("CMYK", "YCbCr", "LAB", "HSV", "RGBX")
_ALPHA_MODES = ("LA", "La", "PA", "RGBa")


class ImageError(ValueError):
    """An image that cannot be read, with a message a user understands."""


def load_image(path_or_bytes: str | os.PathLike | bytes, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file (or its bytes) as RGB uint8 HxWx3.

    - EXIF orientation is applied, so the array is the picture as a viewer shows it.
    - Transparent pixels (RGBA, LA, palette with transparency) are composited on white,
      the background most viewers and documents show them on.
    - 16-bit images are scaled by the full range of their type (65535 -> 255, 32768 -> 128),
      never clipped. 32-bit integer images whose values fit 0..65535 are treated as 16-bit,
      others are stretched from their minimum to their maximum; float images in [0, 1]
      are scaled by 255, others are stretched the same way.
    - CMYK, YCbCr, LAB, HSV and grayscale are converted to RGB.
    - An image declaring more than ``max_pixels`` pixels is refused before it is decoded.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return load_image_bytes(bytes(path_or_bytes), max_pixels=max_pixels)
    path = Path(path_or_bytes)
    if not path.exists():
        raise ImageError(f"image file not found: {path}")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror or e}") from None
    return load_image_bytes(data, name=str(path), max_pixels=max_pixels)


def load_image_bytes(data: bytes, name: str = "pasted image", *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an encoded image (PNG, JPEG, TIFF, ...) held in memory; see ``load_image``."""
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)")
    im = _open_checked(data, name, max_pixels)
    try:
        im.load()
    except _DECODE_ERRORS as e:
        raise ImageError(f"{name} is truncated or corrupt and cannot be decoded ({e})") from None
    try:
        im = ImageOps.exif_transpose(im)
    except _DECODE_ERRORS:
        pass  # unreadable EXIF: the pixels are still good, shown as stored
    return _pil_to_rgb(im, name)


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
        Image.fromarray(np.ascontiguousarray(arr)).save(path, **options)
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
    arr = _to_uint8(arr, name)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        return _composite_on_white(arr)
    return np.ascontiguousarray(arr)


def _open_checked(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open (header only) and refuse images that declare too many pixels."""
    try:
        with warnings.catch_warnings():
            # our own limit below decides; Pillow's warning would only repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        declared = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(declared.group(1)):,} pixels" if declared else "too many pixels"
        raise ImageError(f"{name} declares {count}, more than the limit of "
                         f"{min(max_pixels, _pillow_error_limit()):,} pixels; "
                         f"it is refused so a decompression bomb cannot exhaust memory") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image ({_describe_non_image(data)})") from None
    except _DECODE_ERRORS as e:
        raise ImageError(f"{name} is truncated or corrupt: its header cannot be read ({e})") from None
    w, h = im.size
    if w * h > max_pixels:
        raise ImageError(f"{name} declares {w}x{h} pixels ({w * h:,}), more than the limit of "
                         f"{max_pixels:,} pixels; it is refused so a decompression bomb "
                         f"cannot exhaust memory")
    if w == 0 or h == 0:
        raise ImageError(f"{name} declares {w}x{h} pixels; it has no picture in it")
    return im


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
    if mode == "RGB":
        return np.array(im, dtype=np.uint8)
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in _ALPHA_MODES:
        im = im.convert("RGBA")
    elif mode in _CONVERTIBLE_MODES:
        try:
            im = im.convert("RGB")
        except ValueError:
            raise ImageError(f"{name} uses the {mode} colour mode, which cannot be converted to RGB") from None
    elif mode == "1":
        im = im.convert("L")
    elif not (mode in ("L", "RGBA", "I", "F") or mode.startswith("I;16")):
        raise ImageError(f"{name} uses the {mode} pixel mode, which is not supported; "
                         f"convert it to an 8- or 16-bit RGB or grayscale image")
    return as_rgb(np.asarray(im), name)


def _to_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:
        return ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo >= 0 and hi <= 65535:
            return _to_uint8(arr.astype(np.uint16), name)
        return _stretch(arr.astype(np.float64), lo, hi)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise ImageError(f"{name} contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo >= 0.0 and hi <= 1.0:
            return np.round(arr * 255.0).astype(np.uint8)
        return _stretch(arr.astype(np.float64), lo, hi)
    raise ImageError(f"{name} has pixel type {arr.dtype}, which is not supported")


def _stretch(arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.round((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[:, :, :3].astype(np.uint32)
    alpha = rgba[:, :, 3:4].astype(np.uint32)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
