"""capture_attention: the per-head weights of every nn.MultiheadAttention, fused kernels or not,
equal to softmax(QK^T/sqrt(d)) computed by hand, with nothing left behind."""
import threading

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.core.vit_reference import reference_attention, reference_forward, tiny_vit
from workbench.core.attention import AttentionCaptureError, capture_attention
from workbench.core.hooks import hook_count


def assert_released(model: nn.Module) -> None:
    assert hook_count(model) == 0
    assert not [n for n, m in model.named_modules() if "forward" in m.__dict__]
    assert torch.backends.mha.get_fastpath_enabled()


@pytest.fixture(autouse=True)
def fast_path_is_on():
    assert torch.backends.mha.get_fastpath_enabled()     # the fused kernels are available to every test
    yield
    assert torch.backends.mha.get_fastpath_enabled()


def test_vit_weights_equal_the_reference_softmax_and_the_output_is_unchanged():
    vit = tiny_vit()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert all(b.self_attention.batch_first for b in vit.encoder.layers) and not vit.training
    with torch.no_grad():
        plain = vit(x)
        expected_logits, expected = reference_forward(vit, x)
        with capture_attention(vit) as captured:
            logits = vit(x)
    assert captured.names == [f"encoder.layers.encoder_layer_{i}.self_attention" for i in range(2)]
    assert [tuple(w.shape) for w in captured.weights] == [(2, 2, 17, 17)] * 2
    for got, want in zip(captured.weights, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logits, plain, rtol=0, atol=1e-6)
    torch.testing.assert_close(expected_logits, plain, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(captured.stacked(1), torch.stack([e[1] for e in expected]), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(captured.weights[0][0, 0], captured.weights[0][0, 1])   # heads kept apart
    assert_released(vit)


def test_a_bare_attention_layer_gives_the_caller_what_it_asked_for():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    q, kv = torch.randn(3, 4, 8), torch.randn(3, 6, 8)
    with torch.no_grad():
        plain_out, _ = mha(q, kv, kv, need_weights=False)
        want = reference_attention(mha, q, kv)
        with capture_attention(mha) as captured:
            out, none = mha(q, kv, kv, need_weights=False)
            out2, averaged = mha(q, kv, kv)                                  # default: averaged weights
            _, per_head = mha(q, kv, kv, None, True, None, False)           # positionally: per head
    assert none is None
    torch.testing.assert_close(out, plain_out, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(averaged, want.mean(dim=1), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(per_head, want, rtol=1e-5, atol=1e-6)
    assert len(captured) == 3 and captured.names == ["", "", ""]
    for got in captured.weights:
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert_released(mha)


def test_self_attention_on_the_fused_fast_path_is_captured():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    x = torch.randn(2, 5, 8)
    with torch.no_grad(), capture_attention(mha) as captured:
        mha(x, x, x, need_weights=False)     # the call the native fused kernel serves
    torch.testing.assert_close(captured.weights[0], reference_attention(mha, x, x), rtol=1e-5, atol=1e-6)


def test_a_transformer_encoder_whose_fused_kernel_skips_its_attention_is_still_captured():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = torch.randn(1, 5, 16)
    ran = []
    first = enc.layers[0].self_attn
    first.forward = lambda *a, **k: ran.append(1) or type(first).forward(first, *a, **k)
    with torch.no_grad():
        plain = enc(x)
    del first.forward
    assert ran == []          # without the capture the fused kernel never runs the attention module
    with torch.no_grad(), capture_attention(enc) as captured:
        out = enc(x)
    torch.testing.assert_close(out, plain, rtol=1e-5, atol=1e-5)
    assert captured.names == ["layers.0.self_attn", "layers.1.self_attn"]
    torch.testing.assert_close(captured.weights[0], reference_attention(first, x, x), rtol=1e-5, atol=1e-6)
    assert_released(enc)


class GoesAround(nn.Module):
    """Uses its attention layer's weights through a fused call and never calls the layer."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        q, k, v = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias).chunk(3, dim=-1)
        split = lambda t: t.reshape(*t.shape[:2], 2, 4).transpose(1, 2)   # noqa: E731
        out = F.scaled_dot_product_attention(split(q), split(k), split(v))
        return self.attn.out_proj(out.transpose(1, 2).reshape(x.shape))


def test_a_layer_skipped_by_a_fused_call_is_an_error_not_an_empty_capture():
    model = GoesAround().eval()
    with pytest.raises(AttentionCaptureError, match=r"attention layer\(s\) attn did not run .* fused kernel"):
        with torch.no_grad(), capture_attention(model):
            model(torch.randn(1, 3, 8))
    assert_released(model)


def test_nothing_run_in_the_block_is_an_error():
    vit = tiny_vit()
    with pytest.raises(AttentionCaptureError, match="none of the model's 2 attention layers ran"):
        with capture_attention(vit):
            pass
    assert_released(vit)


def test_a_model_without_attention_says_so():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    with pytest.raises(AttentionCaptureError, match=r"no attention layers \(torch.nn.MultiheadAttention\)"):
        with capture_attention(net):
            net(torch.zeros(1, 3, 8, 8))
    assert_released(net)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_torchscript_is_refused_with_a_way_out():
    scripted = torch.jit.script(nn.MultiheadAttention(8, 2))
    with pytest.raises(AttentionCaptureError, match="TorchScript"):
        with capture_attention(scripted):
            pass


def test_an_error_inside_the_block_releases_everything_and_propagates():
    vit = tiny_vit()
    with pytest.raises(RuntimeError, match="boom"):
        with torch.no_grad(), capture_attention(vit) as captured:
            vit(torch.zeros(1, 3, 32, 32))
            assert torch.backends.mha.get_fastpath_enabled() is False
            raise RuntimeError("boom")
    assert len(captured) == 2
    assert_released(vit)
    vit.encoder.layers[1].mlp = Boom()      # a forward that fails midway, after the first attention
    with pytest.raises(RuntimeError, match="mlp failed"):
        with torch.no_grad(), capture_attention(vit) as captured:
            vit(torch.zeros(1, 3, 32, 32))
    assert len(captured) == 2
    assert_released(vit)


class Boom(nn.Module):
    def forward(self, x):
        raise RuntimeError("mlp failed")


def test_a_forward_patched_by_someone_else_is_put_back():
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    theirs = mha.forward
    mha.forward = theirs
    x = torch.randn(1, 3, 8)
    with torch.no_grad(), capture_attention(mha) as captured:
        mha(x, x, x)
    assert mha.__dict__["forward"] is theirs and len(captured) == 1


def test_weights_kept_in_the_graph_give_gradients():
    vit = tiny_vit()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with capture_attention(vit, detach=False) as captured:
        score = vit(x)[0, 1]
    grads = captured.gradients(score)
    ref_logits, ref_attn = reference_forward(vit, x)
    ref_grads = torch.autograd.grad(ref_logits[0, 1], ref_attn)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    assert_released(vit)


def test_overlapping_captures_in_threads_restore_the_fast_path_once_all_are_done():
    vits = [tiny_vit(seed) for seed in range(4)]
    barrier, counts, errors = threading.Barrier(4), [], []

    def work(vit):
        try:
            with torch.no_grad(), capture_attention(vit) as captured:
                barrier.wait(timeout=10)
                vit(torch.zeros(1, 3, 32, 32))
            counts.append(len(captured))
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in vits]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == [] and counts == [2, 2, 2, 2]
    for vit in vits:
        assert_released(vit)
