"""Plots for speech emotion recognition: embedding maps, confusion matrices, training curves,
emotion over time.

matplotlib is an optional dependency (``pip install 'sklearn-ser[plotting]'``). It is imported
only when a plot is drawn, so importing this module never imports matplotlib.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils import check_array, column_or_1d
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from sklearn.metrics import ConfusionMatrixDisplay

__all__ = [
    "EmbeddingDisplay",
    "TimelineDisplay",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_timeline",
    "plot_training_history",
]

_INSTALL_HINT = "pip install 'sklearn-ser[plotting]'"
_METHODS = ("tsne", "pca")
# History keys that are numeric but not a training curve; plotted only when asked for.
_SKIPPED_HISTORY_KEYS = ("epoch", "dur")


def _import_pyplot(caller: str) -> Any:
    """Import matplotlib.pyplot, or raise an ImportError telling how to install it."""
    try:
        import matplotlib  # noqa: F401
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{caller} requires matplotlib: {_INSTALL_HINT}") from exc
    return plt


def _get_ax(plt: Any, ax: Any) -> Any:
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _label_colors(n: int) -> list[Any]:
    import matplotlib as mpl

    if n <= 10:
        cmap = mpl.colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    if n <= 20:
        cmap = mpl.colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    cmap = mpl.colormaps["viridis"]
    return [cmap(i / (n - 1)) for i in range(n)]


def _project_2d(
    X: np.ndarray, method: str, random_state: Any, perplexity: float
) -> tuple[np.ndarray, tuple[str, str]]:
    """Project embeddings to 2-D with t-SNE or PCA; return the points and axis names."""
    n_samples, n_features = X.shape
    if method == "pca":
        from sklearn.decomposition import PCA

        if n_features < 2:
            raise ValueError(
                f"method='pca' needs embeddings with at least 2 features, got {n_features}."
            )
        pca = PCA(n_components=2, random_state=random_state)
        points = pca.fit_transform(X)
        ratio = pca.explained_variance_ratio_
        return points, (f"PC 1 ({100 * ratio[0]:.1f} %)", f"PC 2 ({100 * ratio[1]:.1f} %)")
    from sklearn.manifold import TSNE

    if not perplexity > 0:
        raise ValueError(f"perplexity must be positive, got perplexity={perplexity!r}.")
    # t-SNE requires perplexity < n_samples; clamp for small sets of utterances.
    perplexity = float(min(perplexity, n_samples - 1))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state)
    # For small sets the OpenMP threads of t-SNE only add overhead, and on a busy machine
    # their spin-waiting can slow a sub-second fit down to many seconds: run it single-threaded.
    limit = threadpool_limits(limits=1, user_api="openmp") if n_samples < 2000 else nullcontext()
    with limit:
        points = tsne.fit_transform(X)
    return points, ("t-SNE 1", "t-SNE 2")


class EmbeddingDisplay:
    """2-D map of utterance embeddings coloured by emotion.

    Create it with :meth:`from_embeddings` or :meth:`from_estimator` (or the convenience
    function :func:`plot_embedding`), which project the embeddings to 2-D with t-SNE or PCA and
    draw them. Calling the constructor and :meth:`plot` directly draws points that are already
    2-D.

    Parameters
    ----------
    embedding_2d : array-like of shape (n_samples, 2)
        Projected embeddings.
    labels : array-like of shape (n_samples,)
        Emotion label of each utterance.
    axis_names : tuple of 2 str, default=("dim 1", "dim 2")
        Axis labels.

    Attributes
    ----------
    embedding_2d_ : ndarray of shape (n_samples, 2)
        The drawn 2-D points.
    labels_ : ndarray of shape (n_samples,)
        The label of each point.
    classes_ : ndarray of shape (n_classes,)
        Sorted distinct labels; one colour and one legend entry each.
    scatters_ : list of matplotlib PathCollection
        One scatter artist per class, in the order of :attr:`classes_`.
    legend_ : matplotlib Legend
        The legend.
    ax_ : matplotlib Axes
        Axes with the map.
    figure_ : matplotlib Figure
        Figure containing the map.

    See Also
    --------
    plot_embedding : Project and draw embeddings in one call.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_ser.plotting import EmbeddingDisplay
    >>> rng = np.random.RandomState(0)
    >>> emb = rng.normal(size=(30, 8))
    >>> y = np.repeat(["ang", "hap", "sad"], 10)
    >>> disp = EmbeddingDisplay.from_embeddings(emb, y, method="pca")
    >>> disp.embedding_2d_.shape, disp.classes_.tolist()
    ((30, 2), ['ang', 'hap', 'sad'])
    """

    def __init__(
        self,
        embedding_2d: Any,
        labels: Any,
        *,
        axis_names: tuple[str, str] = ("dim 1", "dim 2"),
    ) -> None:
        self.embedding_2d = embedding_2d
        self.labels = labels
        self.axis_names = axis_names

    def plot(
        self, *, ax: Axes | None = None, title: str | None = None, **scatter_kwargs: Any
    ) -> EmbeddingDisplay:
        """Draw the map.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None.
        title : str, default=None
            Axes title; none if None.
        **scatter_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` (e.g. ``s``, ``alpha``, ``marker``).
            Colours and legend labels are set per class, so ``c``, ``color`` and ``label`` are
            not accepted.

        Returns
        -------
        display : EmbeddingDisplay
            This object, with :attr:`ax_`, :attr:`figure_` and the artists set.
        """
        plt = _import_pyplot("EmbeddingDisplay.plot")
        points = check_array(self.embedding_2d, ensure_min_samples=1)
        if points.shape[1] != 2:
            raise ValueError(
                f"embedding_2d must have shape (n_samples, 2), got shape {points.shape}."
            )
        labels = column_or_1d(np.asarray(self.labels))
        if labels.shape[0] != points.shape[0]:
            raise ValueError(
                f"embedding_2d and labels must have the same length, got {points.shape[0]} "
                f"points and {labels.shape[0]} labels."
            )
        bad = sorted({"c", "color", "label"} & set(scatter_kwargs))
        if bad:
            raise ValueError(
                f"scatter_kwargs must not contain {bad!r}: colours and labels are set per "
                "emotion class."
            )
        scatter_kwargs = {"s": 15, "alpha": 0.8, **scatter_kwargs}

        ax = _get_ax(plt, ax)
        classes = np.unique(labels)
        scatters = []
        for cls, color in zip(classes, _label_colors(len(classes))):
            mask = labels == cls
            scatters.append(
                ax.scatter(
                    points[mask, 0],
                    points[mask, 1],
                    color=[color],
                    label=str(cls),
                    **scatter_kwargs,
                )
            )
        ax.set_xlabel(self.axis_names[0])
        ax.set_ylabel(self.axis_names[1])
        if title is not None:
            ax.set_title(title)
        self.legend_ = ax.legend(title="emotion", loc="best")
        self.embedding_2d_ = points
        self.labels_ = labels
        self.classes_ = classes
        self.scatters_ = scatters
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_embeddings(
        cls,
        X: Any,
        y: Any,
        *,
        method: str = "tsne",
        ax: Axes | None = None,
        random_state: Any = None,
        perplexity: float = 30.0,
        title: str | None = None,
        **scatter_kwargs: Any,
    ) -> EmbeddingDisplay:
        """Project embeddings to 2-D and draw them coloured by emotion.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings, one per utterance.
        y : array-like of shape (n_samples,)
            Emotion labels.
        method : {"tsne", "pca"}, default="tsne"
            Projection: :class:`sklearn.manifold.TSNE` or :class:`sklearn.decomposition.PCA`.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None.
        random_state : int, RandomState instance or None, default=None
            Seed of the projection, for reproducible maps.
        perplexity : float, default=30.0
            t-SNE perplexity; lowered to ``n_samples - 1`` for small sets. Ignored for PCA.
        title : str, default=None
            Axes title; none if None.
        **scatter_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : EmbeddingDisplay
            The drawn display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn_ser.plotting import EmbeddingDisplay
        >>> emb = np.random.RandomState(0).normal(size=(20, 4))
        >>> disp = EmbeddingDisplay.from_embeddings(emb, [0, 1] * 10, random_state=0)
        >>> disp.ax_.get_xlabel()
        't-SNE 1'
        """
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS!r}, got method={method!r}.")
        _import_pyplot(f"{cls.__name__}.from_embeddings")
        X = check_array(X, ensure_min_samples=2, ensure_min_features=1)
        y = column_or_1d(np.asarray(y))
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X and y must have the same length, got {X.shape[0]} embeddings and "
                f"{y.shape[0]} labels."
            )
        points, axis_names = _project_2d(X, method, random_state, perplexity)
        return cls(points, y, axis_names=axis_names).plot(ax=ax, title=title, **scatter_kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        groups: Any = None,
        method: str = "tsne",
        ax: Axes | None = None,
        random_state: Any = None,
        perplexity: float = 30.0,
        title: str | None = None,
        **scatter_kwargs: Any,
    ) -> EmbeddingDisplay:
        """Embed ``X`` with a fitted estimator's ``transform`` and draw the 2-D map.

        Parameters
        ----------
        estimator : estimator object
            Fitted estimator whose ``transform(X)`` returns embeddings of shape
            ``(n_samples, n_features)`` (e.g. a fitted pipeline ending in the SER classifier).
        X : list of str, list of array-like or array-like
            Utterances, in any form ``estimator.transform`` accepts.
        y : array-like of shape (n_samples,)
            Emotion labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each utterance, for an estimator that standardises per speaker
            (``SERClassifier(standardize="speaker")``); None embeds every utterance
            alone. Passed as ``transform(X, groups=groups)`` through metadata routing
            when it is enabled, else to the last step of a pipeline. A fitted search
            embeds with its ``best_estimator_``.
        method : {"tsne", "pca"}, default="tsne"
            Projection method.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None.
        random_state : int, RandomState instance or None, default=None
            Seed of the projection.
        perplexity : float, default=30.0
            t-SNE perplexity; lowered to ``n_samples - 1`` for small sets.
        title : str, default=None
            Axes title; none if None.
        **scatter_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : EmbeddingDisplay
            The drawn display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_blobs
        >>> from sklearn.preprocessing import StandardScaler
        >>> from sklearn_ser.plotting import EmbeddingDisplay
        >>> X, y = make_blobs(n_samples=30, n_features=5, random_state=0)
        >>> scaler = StandardScaler().fit(X)
        >>> disp = EmbeddingDisplay.from_estimator(scaler, X, y, method="pca")
        >>> len(disp.scatters_)
        3
        """
        if not hasattr(estimator, "transform"):
            raise TypeError(
                "estimator must implement transform(X) returning embeddings, got an object of "
                f"type {type(estimator).__name__} without transform."
            )
        from ._groups import call_with_groups

        embeddings = np.asarray(
            call_with_groups(estimator, "transform", X, groups=groups, routing="config")
        )
        if embeddings.ndim != 2:
            raise ValueError(
                "estimator.transform(X) must return embeddings of shape (n_samples, n_features), "
                f"got shape {embeddings.shape}."
            )
        return cls.from_embeddings(
            embeddings,
            y,
            method=method,
            ax=ax,
            random_state=random_state,
            perplexity=perplexity,
            title=title,
            **scatter_kwargs,
        )


def plot_embedding(
    X: Any,
    y: Any,
    *,
    estimator: Any = None,
    groups: Any = None,
    method: str = "tsne",
    ax: Axes | None = None,
    random_state: Any = None,
    perplexity: float = 30.0,
    title: str | None = None,
    **scatter_kwargs: Any,
) -> EmbeddingDisplay:
    """Draw a 2-D map of embeddings, one colour and legend entry per emotion.

    Use it to see how emotions cluster, e.g. the embeddings of held-out speakers from a
    network trained with softmax only next to one trained with center loss.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), or any input of ``estimator``
        Embeddings; or, if ``estimator`` is given, the utterances to embed.
    y : array-like of shape (n_samples,)
        Emotion labels.
    estimator : estimator object, default=None
        If given, a fitted estimator whose ``transform(X)`` returns the embeddings.
    groups : array-like of shape (n_samples,), default=None
        Speaker of each utterance, passed to the estimator's ``transform`` (see
        :meth:`EmbeddingDisplay.from_estimator`); ignored without ``estimator``.
    method : {"tsne", "pca"}, default="tsne"
        Projection to 2-D: :class:`sklearn.manifold.TSNE` or
        :class:`sklearn.decomposition.PCA`.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created if None.
    random_state : int, RandomState instance or None, default=None
        Seed of the projection.
    perplexity : float, default=30.0
        t-SNE perplexity; lowered to ``n_samples - 1`` for small sets. Ignored for PCA.
    title : str, default=None
        Axes title; none if None.
    **scatter_kwargs : dict
        Passed to :meth:`matplotlib.axes.Axes.scatter` (e.g. ``s``, ``alpha``).

    Returns
    -------
    display : EmbeddingDisplay
        Holds ``ax_``, ``figure_``, ``embedding_2d_``, ``labels_`` and ``classes_``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn_ser.plotting import plot_embedding
    >>> X, y = make_blobs(n_samples=40, n_features=16, centers=4, random_state=0)
    >>> disp = plot_embedding(X, y, method="pca", title="Embeddings")
    >>> len(disp.legend_.get_texts())
    4
    """
    kwargs = dict(
        method=method,
        ax=ax,
        random_state=random_state,
        perplexity=perplexity,
        title=title,
        **scatter_kwargs,
    )
    if estimator is not None:
        return EmbeddingDisplay.from_estimator(estimator, X, y, groups=groups, **kwargs)
    return EmbeddingDisplay.from_embeddings(X, y, **kwargs)


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    normalize: str | None = "true",
    ax: Axes | None = None,
    **kwargs: Any,
) -> ConfusionMatrixDisplay:
    """Plot a confusion matrix, by default normalised per true class (recall).

    A thin wrapper over :meth:`sklearn.metrics.ConfusionMatrixDisplay.from_predictions` with
    the SER convention as default: each row is divided by the number of utterances of that
    emotion, so the diagonal shows the per-class recalls whose mean is the UA.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels.
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.
    labels : array-like, default=None
        Classes to show, in this order; by default the sorted labels of ``y_true`` and
        ``y_pred``.
    normalize : {"true", "pred", "all"} or None, default="true"
        Normalise over true classes (rows, recall), predicted classes (columns, precision),
        all utterances, or not at all (counts).
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created if None.
    **kwargs : dict
        Passed to ``ConfusionMatrixDisplay.from_predictions`` (e.g. ``cmap``, ``colorbar``,
        ``display_labels``, ``values_format``; ``values_format`` defaults to ``".2f"`` when
        normalised).

    Returns
    -------
    display : sklearn.metrics.ConfusionMatrixDisplay
        With ``ax_``, ``figure_``, ``im_`` and ``confusion_matrix``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_ser.plotting import plot_confusion_matrix
    >>> disp = plot_confusion_matrix(["ang", "ang", "sad", "sad"], ["ang", "sad", "sad", "sad"])
    >>> disp.confusion_matrix.tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    _import_pyplot("plot_confusion_matrix")
    from sklearn.metrics import ConfusionMatrixDisplay

    if normalize not in ("true", "pred", "all", None):
        raise ValueError(
            f"normalize must be one of 'true', 'pred', 'all' or None, got normalize={normalize!r}."
        )
    if normalize is not None:
        kwargs.setdefault("values_format", ".2f")
    kwargs.setdefault("cmap", "Blues")
    return ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, normalize=normalize, ax=ax, **kwargs
    )


def _resolve_history(history: Any) -> list[Mapping[str, Any]]:
    """Return the per-epoch records of a History, a list of dicts or a fitted estimator."""
    steps = getattr(history, "steps", None)
    if isinstance(steps, list) and steps and not hasattr(history, "history_"):
        history = steps[-1][1]  # a Pipeline: use its final estimator
    if hasattr(history, "history_"):
        history = history.history_
    elif not isinstance(history, Sequence) and isinstance(getattr(history, "history", None), list):
        history = history.history  # a skorch NeuralNet
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Sequence):
        raise TypeError(
            "history must be a skorch History, a list of per-epoch dicts or an estimator with "
            f"a history_ attribute, got an object of type {type(history).__name__}."
        )
    records = list(history)
    if not records:
        raise ValueError("history is empty: expected at least one epoch.")
    for i, row in enumerate(records):
        if not isinstance(row, Mapping):
            raise TypeError(
                f"history must contain one dict per epoch, got {type(row).__name__} at index {i}."
            )
    return records


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def plot_training_history(
    history: Any, *, keys: str | Sequence[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Plot training curves (losses, validation scores) against the epoch.

    Parameters
    ----------
    history : skorch History, list of dict, or estimator
        Per-epoch records such as ``{"epoch": 3, "train_loss": 0.9, "valid_loss": 1.1,
        "valid_ua": 0.52, ...}``; or an estimator with a ``history_`` attribute (e.g. the
        library's fitted classifier, or a pipeline ending in it), whose history is used.
    keys : str or list of str, default=None
        Keys to plot. By default every key with a numeric value in some epoch, in order of
        first appearance, except ``"epoch"`` (the x axis) and ``"dur"`` (epoch duration in
        seconds, plotted only when asked for). Epochs without a key leave a gap.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created if None.

    Returns
    -------
    ax : matplotlib Axes
        The axes, with one line and legend entry per key.

    Raises
    ------
    ValueError
        If a requested key is in no epoch or is not numeric, or if there is nothing to plot.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_ser.plotting import plot_training_history
    >>> history = [
    ...     {"epoch": 1, "train_loss": 1.2, "valid_loss": 1.3, "valid_ua": 0.40, "dur": 2.0},
    ...     {"epoch": 2, "train_loss": 0.9, "valid_loss": 1.1, "valid_ua": 0.48, "dur": 2.1},
    ... ]
    >>> ax = plot_training_history(history)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['train_loss', 'valid_loss', 'valid_ua']
    """
    plt = _import_pyplot("plot_training_history")
    records = _resolve_history(history)

    present: dict[str, bool] = {}  # key -> has a numeric value somewhere (insertion order)
    for row in records:
        for key, value in row.items():
            present[key] = present.get(key, False) or _is_number(value)

    if keys is None:
        keys = [k for k, numeric in present.items() if numeric and k not in _SKIPPED_HISTORY_KEYS]
        if not keys:
            raise ValueError(
                f"history has no numeric key to plot; its keys are {sorted(present)!r}."
            )
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        if not keys:
            raise ValueError("keys must name at least one history key, got an empty list.")
        available = sorted(k for k, numeric in present.items() if numeric)
        for key in keys:
            if key not in present:
                raise ValueError(f"Unknown history key {key!r}; expected one of {available!r}.")
            if not present[key]:
                raise ValueError(
                    f"History key {key!r} has no numeric value to plot; expected one of "
                    f"{available!r}."
                )

    if all(_is_number(row.get("epoch")) for row in records):
        epochs = np.array([row["epoch"] for row in records], dtype=float)
    else:
        epochs = np.arange(1, len(records) + 1, dtype=float)

    ax = _get_ax(plt, ax)
    marker = "o" if len(records) <= 30 else None
    for key in keys:
        values = np.array(
            [float(row[key]) if _is_number(row.get(key)) else np.nan for row in records]
        )
        ax.plot(epochs, values, marker=marker, markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.legend(loc="best")
    return ax


# --------------------------------------------------------------------------- timeline
_TIMELINE_KINDS = ("bands", "lines", "stacked")
_NO_SPEECH = "no speech"


def _segment_confidence(t: Any, segments: list) -> np.ndarray:
    """Mean probability of each segment's emotion over the windows centred in it (the
    nearest window for a segment shorter than the hop); NaN for no speech."""
    centres = (np.asarray(t.start) + np.asarray(t.end)) / 2
    proba = np.asarray(t.proba, dtype=float)
    column = {str(c): j for j, c in enumerate(t.classes)}
    speech = np.asarray(t.speech, dtype=bool)
    out = np.full(len(segments), np.nan)
    if not speech.any():
        return out
    for i, s in enumerate(segments):
        j = column.get(str(s.label))
        if j is None:
            continue
        inside = speech & (centres >= s.start) & (centres < s.end)
        if not inside.any():
            mid = (s.start + s.end) / 2
            nearest = np.flatnonzero(speech)[np.argmin(np.abs(centres[speech] - mid))]
            inside = np.zeros_like(speech)
            inside[nearest] = True
        out[i] = float(np.nanmean(proba[inside, j]))
    return out


def _binned(segments: list, confidence: np.ndarray, width: float, span: tuple) -> list:
    """Segments pooled into bins of ``width`` seconds: each bin takes the emotion with the
    most speech time in it (confidence: their time-weighted mean), or no speech."""
    from ._timeline import Segment

    edges = np.arange(span[0], span[1] + width, width)
    edges[-1] = min(edges[-1], span[1])
    starts = np.array([s.start for s in segments])
    ends = np.array([s.end for s in segments])
    labels = np.array([str(s.label) for s in segments])
    out, conf = [], []
    for lo, hi in itertools.pairwise(edges):
        overlap = np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0, None)
        speech = (labels != _NO_SPEECH) & (overlap > 0)
        if overlap[speech].sum() < 0.1 * (hi - lo) or not speech.any():
            out.append(Segment(float(lo), float(hi), _NO_SPEECH))
            conf.append(np.nan)
            continue
        totals = {lab: overlap[speech & (labels == lab)].sum() for lab in set(labels[speech])}
        best = max(totals, key=totals.get)
        pick = speech & (labels == best)
        out.append(Segment(float(lo), float(hi), best))
        conf.append(float(np.average(confidence[pick], weights=overlap[pick])))
    return list(zip(out, conf))


class TimelineDisplay:
    """Emotion over time in one recording: coloured bands, confidence and no speech.

    Create it with :meth:`from_timeline` (a :class:`~sklearn_ser.Timeline` from
    :func:`~sklearn_ser.predict_timeline`), :meth:`from_predictions` (a model and a
    recording) or the function :func:`plot_timeline`.

    The default drawing (``kind="bands"``) gives every segment one bar in the colour of
    its emotion, as high as the model's confidence in it (the mean probability of that
    emotion over the segment's windows), over a pale band of the same colour; stretches
    without speech are hatched grey. A long recording is pooled into bins (``resolution``
    seconds, by default about 300 bins over the time shown): each bin shows the emotion
    with the most speech in it, so that an hour stays readable; ``span`` zooms in on a
    part, at full resolution when short enough.

    Parameters
    ----------
    timeline : Timeline
        The result of :func:`~sklearn_ser.predict_timeline`.

    Attributes
    ----------
    bars_ : dict of str to matplotlib BrokenBarHCollection
        ``kind="bands"``: the bars of each emotion (and of ``"no speech"``).
    lines_ : list of matplotlib artists
        ``kind="lines"`` or ``"stacked"``: one line or filled band per class, in the
        order of ``timeline.classes``; for ``"bands"``, the bars of the emotions.
    spans_ : list of matplotlib artists
        The shaded ``"no speech"`` stretches.
    legend_ : matplotlib Legend
        The legend.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    plot_timeline : Draw a timeline in one call.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_ser import Timeline
    >>> from sklearn_ser.plotting import TimelineDisplay
    >>> t = Timeline(start=np.array([0.0, 1.0, 2.0]), end=np.array([2.0, 3.0, 4.0]),
    ...              label=np.array(["anger", "no speech", "sadness"]),
    ...              proba=np.array([[0.8, 0.2], [np.nan, np.nan], [0.3, 0.7]]),
    ...              speech=np.array([True, False, True]),
    ...              classes=np.array(["anger", "sadness"]), duration=4.0, window=2.0, hop=1.0)
    >>> disp = TimelineDisplay.from_timeline(t)
    >>> sorted(disp.bars_), len(disp.spans_)
    (['anger', 'no speech', 'sadness'], 1)
    """

    def __init__(self, timeline: Any) -> None:
        self.timeline = timeline

    def plot(
        self,
        *,
        kind: str = "bands",
        ax: Axes | None = None,
        title: str | None = None,
        no_speech_color: Any = "0.6",
        resolution: float | None = None,
        span: tuple[float, float] | None = None,
    ) -> TimelineDisplay:
        """Draw the timeline.

        Parameters
        ----------
        kind : {"bands", "lines", "stacked"}, default="bands"
            One coloured bar per segment, as high as the confidence in its emotion; or
            one line per class at each window's centre; or the probabilities stacked into
            bands that fill [0, 1].
        ax : matplotlib Axes, default=None
            Axes to draw on; a new (wide) figure is created if None.
        title : str, default=None
            Axes title; none if None.
        no_speech_color : matplotlib colour, default="0.6"
            Colour of the hatched stretches without speech.
        resolution : float or None, default=None
            ``kind="bands"``: seconds pooled into one bar. None: the segments as they
            are when the time shown is under 5 minutes, else about 300 bins.
        span : (float, float) or None, default=None
            Seconds shown (zoom); None: the whole recording.

        Returns
        -------
        display : TimelineDisplay
            This object, with :attr:`ax_`, :attr:`figure_` and the artists set.
        """
        plt = _import_pyplot("TimelineDisplay.plot")
        if kind not in _TIMELINE_KINDS:
            raise ValueError(f"kind must be one of {_TIMELINE_KINDS!r}, got kind={kind!r}.")
        t = self.timeline
        for name in ("start", "end", "proba", "classes", "segments", "duration"):
            if not hasattr(t, name):
                raise TypeError(
                    f"timeline must be a Timeline from predict_timeline, got {type(t).__name__}."
                )
        lo, hi = (0.0, float(t.duration)) if span is None else (float(span[0]), float(span[1]))
        if not (0 <= lo < hi):
            raise ValueError(f"span must be (start, end) with 0 <= start < end, got {span!r}.")
        if resolution is not None and not (isinstance(resolution, numbers.Real) and resolution > 0):
            raise ValueError(
                f"resolution must be a number of seconds > 0 or None, got {resolution!r}."
            )
        if ax is None:
            _, ax = plt.subplots(figsize=(11, 2.8 if kind == "bands" else 3.2))
        colors = dict(zip([str(c) for c in t.classes], _label_colors(len(t.classes))))
        segments = [s for s in t.segments if s.end > lo and s.start < hi]
        self.bars_ = {}
        if kind == "bands":
            lines, spans = self._bands(
                ax, t, segments, colors, no_speech_color, resolution, (lo, hi)
            )
        else:
            lines, spans = self._curves(ax, t, segments, colors, no_speech_color, kind)
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, 1)
        if hi - lo > 120:
            from matplotlib.ticker import FuncFormatter, MultipleLocator

            steps = (30, 60, 120, 300, 600, 900, 1800, 3600)
            ax.xaxis.set_major_locator(
                MultipleLocator(next((s for s in steps if (hi - lo) / s <= 12), 7200))
            )
            ax.xaxis.set_major_formatter(
                FuncFormatter(lambda x, _: f"{int(x // 60)}:{int(x % 60):02d}")
            )
            ax.set_xlabel("time (min:s)")
        else:
            ax.set_xlabel("time (s)")
        ax.set_ylabel("confidence" if kind == "bands" else "probability")
        if title is not None:
            ax.set_title(title)
        self.legend_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        self.lines_ = lines
        self.spans_ = spans
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _bands(self, ax, t, segments, colors, no_speech_color, width, span):
        confidence = _segment_confidence(t, segments)
        shown = span[1] - span[0]
        if width is None and shown > 300:
            width = shown / 300
        pairs = (
            _binned(segments, confidence, width, span)
            if width is not None
            else list(zip(segments, confidence))
        )
        lines, spans = [], []
        for label in [*colors, _NO_SPEECH]:
            mine = [(s, c) for s, c in pairs if str(s.label) == label]
            if not mine:
                continue
            ranges = [
                (max(s.start, span[0]), min(s.end, span[1]) - max(s.start, span[0]))
                for s, _ in mine
            ]
            if label == _NO_SPEECH:
                bars = ax.broken_barh(
                    ranges,
                    (0, 1),
                    facecolors="none",
                    edgecolors=no_speech_color,
                    hatch="////",
                    lw=0,
                    label=_NO_SPEECH,
                    zorder=0,
                )
                spans.append(bars)
            else:
                color = colors[label]
                ax.broken_barh(ranges, (0, 1), facecolors=color, alpha=0.18, lw=0, zorder=1)
                heights = [c if np.isfinite(c) else 1.0 for _, c in mine]
                # One bar per segment, each as high as its confidence.
                verts = [
                    [(x, 0), (x, h), (x + w, h), (x + w, 0)] for (x, w), h in zip(ranges, heights)
                ]
                from matplotlib.collections import PolyCollection

                bars = PolyCollection(verts, facecolors=color, lw=0, label=label, zorder=2)
                ax.add_collection(bars)
                lines.append(bars)
            self.bars_[label] = bars
        ax.axhline(0.5, color="0.3", lw=0.5, ls=":", zorder=3)
        return lines, spans

    def _curves(self, ax, t, segments, colors, no_speech_color, kind):
        centres = (np.asarray(t.start) + np.asarray(t.end)) / 2
        proba = np.asarray(t.proba, dtype=float)
        spans = [
            ax.axvspan(s.start, s.end, color=no_speech_color, alpha=0.35, lw=0, zorder=0)
            for s in segments
            if str(s.label) == _NO_SPEECH
        ]
        if spans:
            spans[0].set_label(_NO_SPEECH)
        lines = []
        if kind == "lines":
            for j, (cls, color) in enumerate(colors.items()):
                (line,) = ax.plot(centres, proba[:, j], color=color, label=cls, lw=1.5)
                lines.append(line)
        else:
            filled = np.nan_to_num(proba, nan=0.0)
            bottom = np.zeros(len(centres))
            for j, (cls, color) in enumerate(colors.items()):
                top = bottom + filled[:, j]
                band = ax.fill_between(
                    centres, bottom, top, color=color, label=cls, step="mid", lw=0
                )
                lines.append(band)
                bottom = top
        return lines, spans

    @classmethod
    def from_timeline(
        cls,
        timeline: Any,
        *,
        kind: str = "bands",
        ax: Axes | None = None,
        title: str | None = None,
        resolution: float | None = None,
        span: tuple[float, float] | None = None,
    ) -> TimelineDisplay:
        """Draw a timeline from :func:`~sklearn_ser.predict_timeline`.

        Parameters
        ----------
        timeline : Timeline
            Per-window probabilities and segments of one recording.
        kind : {"bands", "lines", "stacked"}, default="bands"
            Coloured bars per segment, lines per class, or stacked bands.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None.
        title : str, default=None
            Axes title.
        resolution : float or None, default=None
            Seconds per bar of ``kind="bands"`` (None: automatic).
        span : (float, float) or None, default=None
            Seconds shown (None: all).

        Returns
        -------
        display : TimelineDisplay
            The drawn display.
        """
        return cls(timeline).plot(kind=kind, ax=ax, title=title, resolution=resolution, span=span)

    @classmethod
    def from_predictions(
        cls,
        model: Any,
        audio: Any,
        *,
        kind: str = "bands",
        ax: Axes | None = None,
        title: str | None = None,
        resolution: float | None = None,
        span: tuple[float, float] | None = None,
        **timeline_params: Any,
    ) -> TimelineDisplay:
        """Predict the timeline of a recording with ``model`` and draw it.

        Parameters
        ----------
        model : sklearn.pipeline.Pipeline
            A fitted pipeline from audio, as :func:`~sklearn_ser.predict_timeline` takes.
        audio : str, PathLike, array-like or (array-like, int)
            The recording.
        kind : {"bands", "lines", "stacked"}, default="bands"
            Coloured bars per segment, lines per class, or stacked bands.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None.
        title : str, default=None
            Axes title.
        resolution : float or None, default=None
            Seconds per bar of ``kind="bands"`` (None: automatic).
        span : (float, float) or None, default=None
            Seconds shown (None: all).
        **timeline_params : dict
            Passed to :func:`~sklearn_ser.predict_timeline` (``window``, ``hop``,
            ``vad``...).

        Returns
        -------
        display : TimelineDisplay
            The drawn display.
        """
        from ._timeline import predict_timeline

        _import_pyplot(f"{cls.__name__}.from_predictions")
        timeline = predict_timeline(model, audio, **timeline_params)
        return cls(timeline).plot(kind=kind, ax=ax, title=title, resolution=resolution, span=span)


def plot_timeline(
    timeline: Any,
    *,
    kind: str = "bands",
    ax: Axes | None = None,
    title: str | None = None,
    resolution: float | None = None,
    span: tuple[float, float] | None = None,
) -> TimelineDisplay:
    """Plot emotion over time: a coloured bar per segment, its height the confidence.

    Parameters
    ----------
    timeline : Timeline
        The result of :func:`~sklearn_ser.predict_timeline`.
    kind : {"bands", "lines", "stacked"}, default="bands"
        One bar per segment in its emotion's colour, as high as the confidence in it
        (stretches without speech hatched); or one line per class; or the probabilities
        stacked into bands.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created if None.
    title : str, default=None
        Axes title.
    resolution : float or None, default=None
        Seconds per bar of ``kind="bands"``: None keeps the segments as they are when
        under 5 minutes are shown, else pools them into about 300 bars (the emotion with
        the most speech in each).
    span : (float, float) or None, default=None
        Seconds shown, to zoom in on a part (None: the whole recording).

    Returns
    -------
    display : TimelineDisplay
        With ``ax_``, ``figure_``, ``bars_``, ``lines_`` and ``spans_``.

    See Also
    --------
    TimelineDisplay.from_predictions : predict and plot in one call.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_ser import Timeline
    >>> from sklearn_ser.plotting import plot_timeline
    >>> t = Timeline(start=np.array([0.0, 1.0]), end=np.array([2.0, 3.0]),
    ...              label=np.array(["anger", "sadness"]),
    ...              proba=np.array([[0.8, 0.2], [0.3, 0.7]]), speech=np.array([True, True]),
    ...              classes=np.array(["anger", "sadness"]), duration=3.0, window=2.0, hop=1.0)
    >>> plot_timeline(t).ax_.get_ylabel()
    'confidence'
    """
    return TimelineDisplay.from_timeline(
        timeline, kind=kind, ax=ax, title=title, resolution=resolution, span=span
    )
