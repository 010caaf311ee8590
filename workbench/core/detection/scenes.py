"""The ground truth of a bundled shapes scene, for methods that compare a detector with it."""
from __future__ import annotations

import numpy as np

NO_SCENE = -1


def scene_truth(image: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (K, 4, image pixels, x0 y0 x1 y1) and 0-based shape classes of scene ``seed``, refused
    unless ``image`` is that scene's pixels (sample:scene-N): ground truth of any other image is unknown."""
    scene = _scene(image, seed)
    return scene.boxes.astype(np.float32), np.asarray(scene.labels, np.int64)


def scene_masks(image: np.ndarray, seed: int) -> np.ndarray:
    """(K, H, W) uint8 masks of scene ``seed``'s objects, on the same terms as ``scene_truth``."""
    return np.asarray(_scene(image, seed).masks, np.uint8)


def _scene(image: np.ndarray, seed: int):
    from workbench.zoo.shapes import render_scene
    scene = render_scene(seed)
    if scene.image.shape != image.shape or not np.array_equal(scene.image, image):
        raise ValueError(f"the image is not the bundled scene {seed} (sample:scene-{seed}); "
                         f"ground truth is known only for that scene")
    return scene
