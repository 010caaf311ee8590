"""The embedding projector's core: features over a dataset, PCA, t-SNE, neighbours and their agreement."""
import time

import numpy as np
import pytest

from workbench.core.context import CancelToken, Cancelled, Partial
from workbench.core.embedding import dataset as D
from workbench.core.embedding import neighbours as N
from workbench.core.embedding import project as P
from workbench.core.embedding.features import extract
from workbench.core.methods import embed
from workbench.core.runner import context, run_method
from workbench.core.sources import load_model


@pytest.fixture(scope="module")
def digits_features():
    handle = load_model("zoo:digits-cnn")
    data = D.load_dataset("digits")
    *_, (_n, feats, logits) = extract(handle, data.images, "penultimate")
    return data, feats, logits


def test_the_digits_classes_separate_in_feature_space_better_than_in_pixel_space(digits_features):
    data, feats, logits = digits_features
    assert feats.shape == (1797, 1024) and logits.shape == (1797, 10)
    in_features = N.label_agreement(feats, data.labels, k=10)
    in_pixels = N.label_agreement(data.images.reshape(len(data), -1).astype(np.float32), data.labels, k=10)
    print(f"\ndigits, k=10 label agreement: features {in_features:.3f}, pixels {in_pixels:.3f}")
    assert in_features > 0.97 and in_features > in_pixels      # measured 0.988 and 0.962


def test_tsne_keeps_the_classes_apart_and_agrees_with_pca_neighbourhoods(digits_features):
    data, feats, _ = digits_features
    x, labels = feats[:500], data.labels[:500]
    *_, (frac, points) = P.tsne(x, perplexity=30, n_jobs=1)
    pca, share = P.pca(x)
    with_pca = N.neighbour_agreement(points, pca, k=10)
    in_tsne = N.label_agreement(points, labels, k=10)
    print(f"\n500 digits: t-SNE label agreement {in_tsne:.3f}, t-SNE/PCA neighbour agreement {with_pca:.3f} "
          f"(chance {10 / 499:.3f}), PCA explains {share.sum():.2f}")
    assert frac == 1.0 and points.shape == (500, 2)
    assert in_tsne > 0.95
    assert with_pca > 5 * 10 / 499


def test_pca_finds_the_axis_of_largest_variance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5)) * np.array([10, 3, 1, 1, 1])
    points, share = P.pca(x)
    assert abs(np.corrcoef(points[:, 0], x[:, 0])[0, 1]) > 0.99
    assert share[0] > 0.8 and share[0] > share[1]


def test_nearest_neighbours_leave_the_point_itself_out():
    x = np.array([[0.0], [1.0], [3.0], [7.0], [7.0]])
    idx, dist = N.nearest(x, 1, 2)
    assert list(idx) == [0, 2] and list(dist) == [1.0, 2.0]
    assert N.knn(x, 1)[:, 0].tolist() == [1, 0, 1, 4, 3]
    with pytest.raises(IndexError):
        N.nearest(x, 5, 1)


def test_neighbour_agreement_is_one_for_a_rescaled_copy_and_low_for_noise():
    x = np.random.default_rng(1).normal(size=(300, 8))
    assert N.neighbour_agreement(x, 3 * x, k=5) == 1.0
    assert N.neighbour_agreement(x, np.random.default_rng(2).normal(size=(300, 8)), k=5) < 0.1


def test_cancel_stops_tsne_between_chunks():
    x = np.random.default_rng(0).normal(size=(300, 10)).astype(np.float32)
    token = CancelToken()
    run = P.tsne(x, check=token.check)
    next(run)
    token.cancel()
    t = time.perf_counter()
    with pytest.raises(Cancelled):
        next(run)
    assert time.perf_counter() - t < 1.0


def test_the_embed_method_shows_partials_and_gives_coordinates_labels_ids(tmp_path):
    handle = load_model("zoo:shapes-cnn")
    partials = []
    result = run_method(embed.METHOD, context(handle, None), {"dataset": "shapes", "count": 300},
                        on_partial=partials.append)
    assert len(partials) >= 10 and not partials[0].finished and result.finished
    assert result.title == "t-SNE of zoo:shapes-cnn penultimate over 300 shapes images"
    assert result.points.shape == (300, 2) and result.features.shape == (300, 128)
    assert result.ids[0] == D.SHAPES_FIRST_SEED and result.label_names[0] == "circle"
    assert (result.predictions == result.labels).mean() > 0.9
    print(f"\n300 shapes, zoo:shapes-cnn penultimate: label agreement {result.agreement:.3f}")
    assert result.agreement > 0.9
    feats_nn = result.neighbours(5, k=8)
    pixel_nn = result.neighbours(5, k=8, space="pixels")
    assert 5 not in feats_nn and (result.labels[feats_nn] == result.labels[5]).mean() >= 0.75
    assert set(feats_nn) != set(pixel_nn)       # the seed's point: the two spaces differ
    result.write_csv(tmp_path / "e.csv")
    rows = (tmp_path / "e.csv").read_text().splitlines()
    assert rows[0].startswith("id,x,y,label") and len(rows) == 301 and rows[1].startswith("2000000,")


