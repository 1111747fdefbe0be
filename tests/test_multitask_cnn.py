"""The multitask CNN and the training machinery around it (issue 22)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sklearn_ser import SERClassifier
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


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(48, 8, 12)).astype(np.float32)
    y = np.array(["anger", "neutral", "sadness"] * 16)
    X[y == "anger", :3] += 1.5
    X[y == "sadness", 5:] += 1.5
    return X, y


_SMALL = {"module__channels": (4, 8), "module__embedding_dim": 8, "batch_size": 16}


def test_mixup_loss_is_the_mixture_of_the_two_labels_losses():
    X, y = _data()
    clf = SERClassifier(max_epochs=1, random_state=0, mixup_alpha=0.4, **_SMALL).fit(X, y)
    net = clf.net_
    torch.manual_seed(0)
    Xb = torch.as_tensor(X[:16])
    yb = torch.as_tensor(np.unique(y, return_inverse=True)[1][:16])
    mixed, targets = net._mixup(Xb, yb)
    assert 0.5 <= targets.weight <= 1.0
    w = targets.weight
    assert torch.equal(targets.first, yb)  # the dominant labels are the batch's own
    assert mixed.shape == Xb.shape and not torch.allclose(mixed, Xb)
    out = net.infer(mixed)
    loss = net.get_loss(out, targets, X=mixed, training=True)
    ce = torch.nn.functional.cross_entropy
    expected = w * ce(out.logits, targets.first) + (1 - w) * ce(out.logits, targets.second)
    lambda_recon = net.lambda_recon
    if lambda_recon:
        expected = expected + lambda_recon * torch.nn.functional.mse_loss(out.reconstruction, mixed)
    if net.lambda_center:
        expected = expected + net.lambda_center * net.center_loss_(out.embedding, targets.first)
    assert torch.allclose(loss, expected)


def test_mixup_changes_training_and_is_seeded():
    X, y = _data()
    params = {"max_epochs": 2, "random_state": 0, "lambda_recon": 0.0, **_SMALL}
    plain = SERClassifier(**params).fit(X, y)
    a = SERClassifier(mixup_alpha=0.4, **params).fit(X, y)
    b = SERClassifier(mixup_alpha=0.4, **params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_[-1, "train_ce"] != plain.history_[-1, "train_ce"]
    # Off by default: the plain net never draws a mixing weight.
    assert SERClassifier().mixup_alpha == 0


def test_weight_average_is_the_model_kept_after_training():
    X, y = _data()
    params = {"max_epochs": 3, "random_state": 0, "lambda_recon": 0.0, **_SMALL}
    plain = SERClassifier(**params).fit(X, y)
    assert "weight_average" not in dict(plain.net_.callbacks_)  # off by default
    clf = SERClassifier(ema_decay=0.9, **params).fit(X, y)
    average = dict(clf.net_.callbacks_)["weight_average"]
    assert average.steps_ == 3 * 3  # 48 samples in batches of 16, 3 epochs
    state = clf.net_.module_.state_dict()
    for name, value in average.average_.items():
        assert torch.equal(state[name], value), name
    # The same run without the average ends elsewhere.
    assert not np.allclose(clf.predict_proba(X), plain.predict_proba(X))


def test_weight_average_resumes_from_a_checkpoint(tmp_path):
    X, y = _data()
    params = {"random_state": 0, "lambda_recon": 0.0, "ema_decay": 0.9, **_SMALL}
    path = tmp_path / "state.pt"
    SERClassifier(max_epochs=2, checkpoint=path, lr_schedule=None, **params).fit(X, y)
    resumed = SERClassifier(max_epochs=3, checkpoint=path, lr_schedule=None, **params).fit(X, y)
    again = SERClassifier(max_epochs=3, lr_schedule=None, **params).fit(X, y)
    np.testing.assert_allclose(resumed.predict_proba(X), again.predict_proba(X), atol=1e-6)


def test_weights_saved_with_the_former_decoder_still_load():
    model = MultitaskCNN(n_classes=2, input_shape=(9, 13), channels=(4, 4))
    state = model.state_dict()
    odd = [k for k, v in state.items() if k.startswith("decoders.") and v.shape[2:] == (3, 3)]
    key = odd[0]  # the step that undoes the pooling of 9 x 13 to 4 x 6
    state[key] = torch.zeros(*state[key].shape[:2], 2, 2)  # kernel = pool, as before
    state["embedding.0.bias"] = torch.full_like(state["embedding.0.bias"], 0.5)
    model.load_state_dict(state, strict=True)
    assert torch.equal(model.state_dict()["embedding.0.bias"], state["embedding.0.bias"])
