"""The bundled style images, made again: ``python -m workbench.core.style.make_styles [FOLDER]``.

Three are crops of scikit-image's texture photographs (brick, gravel, grass: grey), one of its
immunohistochemistry slide (tissue: brown and blue stain), and two are drawn from a seed (mosaic:
coloured cells with dark grout; waves: bands of colour bent by smooth noise). Each is SIDE x SIDE.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from workbench.core.style.images import STYLES_DIR

SIDE = 160
# name -> (scikit-image loader, top, left, side of the crop taken before shrinking to SIDE)
PHOTOS = {"brick": ("brick", 0, 0, 320), "gravel": ("gravel", 0, 0, 320), "grass": ("grass", 0, 0, 320),
          "tissue": ("immunohistochemistry", 64, 64, 320)}


def photo(name: str) -> np.ndarray:
    from skimage import data
    loader, top, left, side = PHOTOS[name]
    image = getattr(data, loader)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    crop = np.ascontiguousarray(image[top:top + side, left:left + side, :3])
    return cv2.resize(crop, (SIDE, SIDE), interpolation=cv2.INTER_AREA)


def mosaic(seed: int = 0, cells: int = 60) -> np.ndarray:
    """Voronoi cells in a warm palette, each slightly mottled, with dark grout between them."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, SIDE, (cells, 2))
    palette = np.array([[196, 64, 42], [232, 170, 60], [40, 96, 160], [230, 220, 200], [70, 140, 90]], np.float32)
    colours = palette[rng.integers(0, len(palette), cells)] + rng.normal(0, 12, (cells, 3))
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    # distances on a torus, so the texture tiles
    dy = np.abs(yy[..., None] - centres[:, 0]); dy = np.minimum(dy, SIDE - dy)
    dx = np.abs(xx[..., None] - centres[:, 1]); dx = np.minimum(dx, SIDE - dx)
    dist = np.sqrt(dy ** 2 + dx ** 2)
    order = np.sort(dist, axis=2)
    nearest = np.argmin(dist, axis=2)
    image = colours[nearest] + rng.normal(0, 6, (SIDE, SIDE, 3))
    grout = np.clip((order[..., 1] - order[..., 0]) / 2.5, 0, 1)[..., None]
    image = grout * image + (1 - grout) * np.array([35, 30, 28], np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def waves(seed: int = 0) -> np.ndarray:
    """Diagonal bands of three colours, bent by smooth noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (SIDE, SIDE)).astype(np.float32), (0, 0), 12)
    noise /= np.abs(noise).max()
    phase = 2 * np.pi * (xx + 0.6 * yy) / 22 + 5 * noise
    t = (np.sin(phase) + 1) / 2
    band = (np.floor((phase / (2 * np.pi)) % 3)).astype(int)
    palette = np.array([[20, 60, 140], [240, 200, 60], [200, 50, 90]], np.float32)
    image = palette[band] * (0.55 + 0.45 * t[..., None]) + rng.normal(0, 5, (SIDE, SIDE, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def make_all() -> dict[str, np.ndarray]:
    out = {name: photo(name) for name in PHOTOS}
    out["mosaic"] = mosaic()
    out["waves"] = waves()
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else STYLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in make_all().items():
        path = folder / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
