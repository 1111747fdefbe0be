"""Tests of the segment-stack models: CNN3D and the CNN-LSTM hybrid."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklearn_ser.features._segment import Segmenter
from sklearn_ser.models._base import ModelOutput, count_parameters
from sklearn_ser.models._cnn3d import CNN3D
from sklearn_ser.models._cnn_lstm import CNNLSTM

SHAPES = [(2, 4, 4), (1, 1, 1), (3, 7, 9), (5, 40, 16)]
SMALL = {
    CNN3D: {"channels": (4, 8), "embedding_dim": 8},
    CNNLSTM: {"channels": (4, 8), "hidden_size": 8, "embedding_dim": 8},
}


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    # Tiny convolutions gain nothing from intra-op threads, and when other processes share
    # the 2 cores the spinning threads slow training 20-50x; one thread keeps it ~1 s.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(n_threads)


@pytest.mark.parametrize("cls", [CNN3D, CNNLSTM])
@pytest.mark.parametrize("shape", SHAPES)
def test_output_shapes(cls, shape):
    model = cls(n_classes=3, input_shape=shape, **SMALL[cls])
    x = torch.randn(4, *shape)
    for train in (True, False):
        model.train(train)
        out = model(x)
        assert isinstance(out, ModelOutput)
        assert out.logits.shape == (4, 3)
        assert out.embedding.shape == (4, 8)
        assert out.logits.dtype == out.embedding.dtype == torch.float32
        if cls is CNN3D:
            assert out.reconstruction.shape == x.shape
        else:
            assert out.reconstruction is None


@pytest.mark.parametrize(
    "kernels", [(3, 5, 3), (2, 4, 2), (1, 1, 1), (4, 6, 5)], ids=["odd", "even", "one", "mixed"]
)
@pytest.mark.parametrize("shape", [(2, 4, 4), (3, 7, 9)])
def test_cnn3d_reconstruction_shape_for_any_kernel(kernels, shape):
    t, s, f = kernels
    model = CNN3D(2, shape, channels=(3, 4, 5), temporal_kernel=t, spectral_kernel=s, time_kernel=f)
    x = torch.randn(2, *shape)
    assert model(x).reconstruction.shape == x.shape


def test_cnn3d_pools_only_large_dimensions():
    model = CNN3D(2, (2, 40, 9), channels=(2, 2, 2))
    # segments (2) never pooled; bins 40 -> 20 -> 10 -> 5; frames 9 -> 4 -> 2 -> 2.
    assert model.feature_shape == (2, 2, 5, 2)


def test_reconstruct_false_gives_none():
    model = CNN3D(2, (2, 4, 4), reconstruct=False, **SMALL[CNN3D])
    assert model.decoder is None
    assert model(torch.randn(3, 2, 4, 4)).reconstruction is None
    with_decoder = CNN3D(2, (2, 4, 4), **SMALL[CNN3D])
    assert count_parameters(with_decoder) > count_parameters(model)


@pytest.mark.parametrize("cls", [CNN3D, CNNLSTM])
# At least 2 segments: with one, the LSTM's recurrent weights act on h0 = 0 only.
@pytest.mark.parametrize("shape", [(2, 4, 4), (2, 1, 1)])
def test_gradients_reach_every_parameter(cls, shape):
    model = cls(n_classes=2, input_shape=shape, **SMALL[cls])
    x = torch.randn(4, *shape)
    out = model(x)
    loss = F.cross_entropy(out.logits, torch.tensor([0, 1, 0, 1])) + out.embedding.pow(2).mean()
    if out.reconstruction is not None:
        loss = loss + F.mse_loss(out.reconstruction, x)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("cls", [CNN3D, CNNLSTM])
def test_eval_outputs_are_per_sample(cls):
    # In eval mode a sample's output must not depend on the rest of the batch
    # (catches reshapes that mix segments of different utterances).
    model = cls(n_classes=3, input_shape=(3, 6, 5), **SMALL[cls]).eval()
    x = torch.randn(4, 3, 6, 5)
    with torch.no_grad():
        batched = model(x)
        for i in range(4):
            single = model(x[i : i + 1])
            torch.testing.assert_close(single.logits[0], batched.logits[i])
            torch.testing.assert_close(single.embedding[0], batched.embedding[i])
            if cls is CNN3D:
                torch.testing.assert_close(single.reconstruction[0], batched.reconstruction[i])


def _rising_falling(n=32, shape=(4, 6, 5)):
    """Class 1: energy rises across segments; class 0: it falls (long-term dynamics)."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    ramp = torch.linspace(-1.0, 1.0, shape[0])
    trend = torch.where(y[:, None] == 1, ramp, -ramp)  # (n, S)
    x = trend[:, :, None, None] + 0.3 * torch.randn(n, *shape, generator=g)
    return x, y


