"""Metrics of speech emotion recognition: UA, WA, scorers and embedding cluster quality.

Speech emotion recognition (SER) papers report two numbers:

* **UA** (*unweighted accuracy*): the mean of the per-class recalls. Every emotion counts the
  same however rare it is; this is scikit-learn's :func:`~sklearn.metrics.balanced_accuracy_score`
  (with ``adjusted=False``).
* **WA** (*weighted accuracy*): the fraction of correctly classified utterances, i.e. plain
  :func:`~sklearn.metrics.accuracy_score`; frequent emotions weigh more.

The scorers :data:`ua_scorer` and :data:`wa_scorer` and the multi-metric dict :data:`SCORING`
plug into :class:`~sklearn.model_selection.GridSearchCV`,
:func:`~sklearn.model_selection.cross_validate` and friends. scikit-learn's built-in scorer names
work as well: ``scoring="balanced_accuracy"`` is UA and ``scoring="accuracy"`` is WA.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, make_scorer, silhouette_score
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.multiclass import unique_labels

__all__ = [
    "SCORING",
    "embedding_silhouette",
    "get_scorer",
    "per_class_recall",
    "ua_scorer",
    "unweighted_accuracy",
    "wa_scorer",
    "weighted_accuracy",
]


def _check_label_targets(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of 1-D label vectors of equal, non-zero length."""
    y_true = column_or_1d(np.asarray(y_true), warn=True)
    y_pred = column_or_1d(np.asarray(y_pred), warn=True)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("y_true and y_pred must not be empty, got 0 samples.")
    # Raises for continuous targets and for a mix of string and numeric labels.
    unique_labels(y_true, y_pred)
    return y_true, y_pred