def test_embed_pca_of_a_conv_layer_over_a_folder(tmp_path):
    import cv2
    data = D.load_dataset("shapes", 12)
    for i, (img, label) in enumerate(zip(data.images, data.labels)):
        (tmp_path / data.label_names[label]).mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / data.label_names[label] / f"{i}.png"), img[..., ::-1])
    result = run_method(embed.METHOD, context(load_model("zoo:shapes-cnn"), None),
                        {"dataset": "folder", "folder": str(tmp_path), "projection": "pca",
                         "layer": "features.conv2", "k": 2})
    assert result.points.shape == (12, 2) and result.features.shape == (12, 32)
    assert len(result.paths) == 12 and sorted(result.label_names) == result.label_names
    assert all(result.label_names[l] in p for l, p in zip(result.labels, result.paths))


def test_bad_input_says_what_is_wrong(tmp_path):
    handle = load_model("zoo:shapes-cnn")
    with pytest.raises(ValueError, match="is not a folder"):
        run_method(embed.METHOD, context(handle, None), {"dataset": "folder", "folder": str(tmp_path / "nope")})
    with pytest.raises(ValueError, match="no images"):
        run_method(embed.METHOD, context(handle, None), {"dataset": "folder", "folder": str(tmp_path)})
    with pytest.raises(ValueError, match="no layer"):
        run_method(embed.METHOD, context(handle, None), {"count": 20, "layer": "conv9", "projection": "pca"})


def test_umap_without_umap_learn_is_refused_before_any_forward_pass(monkeypatch):
    monkeypatch.setattr(P, "umap_available", lambda: False)
    monkeypatch.setattr(embed, "extract", lambda *a, **k: pytest.fail("features were computed"))
    with pytest.raises(ValueError, match="umap-learn"):
        run_method(embed.METHOD, context(load_model("zoo:shapes-cnn"), None), {"count": 20, "projection": "umap"})


def test_umap_keeps_the_digits_classes_apart_and_gives_the_same_layout_for_the_same_seed(digits_features):
    data, feats, _ = digits_features
    x, labels = feats[:500], data.labels[:500]
    points = P.umap(x, seed=0)
    in_umap = N.label_agreement(points, labels, k=10)
    print(f"\n500 digits: UMAP label agreement {in_umap:.3f}")
    assert points.shape == (500, 2) and np.isfinite(points).all()
    assert in_umap > 0.95
    assert np.array_equal(P.umap(x, seed=0), points)


def test_the_embed_method_lays_out_by_umap():
    result = run_method(embed.METHOD, context(load_model("zoo:shapes-cnn"), None),
                        {"dataset": "shapes", "count": 60, "projection": "umap"})
    assert result.points.shape == (60, 2) and result.title.startswith("UMAP of")
    assert N.label_agreement(result.points, result.labels, k=5) > 0.8


def test_the_lasso_test_agrees_with_matplotlib_on_a_star_shaped_polygon():
    from matplotlib.path import Path
    from workbench.core.embedding.selection import inside
    rng = np.random.default_rng(1)
    points = rng.normal(size=(20000, 2))
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    r = 1 + 0.5 * np.sin(5 * t)                          # concave: a five-pointed flower
    polygon = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    hit = inside(points, polygon)
    assert np.array_equal(hit, Path(polygon).contains_points(points))
    assert 0.2 < hit.mean() < 0.6
    assert not inside(points, polygon[:2]).any()      # two vertices enclose nothing


def test_a_selection_is_described_by_its_categories():
    from workbench.core.embedding.selection import describe
    from workbench.core.results.embedding import Embedding
    e = Embedding(method="embed", model="m", params={}, points=np.zeros((6, 2), np.float32),
                  labels=np.array([0, 0, 0, 1, 2, -1]), predictions=np.array([1, 1, 1, 1, 1, 1]),
                  ids=np.arange(6), label_names=["cat", "dog", "fox"], class_names=["cat", "dog"], dataset="folder")
    assert describe(e, np.array([0, 1, 2, 3])) == "4 points selected: 75% cat, 25% dog (by label)"
    assert describe(e, np.array([0, 5]), "prediction") == "2 points selected: 100% dog (by prediction)"
    assert describe(e, np.array([], np.int64)) == "no points selected"


def test_a_point_opens_as_the_image_the_model_saw(tmp_path):
    import cv2
    shapes = D.load_dataset("shapes", 3)
    image, name = D.item_image("shapes", int(shapes.ids[2]))
    assert np.array_equal(image, shapes.images[2]) and name == f"shapes #{int(shapes.ids[2])}"
    digits = D.load_dataset("digits", 10)
    assert np.array_equal(D.item_image("digits", 7)[0], digits.images[7])
    big = np.zeros((200, 300, 3), np.uint8)
    big[:, :150] = (255, 0, 0)
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    folder = D.load_dataset("folder", folder=str(tmp_path))
    image, name = D.item_image("folder", 0, folder.paths[0])
    assert image.shape == (200, 300, 3) and name == "a.png" and tuple(image[0, 0]) == (255, 0, 0)
    with pytest.raises(ValueError, match="digits has images 0 to 1796"):
        D.item_image("digits", 5000)
    with pytest.raises(ValueError, match="no file recorded"):
        D.item_image("folder", 3)
