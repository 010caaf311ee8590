import numpy as np
import torch

from workbench import api
from workbench.core.results import Heatmap


def test_api_loads_a_bundled_model_and_an_image_and_runs_a_method_by_name():
    model = api.load_model("zoo:digits-cnn")
    assert isinstance(model.module, torch.nn.Module)
    image = api.load_image("sample:digit-7")
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    x = model.preprocess(image)
    with torch.no_grad():
        assert int(model.module(x).argmax()) == 7
    result = api.run("saliency", model, image, target="7")
    assert isinstance(result, Heatmap) and result.target == 7
    assert result.heatmap.shape == image.shape[:2]


def test_api_exposes_the_sample_metrics():
    rng = np.random.RandomState(0)
    a = rng.randn(200, 4)
    assert abs(api.fid(a, a)) < 1e-8
    assert api.inception_score(np.eye(10)[np.arange(100) % 10])[0] > 9.99
