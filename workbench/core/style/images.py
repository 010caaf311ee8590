"""The bundled style images (``resources/styles/NAME.png``) and how a style is named: a bundled
name (``brick``), or the path of any image file."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from workbench.core.images import ImageError, load_image

STYLES_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "styles"


def style_names() -> list[str]:
    """The bundled styles, by name."""
    return sorted(p.stem for p in STYLES_DIR.glob("*.png"))


def style_path(name: str) -> Path | None:
    """The bundled style called ``name`` (any case), or None."""
    key = name.strip().lower()
    return next((STYLES_DIR / f"{n}.png" for n in style_names() if n == key), None)


def load_style(spec: str | os.PathLike) -> np.ndarray:
    """A bundled style's name or an image path -> RGB uint8 HxWx3."""
    text = os.fspath(spec).strip()
    if not text:
        raise ValueError(f"style: name a bundled style ({', '.join(style_names())}) or an image file")
    bundled = style_path(text)
    if bundled is not None:
        return load_image(bundled)
    path = Path(text).expanduser()
    if not path.exists():
        raise ImageError(f"style {text!r} is neither a bundled style ({', '.join(style_names())}) "
                         f"nor an image file that exists")
    try:
        return load_image(path)
    except ImageError as exc:
        raise ImageError(f"style: {exc}") from None
