"""Tests of sklearn_ser.plotting (Agg backend)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.plotting import (
    EmbeddingDisplay,
    plot_confusion_matrix,
    plot_embedding,
    plot_training_history,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EMOTIONS = np.array(["ang", "hap", "neu", "sad"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def embeddings():
    X, y = make_blobs(n_samples=40, n_features=12, centers=4, random_state=0)
    return X, EMOTIONS[y]


def _n_points(display):
    return sum(len(s.get_offsets()) for s in display.scatters_)


def test_plot_embedding_pca(embeddings):
    X, y = embeddings
    disp = plot_embedding(X, y, method="pca", title="Held-out speakers")
    assert isinstance(disp, EmbeddingDisplay)
    assert [t.get_text() for t in disp.legend_.get_texts()] == EMOTIONS.tolist()
    assert len(disp.ax_.get_legend().get_texts()) == 4
    assert _n_points(disp) == len(y)
    np.testing.assert_allclose(disp.embedding_2d_, PCA(n_components=2).fit_transform(X))
    np.testing.assert_array_equal(disp.labels_, y)
    np.testing.assert_array_equal(disp.classes_, EMOTIONS)
    assert disp.ax_.get_xlabel().startswith("PC 1 (")
    assert disp.ax_.get_ylabel().startswith("PC 2 (")
    assert disp.ax_.get_title() == "Held-out speakers"
    assert disp.figure_ is disp.ax_.figure
    # each class is drawn with its own points and its own colour
    for scatter, label in zip(disp.scatters_, EMOTIONS):
        np.testing.assert_allclose(scatter.get_offsets(), disp.embedding_2d_[y == label])
    colours = {tuple(s.get_facecolor()[0]) for s in disp.scatters_}
    assert len(colours) == 4


def test_plot_embedding_tsne_small_set_clamps_perplexity():
    X, y = make_blobs(n_samples=12, n_features=5, centers=2, random_state=0)
    disp = plot_embedding(X, y, random_state=0, perplexity=30.0)  # 30 >= n_samples
    assert disp.embedding_2d_.shape == (12, 2)
    assert np.all(np.isfinite(disp.embedding_2d_))
    assert disp.ax_.get_xlabel() == "t-SNE 1" and disp.ax_.get_ylabel() == "t-SNE 2"
    assert len(disp.legend_.get_texts()) == 2
    again = plot_embedding(X, y, random_state=0)
    np.testing.assert_allclose(disp.embedding_2d_, again.embedding_2d_)


def test_plot_embedding_through_estimator_transform(embeddings):
    X, y = embeddings
    est = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=5))]).fit(X)
    disp = plot_embedding(X, y, estimator=est, method="pca")
    direct = EmbeddingDisplay.from_embeddings(est.transform(X), y, method="pca")
    np.testing.assert_allclose(disp.embedding_2d_, direct.embedding_2d_)
    from_est = EmbeddingDisplay.from_estimator(est, X, y, method="pca")
    np.testing.assert_allclose(from_est.embedding_2d_, direct.embedding_2d_)
    with pytest.raises(TypeError, match="must implement transform"):
        plot_embedding(X, y, estimator=object())


def test_plot_embedding_uses_given_ax_and_scatter_kwargs(embeddings):
    X, y = embeddings
    _, ax = plt.subplots()
    disp = plot_embedding(X, y, method="pca", ax=ax, s=5, marker="x")
    assert disp.ax_ is ax
    assert all(s.get_sizes()[0] == 5 for s in disp.scatters_)


def test_plot_embedding_errors(embeddings):
    X, y = embeddings
    with pytest.raises(ValueError, match=r"method must be one of \('tsne', 'pca'\), got.*umap"):
        plot_embedding(X, y, method="umap")
    with pytest.raises(ValueError, match="40 embeddings and 39 labels"):
        plot_embedding(X, y[:-1], method="pca")
    with pytest.raises(ValueError, match=r"must not contain \['c'\]"):
        plot_embedding(X, y, method="pca", c="red")
    with pytest.raises(ValueError, match="at least 2 features"):
        plot_embedding(X[:, :1], y, method="pca")
    with pytest.raises(ValueError, match="shape \\(n_samples, 2\\)"):
        EmbeddingDisplay(X, y).plot()


def test_display_constructor_plots_2d_points():
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    disp = EmbeddingDisplay(pts, ["a", "b", "a"], axis_names=("x", "y")).plot()
    assert _n_points(disp) == 3
    assert disp.ax_.get_xlabel() == "x"


def test_plot_confusion_matrix_normalised_by_true_class():
    y_true = ["ang"] * 4 + ["sad"] * 2
    y_pred = ["ang", "ang", "ang", "sad", "sad", "ang"]
    disp = plot_confusion_matrix(y_true, y_pred)
    np.testing.assert_allclose(disp.confusion_matrix, [[0.75, 0.25], [0.5, 0.5]])
    np.testing.assert_allclose(disp.confusion_matrix.sum(axis=1), 1.0)
    assert disp.text_[0, 0].get_text() == "0.75"
    assert disp.ax_.get_ylabel() == "True label"

    _, ax = plt.subplots()
    counts = plot_confusion_matrix(y_true, y_pred, normalize=None, labels=["sad", "ang"], ax=ax)
    np.testing.assert_array_equal(counts.confusion_matrix, [[1, 1], [1, 3]])
    assert counts.ax_ is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sad", "ang"]
    with pytest.raises(ValueError, match=r"normalize must be one of.*'rows'"):
        plot_confusion_matrix(y_true, y_pred, normalize="rows")


HISTORY = [
    {"epoch": 1, "train_loss": 1.5, "valid_loss": 1.6, "valid_ua": 0.30, "dur": 2.0,
     "valid_loss_best": True, "batches": [{"train_loss": 1.5}]},
    {"epoch": 2, "train_loss": 1.1, "valid_loss": 1.4, "valid_ua": 0.42, "dur": 2.1,
     "valid_loss_best": True, "batches": []},
    {"epoch": 3, "train_loss": 0.9, "valid_loss": 1.5, "dur": 2.0,
     "valid_loss_best": False, "batches": [], "train_center": 0.3},
]  # fmt: skip


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_plot_training_history_default_keys():
    ax = plot_training_history(HISTORY)
    lines = _lines(ax)
    assert list(lines) == ["train_loss", "valid_loss", "valid_ua", "train_center"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(lines)
    np.testing.assert_array_equal(lines["train_loss"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines["train_loss"].get_ydata(), [1.5, 1.1, 0.9])
    # epochs without the key are gaps
    np.testing.assert_allclose(lines["valid_ua"].get_ydata(), [0.30, 0.42, np.nan])
    np.testing.assert_allclose(lines["train_center"].get_ydata(), [np.nan, np.nan, 0.3])
    assert ax.get_xlabel() == "epoch"


def test_plot_training_history_selected_keys_and_ax():
    _, ax = plt.subplots()
    out = plot_training_history(HISTORY, keys=["valid_ua", "dur"], ax=ax)
    assert out is ax
    assert list(_lines(ax)) == ["valid_ua", "dur"]
    assert list(_lines(plot_training_history(HISTORY, keys="train_loss"))) == ["train_loss"]


def test_plot_training_history_key_errors():
    with pytest.raises(ValueError, match=r"Unknown history key 'valid_acc'; expected one of"):
        plot_training_history(HISTORY, keys=["valid_acc"])
    with pytest.raises(ValueError, match="'valid_loss_best' has no numeric value"):
        plot_training_history(HISTORY, keys="valid_loss_best")
    with pytest.raises(ValueError, match="empty"):
        plot_training_history([])
    with pytest.raises(ValueError, match="no numeric key"):
        plot_training_history([{"epoch": 1, "dur": 1.0}])
    with pytest.raises(TypeError, match="history must be"):
        plot_training_history({"train_loss": 1.0})


class _FittedNet(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.history_ = HISTORY[:2]
        return self


def test_plot_training_history_from_estimator_and_pipeline():
    net = _FittedNet().fit(None, None)
    assert list(_lines(plot_training_history(net))) == ["train_loss", "valid_loss", "valid_ua"]
    pipe = Pipeline([("scale", StandardScaler()), ("net", net)])
    lines = _lines(plot_training_history(pipe, keys=["valid_ua"]))
    np.testing.assert_allclose(lines["valid_ua"].get_ydata(), [0.30, 0.42])


def test_plot_training_history_skorch_history():
    history_mod = pytest.importorskip("skorch.history")
    history = history_mod.History()
    for epoch, (loss, ua) in enumerate([(1.2, 0.3), (0.8, 0.5)], start=1):
        history.new_epoch()
        history.record("epoch", epoch)
        history.record("train_loss", loss)
        history.record("valid_ua", ua)
        history.record("dur", 0.5)
    lines = _lines(plot_training_history(history))
    assert list(lines) == ["train_loss", "valid_ua"]
    np.testing.assert_allclose(lines["valid_ua"].get_ydata(), [0.3, 0.5])


def test_x_axis_falls_back_to_position_without_epoch_key():
    ax = plot_training_history([{"train_loss": 2.0}, {"train_loss": 1.0}])
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2])


def test_missing_matplotlib_error(monkeypatch, embeddings):
    X, y = embeddings
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    calls = [
        lambda: plot_embedding(X, y, method="pca"),
        lambda: EmbeddingDisplay(X[:, :2], y).plot(),
        lambda: plot_confusion_matrix(y, y),
        lambda: plot_training_history(HISTORY),
    ]
    for call in calls:
        with pytest.raises(ImportError, match=r"requires matplotlib: pip install 'sklearn-ser\["):
            call()


def test_importing_plotting_does_not_import_matplotlib():
    code = (
        "import sys, sklearn_ser.plotting, sklearn_ser.metrics, sklearn_ser.model_selection; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'); "
        "assert not bad, bad; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("routing", [False, True])
def test_embedding_display_passes_groups(embeddings, routing):
    # Before, groups never reached transform, so a speaker-standardising model's map
    # always pooled the speakers.
    import sklearn

    from sklearn_ser.preprocessing import SpeakerStandardScaler

    X, y = embeddings
    speakers = np.repeat(["s1", "s2", "s3", "s4"], 10)
    X = X + np.repeat([0.0, 5.0, -5.0, 10.0], 10)[:, None]
    with sklearn.config_context(enable_metadata_routing=routing):
        est = Pipeline([("scale", StandardScaler()), ("speaker", SpeakerStandardScaler())])
        est.fit(X, groups=speakers) if routing else est.fit(X, speaker__groups=speakers)
        disp = EmbeddingDisplay.from_estimator(est, X, y, groups=speakers, method="pca")
        alone = plot_embedding(X, y, estimator=est, method="pca")
    direct = est[-1].transform(est[0].transform(X), groups=speakers)
    expected = EmbeddingDisplay.from_embeddings(direct, y, method="pca")
    np.testing.assert_allclose(disp.embedding_2d_, expected.embedding_2d_)
    assert not np.allclose(alone.embedding_2d_, disp.embedding_2d_)