@pytest.mark.parametrize("cls", [CNN3D, CNNLSTM])
def test_learns_a_tiny_problem(cls):
    x, y = _rising_falling()
    model = cls(n_classes=2, input_shape=tuple(x.shape[1:]), dropout=0.0, **SMALL[cls])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def losses():
        out = model(x)
        ce = F.cross_entropy(out.logits, y)
        mse = F.mse_loss(out.reconstruction, x) if out.reconstruction is not None else None
        return ce, mse

    with torch.no_grad():
        ce0, mse0 = losses()
    for _ in range(150):
        opt.zero_grad()
        ce, mse = losses()
        (ce if mse is None else ce + mse).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        ce1, mse1 = losses()
        accuracy = (model(x).logits.argmax(1) == y).float().mean().item()
    assert ce1 < 0.3 * ce0
    assert accuracy >= 0.9
    if mse0 is not None:
        assert mse1 < 0.8 * mse0


def test_wrong_input_shape_raises():
    model = CNN3D(2, (2, 4, 4), **SMALL[CNN3D])
    with pytest.raises(ValueError, match=r"built for inputs of shape \(batch, 2, 4, 4\)"):
        model(torch.randn(3, 2, 4, 5))
    with pytest.raises(ValueError, match=r"CNN3D .* got \(3, 4, 4\)"):
        model(torch.randn(3, 4, 4))
    lstm = CNNLSTM(2, (2, 4, 4), **SMALL[CNNLSTM])
    with pytest.raises(ValueError, match=r"CNNLSTM .*\(batch, 2, 4, 4\), got \(1, 3, 4, 4\)"):
        lstm(torch.randn(1, 3, 4, 4))


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (CNN3D, {"input_shape": (4, 4)}, r"input_shape must be 3 positive integers.*\(4, 4\)"),
        (CNNLSTM, {"input_shape": (2, 0, 4)}, "input_shape must be 3 positive integers"),
        (CNN3D, {"n_classes": 0}, "n_classes must be an integer >= 1, got 0"),
        (CNN3D, {"channels": ()}, r"channels must be a non-empty sequence .* got \(\)"),
        (CNNLSTM, {"channels": (4, -1)}, "channels must be"),
        (CNN3D, {"spectral_kernel": 0}, "spectral_kernel must be an integer >= 1, got 0"),
        (CNN3D, {"temporal_kernel": 2.0}, "temporal_kernel"),
        (CNN3D, {"dropout": 1.0}, r"dropout must be a float in \[0, 1\), got 1.0"),
        (CNNLSTM, {"kernel_size": 0}, "kernel_size must be"),
        (CNNLSTM, {"hidden_size": 0}, "hidden_size must be"),
        (CNNLSTM, {"pooling": "max"}, "pooling must be one of .* got 'max'"),
    ],
)
def test_invalid_arguments(cls, kwargs, match):
    params = {"n_classes": 2, "input_shape": (2, 4, 4), **kwargs}
    with pytest.raises(ValueError, match=match):
        cls(**params)


