"""Frames (T, h, w) or (T, h, w, 3) uint8 written as an animated GIF (Pillow) or an MP4 (OpenCV).

Small frames (32x32 digits) are enlarged by an integer factor, nearest neighbour, so that the
pixels stay sharp in a viewer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.atomic import atomic_path

FORMATS = (".gif", ".mp4")
MIN_SIDE = 256


def enlarge(frames: np.ndarray, min_side: int = MIN_SIDE) -> np.ndarray:
    """Frames repeated by the smallest integer factor that makes their longer side >= min_side."""
    frames = _check(frames)
    f = max(1, -(-min_side // max(frames.shape[1:3])))
    return np.repeat(np.repeat(frames, f, axis=1), f, axis=2)


def _check(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or len(frames) == 0 or \
            (frames.ndim == 4 and frames.shape[3] != 3):
        raise ValueError(f"frames must be uint8 (T, h, w) or (T, h, w, 3) with T >= 1, got "
                         f"{frames.dtype} {frames.shape}")
    return frames


def write_gif(frames: np.ndarray, path: str | Path, fps: float = 12.0, min_side: int = MIN_SIDE) -> Path:
    """An animated GIF that loops forever. Pillow folds a frame identical to the one before it
    into that frame's duration, so a still stretch plays as one longer frame."""
    from PIL import Image
    path = Path(path)
    images = [Image.fromarray(f) for f in enlarge(frames, min_side)]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], loop=0,
                       duration=max(20, int(round(1000.0 / fps))), optimize=False)
    return path


def write_mp4(frames: np.ndarray, path: str | Path, fps: float = 12.0, min_side: int = MIN_SIDE) -> Path:
    """An MPEG-4 (mp4v) video. Sides are made even, as most players need."""
    import cv2
    path = Path(path)
    big = enlarge(frames, min_side)
    h, w = big.shape[1] // 2 * 2, big.shape[2] // 2 * 2
    with atomic_path(path) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h), True)
        if not writer.isOpened():
            raise OSError(f"cannot write {path}: this OpenCV build has no MPEG-4 encoder")
        try:
            for f in big:
                f = f[:h, :w]
                writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR if f.ndim == 2 else cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise OSError(f"cannot write {path}")
    return path


def write_animation(frames: np.ndarray, path: str | Path, fps: float = 12.0) -> Path:
    """GIF or MP4, chosen by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        return write_gif(frames, path, fps)
    if suffix == ".mp4":
        return write_mp4(frames, path, fps)
    raise ValueError(f"cannot write {Path(path).name!r} as an animation; use one of {', '.join(FORMATS)}")