def _per_class_recall_array(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(labels, recalls)`` computed by counting, one recall per label."""
    if labels is None:
        labels = np.unique(y_true)
    else:
        labels = column_or_1d(np.asarray(labels))
        if labels.shape[0] == 0:
            raise ValueError("labels must contain at least one label, got an empty list.")
        missing = [_to_python(lab) for lab in labels if not np.any(y_true == lab)]
        if missing:
            raise ValueError(
                f"labels contains {missing!r}, which do not occur in y_true; the recall of a "
                "class without true samples is undefined. Expected labels drawn from "
                f"{np.unique(y_true).tolist()!r}."
            )
    recalls = np.empty(labels.shape[0], dtype=float)
    for i, lab in enumerate(labels):
        mask = y_true == lab
        recalls[i] = np.count_nonzero(y_pred[mask] == lab) / np.count_nonzero(mask)
    return labels, recalls


def per_class_recall(y_true: Any, y_pred: Any, *, labels: Any = None) -> dict[Any, float]:
    """Recall of every emotion class: the fraction of its utterances predicted as that class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.
    labels : array-like, default=None
        Classes to report, in this order. By default the sorted classes of ``y_true``. Every
        label must occur in ``y_true`` (otherwise its recall is undefined).

    Returns
    -------
    recalls : dict
        Maps each label to its recall in ``[0, 1]``.

    See Also
    --------
    unweighted_accuracy : The mean of these recalls.

    Examples
    --------
    >>> from sklearn_ser.metrics import per_class_recall
    >>> per_class_recall(["ang", "ang", "sad", "sad"], ["ang", "sad", "sad", "sad"])
    {'ang': 0.5, 'sad': 1.0}
    """
    y_true, y_pred = _check_label_targets(y_true, y_pred)
    labels, recalls = _per_class_recall_array(y_true, y_pred, labels)
    return {_to_python(lab): float(r) for lab, r in zip(labels, recalls)}


def unweighted_accuracy(y_true: Any, y_pred: Any, *, labels: Any = None) -> float:
    """Unweighted accuracy (UA): the mean per-class recall.

    Each emotion class contributes equally, however many utterances it has. With
    ``labels=None`` this equals :func:`sklearn.metrics.balanced_accuracy_score` (not
    adjusted): classes that are predicted but never true are ignored.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.
    labels : array-like, default=None
        Classes to average over. By default every class present in ``y_true``. Use it to
        report UA over a subset of emotions; every label must occur in ``y_true``.

    Returns
    -------
    ua : float
        The unweighted accuracy in ``[0, 1]``.

    See Also
    --------
    weighted_accuracy : Plain accuracy (WA).
    per_class_recall : The recalls averaged here.

    Examples
    --------
    >>> from sklearn_ser.metrics import unweighted_accuracy
    >>> y_true = ["ang", "ang", "ang", "sad"]
    >>> y_pred = ["ang", "ang", "ang", "ang"]
    >>> unweighted_accuracy(y_true, y_pred)  # (3/3 + 0/1) / 2
    0.5
    """
    y_true, y_pred = _check_label_targets(y_true, y_pred)
    _, recalls = _per_class_recall_array(y_true, y_pred, labels)
    return float(np.mean(recalls))


def weighted_accuracy(y_true: Any, y_pred: Any) -> float:
    """Weighted accuracy (WA): the fraction of correctly classified utterances.

    This is :func:`sklearn.metrics.accuracy_score`; the name follows the SER literature,
    where each class is implicitly weighted by its frequency.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.

    Returns
    -------
    wa : float
        The weighted accuracy in ``[0, 1]``.

    See Also
    --------
    unweighted_accuracy : Mean per-class recall (UA).

    Examples
    --------
    >>> from sklearn_ser.metrics import weighted_accuracy
    >>> weighted_accuracy(["ang", "ang", "ang", "sad"], ["ang", "ang", "ang", "ang"])
    0.75
    """
    y_true, y_pred = _check_label_targets(y_true, y_pred)
    return float(accuracy_score(y_true, y_pred))


#: Scorer for unweighted accuracy (UA, mean per-class recall); greater is better.
ua_scorer = make_scorer(unweighted_accuracy)

#: Scorer for weighted accuracy (WA, plain accuracy); greater is better.
wa_scorer = make_scorer(weighted_accuracy)

#: Multi-metric scoring for ``scoring=SCORING``: results appear as ``test_ua`` and ``test_wa``
#: in :func:`~sklearn.model_selection.cross_validate` and as ``mean_test_ua`` / ``mean_test_wa``
#: in ``GridSearchCV.cv_results_`` (pass ``refit="ua"`` to select by UA).
SCORING: dict[str, Callable[..., float]] = {"ua": ua_scorer, "wa": wa_scorer}

_SER_SCORERS = {
    "ua": ua_scorer,
    "unweighted_accuracy": ua_scorer,
    "wa": wa_scorer,
    "weighted_accuracy": wa_scorer,
}


def get_scorer(name: str | Callable[..., float] | None) -> Callable[..., float] | None:
    """Return a scorer by name, knowing the SER names ``"ua"`` and ``"wa"``.

    ``"ua"`` (alias ``"unweighted_accuracy"``) and ``"wa"`` (alias ``"weighted_accuracy"``)
    give :data:`ua_scorer` and :data:`wa_scorer`; any other value is passed on to
    :func:`sklearn.metrics.get_scorer`, so scikit-learn's names (``"balanced_accuracy"``, which
    equals UA, ``"accuracy"``, which equals WA, ``"f1_macro"``, ...), callables and ``None``
    work too.

    Parameters
    ----------
    name : str, callable or None
        Scorer name, or a scorer to pass through.

    Returns
    -------
    scorer : callable
        A copy of the scorer, with signature ``scorer(estimator, X, y)``.

    Raises
    ------
    ValueError
        If ``name`` is a string that neither this library nor scikit-learn knows.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ser.metrics import get_scorer
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> clf = LogisticRegression().fit(X, y)
    >>> ua = get_scorer("ua")(clf, X, y)
    >>> bool(ua == get_scorer("balanced_accuracy")(clf, X, y))
    True
    """
    if isinstance(name, str) and name in _SER_SCORERS:
        return copy.deepcopy(_SER_SCORERS[name])
    try:
        return _sklearn_get_scorer(name)
    except ValueError as exc:
        raise ValueError(
            f"{name!r} is not a valid scoring value. Expected one of {sorted(_SER_SCORERS)!r} "
            "or a scikit-learn scorer name (see sklearn.metrics.get_scorer_names())."
        ) from exc


def embedding_silhouette(embeddings: Any, labels: Any, *, metric: str = "euclidean") -> float:
    """Silhouette score of embeddings grouped by emotion.

    A single number for how well the emotions cluster in an embedding space, in ``[-1, 1]``:
    near 1 when utterances of one emotion lie close together and far from the other emotions,
    near 0 for overlapping clusters. Use it to compare, e.g., the embeddings of held-out
    speakers from a network trained with softmax only against one trained with center loss.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_features)
        One embedding per utterance.
    labels : array-like of shape (n_samples,)
        Emotion label of each utterance (strings or integers).
    metric : str or callable, default="euclidean"
        Distance metric, as in :func:`sklearn.metrics.silhouette_score` (e.g. ``"cosine"``).

    Returns
    -------
    score : float
        Mean silhouette coefficient over all utterances.

    Raises
    ------
    ValueError
        If there are fewer than 2 distinct labels, or as many labels as samples, or if the
        lengths of ``embeddings`` and ``labels`` differ.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.metrics import embedding_silhouette
    >>> emb = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> round(embedding_silhouette(emb, ["ang", "ang", "sad", "sad"]), 2)
    0.99
    """
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2:
        raise ValueError(
            "embeddings must be a 2-D array of shape (n_samples, n_features), got an array "
            f"with shape {embeddings.shape}."
        )
    labels = column_or_1d(np.asarray(labels))
    if embeddings.shape[0] != labels.shape[0]:
        raise ValueError(
            f"embeddings and labels must have the same length, got {embeddings.shape[0]} "
            f"embeddings and {labels.shape[0]} labels."
        )
    n_labels = np.unique(labels).shape[0]
    n_samples = labels.shape[0]
    if n_labels < 2:
        raise ValueError(
            f"embedding_silhouette needs at least 2 distinct labels, got {n_labels} "
            f"({np.unique(labels).tolist()!r}); the silhouette is undefined for a single group."
        )
    if n_labels >= n_samples:
        raise ValueError(
            f"embedding_silhouette needs fewer distinct labels than samples, got {n_labels} "
            f"labels for {n_samples} samples."
        )
    return float(silhouette_score(embeddings, labels, metric=metric))


def _to_python(value: Any) -> Any:
    """Turn a numpy scalar into the matching Python scalar (for readable dict keys)."""
    return value.item() if isinstance(value, np.generic) else value
