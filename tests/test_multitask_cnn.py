"""The multitask CNN and the training machinery around it (issue 22)."""

import pytest
import torch
import torch.nn.functional as F

from sklearn_ser.models import MultitaskCNN


@pytest.mark.parametrize(
    "shape, channels",
    [
        ((64, 300), (4, 4, 4, 4)),
        ((40, 301), (4, 4, 4)),
        ((257, 300), (4, 4, 4, 4)),
        ((5, 7), (4, 4)),
    ],
)
def test_decoder_rebuilds_exactly_the_input_frames(monkeypatch, shape, channels):
    # Odd sizes lose a row or column to each pooling step; the decoder must give them back
    # by itself, never by resampling its output.
    def no_interpolation(*args, **kwargs):
        raise AssertionError("the decoder must not interpolate")

    monkeypatch.setattr(F, "interpolate", no_interpolation)
    torch.manual_seed(0)
    model = MultitaskCNN(n_classes=3, input_shape=shape, channels=channels, embedding_dim=4)
    x = torch.randn(2, *shape)
    recon = model(x).reconstruction
    assert recon.shape == x.shape
    # Every frame depends on the code: the last frame is not a constant bias.
    model.eval()
    with torch.no_grad():
        a = model(x).reconstruction
        b = model(torch.randn(2, *shape)).reconstruction
    assert not torch.allclose(a[..., -1], b[..., -1])
    assert not torch.allclose(a[..., -1, :], b[..., -1, :])


def test_decoder_of_each_input_part_rebuilds_its_bins():
    model = MultitaskCNN(
        n_classes=2, input_shape=(47, 33), channels=(2, 2, 2), input_splits=(40, 7)
    )
    x = torch.randn(2, 47, 33)
    assert model(x).reconstruction.shape == x.shape
