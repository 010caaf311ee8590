import numpy as np
import torch

from workbench import api


def test_the_vector_is_what_the_classifier_head_reads_and_the_prediction_its_argmax(bundled):
    handle = bundled("shapes-cnn")
    image = api.load_image("sample:shapes-0")
    result = api.run("feature-vector", handle, image)
    seen = {}
    head = [m for m in handle.module.modules() if isinstance(m, torch.nn.Linear)][-1]
    hook = head.register_forward_pre_hook(lambda _m, args: seen.__setitem__("x", args[0]))
    try:
        with torch.no_grad():
            logits = handle.module(handle.preprocess(image))[0]
    finally:
        hook.remove()
    np.testing.assert_allclose(result.vector, seen["x"][0].numpy(), rtol=1e-5, atol=1e-6)
    probs = torch.softmax(logits, 0)
    assert result.predicted == int(probs.argmax()) and result.predicted_label == handle.labels[result.predicted]
    assert abs(result.score - float(probs.max())) < 1e-5
    assert result.summary() == {"layer": "penultimate", "predicted": result.predicted,
                                "predicted_label": result.predicted_label, "score": result.score}


def test_a_conv_layer_is_pooled_over_space(bundled):
    handle = bundled("shapes-cnn")
    layer = [n for n, m in handle.module.named_modules() if isinstance(m, torch.nn.Conv2d)][0]
    result = api.run("feature-vector", handle, "sample:shapes-0", layer=layer)
    conv = dict(handle.module.named_modules())[layer]
    assert result.vector.shape == (conv.out_channels,) and result.layer == layer