def _conv_weights(channels, kernel_volume):
    c_in = (1, *channels[:-1])
    return sum(a * b for a, b in zip(c_in, channels)) * kernel_volume


def test_cnn3d_parameter_count_follows_kernel_extents():
    channels = (4, 8, 8)

    def n_params(reconstruct=False, **kernels):
        model = CNN3D(2, (3, 8, 8), channels=channels, reconstruct=reconstruct, **kernels)
        return count_parameters(model)

    base = n_params(temporal_kernel=3, spectral_kernel=3, time_kernel=3)
    # Each conv weight is (c_out, c_in, t, s, f): only that kernel's volume changes.
    assert n_params(temporal_kernel=3, spectral_kernel=5, time_kernel=3) - base == (
        _conv_weights(channels, 3 * 5 * 3) - _conv_weights(channels, 3 * 3 * 3)
    )
    assert n_params(temporal_kernel=1, spectral_kernel=3, time_kernel=3) < base
    # The decoder's transposed convolutions have the same kernel as the encoder.
    with_decoder = n_params(reconstruct=True, temporal_kernel=3, spectral_kernel=3, time_kernel=3)
    bigger = n_params(reconstruct=True, temporal_kernel=3, spectral_kernel=5, time_kernel=3)
    assert bigger - with_decoder == 2 * (_conv_weights(channels, 45) - _conv_weights(channels, 27))


@pytest.mark.parametrize("cls", [CNN3D, CNNLSTM])
def test_parameter_count_does_not_depend_on_input_size(cls):
    small = cls(2, (2, 4, 4), reconstruct=True, **SMALL[cls]) if cls is CNN3D else None
    models = [cls(2, shape, **SMALL[cls]) for shape in [(2, 4, 4), (6, 40, 32)]]
    assert count_parameters(models[0]) == count_parameters(models[1])
    if small is not None:
        assert count_parameters(small) == count_parameters(models[0])


def test_cnn_lstm_parameter_count_follows_kernel_and_lstm():
    channels = (4, 8)

    def n_params(**kw):
        return count_parameters(CNNLSTM(2, (3, 8, 8), channels=channels, **kw))

    assert n_params(kernel_size=5) - n_params(kernel_size=3) == (
        _conv_weights(channels, 25) - _conv_weights(channels, 9)
    )
    uni, bi = n_params(bidirectional=False), n_params(bidirectional=True)
    assert bi > uni
    assert n_params(num_layers=2) > bi


def test_cnn_lstm_depends_on_segment_order():
    model = CNNLSTM(2, (4, 6, 5), dropout=0.0, **SMALL[CNNLSTM]).eval()
    x = torch.randn(2, 4, 6, 5)
    with torch.no_grad():
        forward = model(x).embedding
        reversed_ = model(x.flip(1)).embedding
    assert not torch.allclose(forward, reversed_)


def test_models_consume_segmenter_output():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(3, 10, 37)).astype(np.float32)  # (n, bins, frames)
    segments = Segmenter(segment_frames=8, hop_frames=6).fit_transform(feats)
    x = torch.from_numpy(segments)
    for cls in (CNN3D, CNNLSTM):
        out = cls(2, tuple(segments.shape[1:]), **SMALL[cls])(x)
        assert out.logits.shape == (3, 2)


@pytest.mark.parametrize("cls", [CNN3D, CNNLSTM])
def test_ser_classifier_defaults_fit_every_shipped_module(cls):
    # lambda_recon="auto": the reconstruction loss only where the module has a decoder,
    # so SERClassifier(module=CNNLSTM) trains with its own defaults.
    from sklearn_ser import SERClassifier

    x, y = _rising_falling()
    clf = SERClassifier(module=cls, max_epochs=1, random_state=0)
    clf.set_params(**{f"module__{k}": v for k, v in SMALL[cls].items()})
    clf.fit(x.numpy(), y.numpy())
    assert clf.predict(x.numpy()).shape == (len(y),)
    assert ("train_recon" in clf.history_[-1]) == (cls is CNN3D)
