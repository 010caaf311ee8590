import numpy as np
import pytest

from workbench.core.latent.paths import grid_values, lerp, manifold_grid, principal_directions, slerp


def test_lerp_is_the_straight_line():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -2.0])
    path = lerp(a, b, 5)
    np.testing.assert_allclose(path, [[1, 2], [1.5, 1], [2, 0], [2.5, -1], [3, -2]])
    np.testing.assert_allclose(lerp(a, b, np.array([0.25])), [[1.5, 1.0]])


def test_slerp_endpoints_and_constant_norm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=32), rng.normal(size=32)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = slerp(a, b, 9)
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-12)
    # a straight line between the same points dips towards the origin
    assert np.linalg.norm(lerp(a, b, 9)[4]) < 0.9 * np.linalg.norm(a)


def test_slerp_is_a_rotation_at_constant_angular_speed():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    t = np.linspace(0, 1, 7)
    path = slerp(a, b, t)
    # unequal norms: the weights are those of the unit arc, so x = cos(t pi/2), y = 2 sin(t pi/2)
    np.testing.assert_allclose(path[:, 0], np.cos(t * np.pi / 2), atol=1e-12)
    np.testing.assert_allclose(path[:, 1], 2 * np.sin(t * np.pi / 2), atol=1e-12)
    unit = slerp(a, b / 2, t)
    angles = np.arccos(np.clip(unit @ a, -1, 1))
    np.testing.assert_allclose(np.diff(angles), np.pi / 2 / 6, atol=1e-12)


@pytest.mark.parametrize("angle", [1e-3, 1e-7, 1e-10, 0.0])
def test_slerp_of_near_parallel_vectors_is_finite_and_close_to_the_line(angle):
    a = np.array([3.0, 0.0])
    b = 3.0 * np.array([np.cos(angle), np.sin(angle)])
    path = slerp(a, b, 5)
    assert np.isfinite(path).all()
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-12)
    # points sit at angles t * angle on the arc
    np.testing.assert_allclose(np.arctan2(path[:, 1], path[:, 0]), np.linspace(0, angle, 5), atol=1e-15)
    np.testing.assert_allclose(path, lerp(a, b, 5), atol=3.0 * angle ** 2 + 1e-15)


def test_slerp_of_opposite_vectors_falls_back_to_the_line():
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(slerp(a, -a, 3), lerp(a, -a, 3))


def test_principal_directions_are_orthonormal_and_find_the_axes():
    rng = np.random.default_rng(1)
    rot, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    stds = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.1])
    x = (rng.normal(size=(5000, 6)) * stds) @ rot.T + 7.0
    dirs, found, mean = principal_directions(x)
    np.testing.assert_allclose(dirs @ dirs.T, np.eye(6), atol=1e-10)
    np.testing.assert_allclose(found, stds, rtol=0.05)
    np.testing.assert_allclose(mean, 7.0, atol=0.2)
    np.testing.assert_allclose(np.abs(dirs @ rot), np.eye(6), atol=0.05)
    # the largest entry of every direction is positive, whatever the SVD's signs
    assert (dirs[np.arange(6), np.abs(dirs).argmax(1)] > 0).all()
    dirs2, _, _ = principal_directions(x, k=2)
    assert dirs2.shape == (2, 6)
    np.testing.assert_allclose(dirs2, dirs[:2])


def test_gaussian_grid_values_are_normal_quantiles():
    v = grid_values(5, 1.6448536269514722)  # Phi(-1.645) = 0.05: Kingma & Welling's 0.05 ... 0.95
    from scipy.stats import norm
    np.testing.assert_allclose(v, norm.ppf(np.linspace(0.05, 0.95, 5)), atol=1e-9)
    np.testing.assert_allclose(grid_values(3, 2.0, "linear"), [-2, 0, 2])
    with pytest.raises(ValueError):
        grid_values(3, 1.0, "cubic")


def test_manifold_grid_layout():
    points, values = manifold_grid(8, 2, 5, 4, 1.5, "linear", base=np.arange(8.0))
    assert points.shape == (16, 8)
    np.testing.assert_allclose(values, np.linspace(-1.5, 1.5, 4))
    grid = points.reshape(4, 4, 8)
    np.testing.assert_allclose(grid[0, :, 2], values)          # x grows to the right
    np.testing.assert_allclose(grid[:, 0, 5], values[::-1])    # the top row has the largest y
    others = [i for i in range(8) if i not in (2, 5)]
    np.testing.assert_allclose(points[:, others], np.tile(np.arange(8.0)[others], (16, 1)))
    with pytest.raises(ValueError):
        manifold_grid(8, 2, 2, 4, 1.0)
    with pytest.raises(ValueError):
        manifold_grid(8, 0, 8, 4, 1.0)
