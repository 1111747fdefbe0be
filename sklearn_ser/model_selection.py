"""Speaker-independent evaluation of emotion classifiers.

Emotion classifiers are evaluated on speakers they have never heard: every fold holds out one
speaker (or a few) and trains on the others, and the predictions of all folds are pooled into
one UA and one WA, as in the speech emotion recognition literature.
:func:`evaluate_speaker_independent` runs that protocol on any scikit-learn classifier and
returns a :class:`SpeakerIndependentResult` with the pooled and per-fold numbers.

Speaker ids reach the estimator in both of scikit-learn's modes: with metadata routing
enabled (``sklearn.set_config(enable_metadata_routing=True)``) as ``groups=`` to whatever
requests them (pipelines, searches, stacking), and without it through the legacy
``<step>__groups`` fit parameter of a pipeline.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import confusion_matrix as _confusion_matrix
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.parallel import Parallel, delayed

from ._groups import call_with_groups, groups_fit_params
from ._param_validation import Int, Satisfies
from .metrics import per_class_recall, unweighted_accuracy, weighted_accuracy

__all__ = ["SpeakerIndependentResult", "evaluate_speaker_independent"]

_PROTOCOLS = ("file", "speaker")


@dataclass
class SpeakerIndependentResult:
    """Result of :func:`evaluate_speaker_independent`.

    Pooled numbers are computed once over the predictions of all folds together (the usual
    way SER papers report leave-one-speaker-out results); fold numbers are computed per fold.

    Attributes
    ----------
    ua : float
        Pooled unweighted accuracy (mean per-class recall).
    wa : float
        Pooled weighted accuracy (plain accuracy).
    ua_std : float
        Standard deviation of :attr:`fold_ua` over the folds (``ddof=0``).
    wa_std : float
        Standard deviation of :attr:`fold_wa` over the folds (``ddof=0``).
    per_class_recall : dict
        Maps each true emotion label to its pooled recall.
    confusion_matrix : ndarray of shape (n_labels, n_labels)
        Pooled confusion matrix; rows are true labels, columns predicted labels, both in the
        order of :attr:`labels`. Its entries sum to the number of tested utterances.
    labels : ndarray of shape (n_labels,)
        Sorted labels occurring in the tested ``y`` or in the predictions.
    per_speaker_accuracy : dict
        Maps each held-out speaker (group) to the accuracy on its utterances.
    fold_ua : ndarray of shape (n_folds,)
        Unweighted accuracy of each fold.
    fold_wa : ndarray of shape (n_folds,)
        Weighted accuracy of each fold.
    fold_test_groups : list of ndarray
        The held-out speakers of each fold.
    y_pred : ndarray of shape (n_tested,)
        Pooled predictions in the original sample order: ``y_pred[i]`` is the prediction for
        sample ``test_indices[i]``. With folds that test every sample once (the default
        leave-one-speaker-out), ``test_indices`` is ``arange(n_samples)`` and ``y_pred`` aligns
        with ``y``.
    test_indices : ndarray of shape (n_tested,)
        Sorted indices of the samples that some fold tested.
    fit_time : ndarray of shape (n_folds,)
        Seconds spent fitting each fold's estimator.
    predict_time : ndarray of shape (n_folds,)
        Seconds spent predicting each fold's test speakers.
    protocol : {"file", "speaker"}
        How test files were predicted: each alone ("file") or with its speaker's id
        ("speaker"); see :func:`evaluate_speaker_independent`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ser.model_selection import evaluate_speaker_independent
    >>> X, y = make_classification(n_samples=60, n_classes=3, n_informative=4, random_state=0)
    >>> speakers = np.repeat(["s1", "s2", "s3"], 20)
    >>> res = evaluate_speaker_independent(LogisticRegression(), X, y, speakers)
    >>> res.fold_ua.shape
    (3,)
    >>> int(res.confusion_matrix.sum())
    60
    """

    ua: float
    wa: float
    ua_std: float
    wa_std: float
    per_class_recall: dict[Any, float]
    confusion_matrix: np.ndarray
    labels: np.ndarray
    per_speaker_accuracy: dict[Any, float]
    fold_ua: np.ndarray
    fold_wa: np.ndarray
    fold_test_groups: list[np.ndarray]
    y_pred: np.ndarray
    test_indices: np.ndarray
    fit_time: np.ndarray
    predict_time: np.ndarray
    cv_name: str = field(default="", repr=False)
    protocol: str = "speaker"

    @property
    def n_folds(self) -> int:
        """Number of folds."""
        return int(self.fold_ua.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain Python types (lists, floats, str keys), JSON-ready.

        Returns
        -------
        result : dict
            Every field, with arrays as lists and label / speaker keys as strings.

        Examples
        --------
        >>> import json
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_ser.model_selection import evaluate_speaker_independent
        >>> X, y = np.zeros((4, 1)), ["ang", "sad", "ang", "sad"]
        >>> res = evaluate_speaker_independent(DummyClassifier(), X, y, [1, 1, 2, 2])
        >>> d = res.to_dict()
        >>> d["ua"], d["per_speaker_accuracy"]
        (0.5, {'1': 0.5, '2': 0.5})
        >>> _ = json.dumps(d)
        """
        return {
            "ua": float(self.ua),
            "wa": float(self.wa),
            "ua_std": float(self.ua_std),
            "wa_std": float(self.wa_std),
            "per_class_recall": {str(k): float(v) for k, v in self.per_class_recall.items()},
            "confusion_matrix": np.asarray(self.confusion_matrix).tolist(),
            "labels": [_py(v) for v in self.labels],
            "per_speaker_accuracy": {
                str(k): float(v) for k, v in self.per_speaker_accuracy.items()
            },
            "fold_ua": [float(v) for v in self.fold_ua],
            "fold_wa": [float(v) for v in self.fold_wa],
            "fold_test_groups": [[_py(g) for g in fold] for fold in self.fold_test_groups],
            "y_pred": [_py(v) for v in self.y_pred],
            "test_indices": [int(i) for i in self.test_indices],
            "fit_time": [float(v) for v in self.fit_time],
            "predict_time": [float(v) for v in self.predict_time],
            "cv_name": self.cv_name,
            "protocol": self.protocol,
        }

    def to_text(self, *, digits: int = 3) -> str:
        """Format the result as a readable plain-text report.

        Parameters
        ----------
        digits : int, default=3
            Number of decimals of the scores.

        Returns
        -------
        report : str
            Pooled UA/WA with fold spread, per-class recall, per-speaker accuracy and the
            confusion matrix.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_ser.model_selection import evaluate_speaker_independent
        >>> X, y = np.zeros((4, 1)), ["ang", "sad", "ang", "sad"]
        >>> res = evaluate_speaker_independent(DummyClassifier(), X, y, [1, 1, 2, 2])
        >>> print(res.to_text().splitlines()[1])
        UA 0.500 (fold std 0.000)   WA 0.500 (fold std 0.000)
        """
        f = f"{{:.{digits}f}}"
        n_tested = int(self.test_indices.shape[0])
        cv = f"{self.cv_name}, " if self.cv_name else ""
        lines = [
            f"Speaker-independent evaluation ({cv}{self.n_folds} folds, "
            f"{n_tested} utterances, {self.protocol} protocol, "
            f"fit {float(np.sum(self.fit_time)):.1f} s)",
            f"UA {f.format(self.ua)} (fold std {f.format(self.ua_std)})   "
            f"WA {f.format(self.wa)} (fold std {f.format(self.wa_std)})",
            "",
            "Per-class recall",
        ]
        corner = "true\\pred"
        width = max([len(str(k)) for k in self.per_class_recall] + [len(corner)])
        for label, recall in self.per_class_recall.items():
            lines.append(f"  {label!s:<{width}}  {f.format(recall)}")
        lines += ["", "Per-speaker accuracy"]
        spk_width = max(len(str(k)) for k in self.per_speaker_accuracy)
        for spk, acc in self.per_speaker_accuracy.items():
            lines.append(f"  {spk!s:<{spk_width}}  {f.format(acc)}")
        lines += ["", "Confusion matrix (rows: true, columns: predicted)"]
        col_width = max(
            [len(str(v)) for v in self.labels] + [len(str(self.confusion_matrix.max()))]
        )
        header = f"  {corner:<{width}}" + "".join(f"  {v!s:>{col_width}}" for v in self.labels)
        lines.append(header)
        for label, row in zip(self.labels, self.confusion_matrix):
            lines.append(f"  {label!s:<{width}}" + "".join(f"  {int(c):>{col_width}}" for c in row))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _num_samples(obj: Any, name: str) -> int:
    shape = getattr(obj, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(obj)
    except TypeError as exc:
        raise TypeError(
            f"{name} must be a sequence or an array, got an object of type {type(obj).__name__}."
        ) from exc


def _is_per_sample(value: Any, n_samples: int) -> bool:
    """Whether a fit parameter has one entry per sample (and must be indexed per fold)."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        return False
    try:
        return _num_samples(value, "fit_params") == n_samples
    except TypeError:
        return False


def _check_cv(cv: Any, groups: np.ndarray) -> tuple[Any, str]:
    """Resolve ``None`` and ints to group splitters; return the splitter and its name."""
    if cv is None:
        n_groups = np.unique(groups).shape[0]
        if n_groups < 2:
            raise ValueError(
                "evaluate_speaker_independent needs at least 2 distinct groups (speakers) with "
                f"the default cv=LeaveOneGroupOut(), got {n_groups}: "
                f"{np.unique(groups).tolist()!r}."
            )
        cv = LeaveOneGroupOut()
    elif isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv as an integer must be at least 2 (folds), got cv={cv}.")
        cv = GroupKFold(n_splits=int(cv))
    return cv, type(cv).__name__ if hasattr(cv, "split") else ""


def _fit_and_predict(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    groups: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    fit_params: dict[str, Any],
    n_samples: int,
    protocols: tuple[str, ...],
) -> tuple[dict[str, tuple[np.ndarray, float]], float]:
    """Fit a clone on ``train``; predict ``test`` under each protocol.

    Returns ``{protocol: (y_pred, predict_time)}`` and the fit time.
    """
    est = clone(estimator)
    params = groups_fit_params(est, groups[train])
    for key, value in fit_params.items():
        if _is_per_sample(value, n_samples):
            value = _safe_indexing(value, train)
        params[key] = value
    start = time.perf_counter()
    est.fit(_safe_indexing(X, train), y[train], **params)
    fit_time = time.perf_counter() - start
    X_test = _safe_indexing(X, test)
    predictions = {}
    for protocol in protocols:
        start = time.perf_counter()
        test_groups = groups[test] if protocol == "speaker" else None
        y_pred = np.asarray(
            call_with_groups(est, "predict", X_test, groups=test_groups, routing="config")
        )
        predict_time = time.perf_counter() - start
        if y_pred.shape != (test.shape[0],):
            raise ValueError(
                f"estimator.predict must return one label per test sample, got shape "
                f"{y_pred.shape} for {test.shape[0]} samples."
            )
        predictions[protocol] = (y_pred, predict_time)
    return predictions, fit_time


def _check_protocol(protocol: Any) -> tuple[str, ...]:
    """The protocols to score, in a fixed order."""
    names = (
        _PROTOCOLS if protocol == "both" else (protocol,) if isinstance(protocol, str) else protocol
    )
    names = tuple(names)
    if not names or any(p not in _PROTOCOLS for p in names) or len(set(names)) != len(names):
        raise ValueError(
            f"protocol must be one of {list(_PROTOCOLS)}, 'both' or a list of distinct ones: "
            f"'file' predicts every test file alone, 'speaker' with its speaker's id; got "
            f"protocol={protocol!r}."
        )
    return names


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict"])],
        "X": ["array-like", Satisfies(lambda x: hasattr(x, "__getitem__"), "a sequence")],
        "y": ["array-like"],
        "groups": ["array-like"],
        "cv": "no_validation",  # checked by _check_cv, with messages that name the folds
        "n_jobs": [Integral, None],
        "verbose": [Int(0)],
        "fit_params": [dict, None],
        "protocol": [StrOptions({*_PROTOCOLS, "both"}), list, tuple],
    },
    prefer_skip_nested_validation=False,  # the estimator's own fit validates its parameters
)
def evaluate_speaker_independent(
    estimator: Any,
    X: Any,
    y: Any,
    groups: Any,
    *,
    cv: Any = None,
    n_jobs: int | None = None,
    verbose: int = 0,
    fit_params: dict[str, Any] | None = None,
    protocol: str | list[str] | tuple[str, ...] = "speaker",
) -> SpeakerIndependentResult | dict[str, SpeakerIndependentResult]:
    """Evaluate a classifier on held-out speakers, pooling the predictions of all folds.

    For every split of ``cv`` (by default leave-one-speaker-out) a clone of ``estimator`` is
    fitted on the training speakers and predicts the held-out speaker(s). UA, WA, per-class
    recall, the confusion matrix and the per-speaker accuracy are computed on the pooled
    predictions; UA and WA are also reported per fold.

    The estimator's ``fit`` receives the speakers of the training fold when it takes them,
    e.g. for per-speaker statistics (``SERClassifier(standardize="speaker")``) or a
    speaker-disjoint early-stopping split. With metadata routing enabled
    (``sklearn.set_config(enable_metadata_routing=True)``) they are passed as ``groups=`` to
    anything that requests them: a :class:`~sklearn.pipeline.Pipeline`, a
    :class:`~sklearn.model_selection.GridSearchCV` (its splitter and its estimator), a
    :class:`~sklearn.ensemble.StackingClassifier`. Without routing, the legacy way: as
    ``groups=`` to an estimator whose ``fit`` takes them, as ``<last step>__groups`` to a
    pipeline, and to a search both as ``groups=`` (its splitter) and, for a search over a
    pipeline, as ``<last step>__groups``. The held-out speakers never appear in these
    groups, and no test labels are passed.

    Two protocols predict the held-out files:

    - ``"speaker"``: the files of each test speaker are predicted together with their
      speaker's id (``predict(X_test, groups=test_speakers)``), for models that use the
      speaker context (per-speaker standardisation: a speaker's unlabelled recordings are
      available when predicting, as when a system adapts to its user);
    - ``"file"``: every test file is predicted alone, without speaker ids, as a service
      that gets one recording at a time must.

    A model without speaker context gives the same result under both. With
    ``protocol="both"`` (or a list of protocols) every fold's model is fitted once and
    predicts its test speakers under each protocol. A fitted search
    predicts through its ``best_estimator_``, since a search's ``predict`` takes no speaker
    ids.

    Parameters
    ----------
    estimator : estimator object
        A classifier implementing ``fit`` and ``predict``; cloned for every fold.
    X : list of str or PathLike, list of array-like, or array-like of shape (n_samples, ...)
        Utterances: audio file paths, waveforms (possibly of different lengths) or features.
    y : array-like of shape (n_samples,)
        Emotion labels.
    groups : array-like of shape (n_samples,)
        Speaker of each utterance.
    cv : int, cross-validation splitter or iterable, default=None
        How to split speakers into folds:

        - ``None``: :class:`~sklearn.model_selection.LeaveOneGroupOut` (one speaker per fold);
        - an int ``k``: :class:`~sklearn.model_selection.GroupKFold` with ``k`` folds;
        - a splitter whose ``split(X, y, groups)`` yields ``(train, test)`` index arrays (e.g.
          ``LeavePGroupsOut``, ``GroupKFold``, ``PredefinedSplit``);
        - an iterable of ``(train, test)`` index arrays.

        Test sets must not overlap (each utterance is predicted at most once); samples that
        no fold tests are left out of the pooled scores. A warning is issued when a fold tests
        a speaker that it also trains on, since the evaluation is then not speaker-independent.
    n_jobs : int, default=None
        Number of folds run in parallel with joblib. ``None`` means 1 unless in a
        :obj:`joblib.parallel_config` context; ``-1`` uses all processors.
    verbose : int, default=0
        If positive, print one line per finished fold (fold k/n, held-out speaker(s), UA, WA,
        fit time).
    fit_params : dict, default=None
        Extra parameters for ``estimator.fit``. Values with one entry per sample (e.g.
        ``sample_weight``) are indexed with the training fold; other values are passed as is.
        A ``groups`` entry given here takes precedence over the automatic speaker groups.
    protocol : {"speaker", "file", "both"} or list of them, default="speaker"
        How the held-out files are predicted: with their speaker's id (``"speaker"``) or
        each alone (``"file"``); ``"both"`` or a list such as ``["file", "speaker"]``
        scores each of them from the same fits. Recorded in the result.

    Returns
    -------
    result : SpeakerIndependentResult or dict of str to SpeakerIndependentResult
        Pooled and per-fold scores, predictions and timings; ``print(result)`` shows a
        table. For ``"both"`` or a list of protocols, one result per protocol, keyed by its
        name (the same ``fit_time`` in each).

    Raises
    ------
    ValueError
        If ``X``, ``y`` and ``groups`` differ in length, if the default ``cv`` gets fewer than
        2 speakers, if ``cv`` yields no split, or if test sets overlap.

    See Also
    --------
    sklearn.model_selection.cross_val_predict : Pooled predictions without the SER report.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ser.model_selection import evaluate_speaker_independent
    >>> X, y = make_classification(n_samples=90, n_classes=3, n_informative=4, random_state=0)
    >>> speakers = np.repeat(["s1", "s2", "s3"], 30)
    >>> result = evaluate_speaker_independent(LogisticRegression(), X, y, speakers)
    >>> sorted(result.per_speaker_accuracy)
    ['s1', 's2', 's3']
    >>> bool(0.0 <= result.ua <= 1.0)
    True

    Both protocols from one fit per fold:

    >>> results = evaluate_speaker_independent(LogisticRegression(), X, y, speakers,
    ...                                        protocol="both")
    >>> sorted(results), results["file"].ua == result.ua
    (['file', 'speaker'], True)
    """
    n_samples = _num_samples(X, "X")
    y = np.asarray(y)
    groups = np.asarray(groups)
    if y.ndim != 1 or groups.ndim != 1:
        raise ValueError(
            f"y and groups must be 1-D, got y with shape {y.shape} and groups with shape "
            f"{groups.shape}."
        )
    if not (n_samples == y.shape[0] == groups.shape[0]):
        raise ValueError(
            "X, y and groups must have the same length, got "
            f"len(X)={n_samples}, len(y)={y.shape[0]}, len(groups)={groups.shape[0]}."
        )
    if n_samples == 0:
        raise ValueError("X, y and groups must not be empty, got 0 samples.")
    fit_params = {} if fit_params is None else dict(fit_params)
    protocols = _check_protocol(protocol)

    cv, cv_name = _check_cv(cv, groups)
    if hasattr(cv, "split"):
        with warnings.catch_warnings():
            # Non-group splitters (PredefinedSplit, KFold) warn that they ignore groups.
            warnings.filterwarnings("ignore", message="The groups parameter is ignored")
            splits = list(cv.split(X, y, groups))
    else:
        try:
            splits = list(cv)
        except TypeError as exc:
            raise ValueError(
                "cv must be None, an int, a splitter with a split(X, y, groups) method or an "
                f"iterable of (train, test) index pairs, got {cv!r}."
            ) from exc
    splits = [(_as_indices(tr, n_samples), _as_indices(te, n_samples)) for tr, te in splits]
    if not splits:
        raise ValueError(f"cv={cv!r} yielded no (train, test) split.")
    for k, (train, test) in enumerate(splits, start=1):
        if train.shape[0] == 0 or test.shape[0] == 0:
            raise ValueError(
                f"Fold {k} of cv has {train.shape[0]} training and {test.shape[0]} test "
                "samples; expected both to be non-empty."
            )

    all_test = np.concatenate([te for _, te in splits])
    if np.unique(all_test).shape[0] != all_test.shape[0]:
        raise ValueError(
            "The test sets of cv overlap (some samples are tested by several folds), so the "
            "predictions cannot be pooled; expected disjoint test sets such as those of "
            "LeaveOneGroupOut or GroupKFold."
        )
    for k, (train, test) in enumerate(splits, start=1):
        shared = np.intersect1d(groups[train], groups[test])
        if shared.shape[0]:
            warnings.warn(
                f"Fold {k}/{len(splits)} trains and tests on the same speakers "
                f"{shared.tolist()!r}; the evaluation is not speaker-independent.",
                UserWarning,
                stacklevel=2,
            )

    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    outputs = parallel(
        delayed(_fit_and_predict)(
            estimator, X, y, groups, train, test, fit_params, n_samples, protocols
        )
        for train, test in splits
    )
    fold_predictions: dict[str, list] = {p: [] for p in protocols}
    fit_times = []
    for k, ((_, test), (predictions, fit_t)) in enumerate(zip(splits, outputs), start=1):
        fit_times.append(fit_t)
        for p in protocols:
            fold_predictions[p].append(predictions[p])
        if verbose > 0:
            speakers = ", ".join(str(g) for g in np.unique(groups[test]))
            scores = "  ".join(
                (f"{p}: " if len(protocols) > 1 else "")
                + f"UA={unweighted_accuracy(y[test], predictions[p][0]):.3f} "
                f"WA={weighted_accuracy(y[test], predictions[p][0]):.3f}"
                for p in protocols
            )
            print(
                f"[fold {k}/{len(splits)}] speaker(s) {speakers}: {scores} "
                f"(fit {fit_t:.2f} s, {test.shape[0]} utterances)",
                flush=True,
            )
    results = {
        p: _pooled_result(y, groups, splits, fold_predictions[p], fit_times, cv_name, p)
        for p in protocols
    }
    return results[protocol] if isinstance(protocol, str) and protocol != "both" else results


def _pooled_result(
    y: np.ndarray,
    groups: np.ndarray,
    splits: list,
    fold_predictions: list[tuple[np.ndarray, float]],
    fit_times: list[float],
    cv_name: str,
    protocol: str,
) -> SpeakerIndependentResult:
    """Pool the folds' predictions of one protocol into a result."""
    tests = [test for _, test in splits]
    preds = [pred for pred, _ in fold_predictions]
    fold_ua = np.asarray([unweighted_accuracy(y[t], p) for t, p in zip(tests, preds)], float)
    fold_wa = np.asarray([weighted_accuracy(y[t], p) for t, p in zip(tests, preds)], float)
    all_test = np.concatenate(tests)
    order = np.argsort(all_test, kind="stable")
    test_indices = all_test[order]
    y_pred = np.concatenate(preds)[order]
    y_tested = y[test_indices]
    groups_tested = groups[test_indices]
    labels = unique_labels(y_tested, y_pred)
    per_speaker = {
        _py(g): float(np.mean(y_pred[groups_tested == g] == y_tested[groups_tested == g]))
        for g in np.unique(groups_tested)
    }
    return SpeakerIndependentResult(
        ua=unweighted_accuracy(y_tested, y_pred),
        wa=weighted_accuracy(y_tested, y_pred),
        ua_std=float(np.std(fold_ua)),
        wa_std=float(np.std(fold_wa)),
        per_class_recall=per_class_recall(y_tested, y_pred),
        confusion_matrix=_confusion_matrix(y_tested, y_pred, labels=labels),
        labels=labels,
        per_speaker_accuracy=per_speaker,
        fold_ua=fold_ua,
        fold_wa=fold_wa,
        fold_test_groups=[np.unique(groups[t]) for t in tests],
        y_pred=y_pred,
        test_indices=test_indices,
        fit_time=np.asarray(fit_times, dtype=float),
        predict_time=np.asarray([t for _, t in fold_predictions], dtype=float),
        cv_name=cv_name,
        protocol=protocol,
    )


def _as_indices(idx: Any, n_samples: int) -> np.ndarray:
    """Convert a fold's index array (integer indices or a boolean mask) to integer indices."""
    idx = np.asarray(idx)
    if idx.dtype == bool:
        if idx.shape != (n_samples,):
            raise ValueError(
                f"A boolean fold mask must have shape ({n_samples},), got {idx.shape}."
            )
        return np.flatnonzero(idx)
    idx = idx.astype(np.intp, copy=False).ravel()
    if idx.size and (idx.min() < -n_samples or idx.max() >= n_samples):
        raise ValueError(
            f"cv yielded indices outside [0, {n_samples}), got min {idx.min()} and max {idx.max()}."
        )
    return np.where(idx < 0, idx + n_samples, idx)
