"""Who shares a speaker: the one copy of the helpers that hand speaker ids (``groups``) on.

Speaker ids reach an estimator in two ways in scikit-learn: through metadata routing
(``sklearn.set_config(enable_metadata_routing=True)``: ``groups=`` to whatever requests it) or,
with routing off, the legacy way (``groups=`` to an estimator whose method takes it,
``<step>__groups`` to a pipeline's ``fit``). Every caller in the package (ensembles, model
selection, the timeline, the command line, plotting) and the benchmarks use these helpers, so
both ways behave the same everywhere.

The names here are the package's internal interface: imported by other modules of
``sklearn_ser`` and by ``benchmarks/``; the public ones are re-exported by
:mod:`sklearn_ser.ensemble` (:func:`call_with_groups`, :func:`wants_groups`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
from sklearn import get_config

__all__ = [
    "accepts_groups",
    "call_with_groups",
    "check_groups",
    "groups_fit_params",
    "routing_enabled",
    "speaker_statistics_path",
    "unwrap_search",
    "wants_groups",
]


def check_groups(groups: Any, n_samples: int, name: str = "groups") -> np.ndarray | None:
    """``groups`` as an array of one speaker per sample (None stays None).

    Raises a ValueError naming ``name`` when the shape is not ``(n_samples,)``.
    """
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (n_samples,):
        raise ValueError(
            f"{name} must have one entry per sample ({n_samples}), got shape {groups.shape}."
        )
    return groups


def routing_enabled() -> bool:
    """Whether scikit-learn's metadata routing is enabled globally."""
    return bool(get_config().get("enable_metadata_routing", False))


def accepts_groups(est: Any, method: str = "fit") -> bool:
    """Whether ``est.<method>`` takes a ``groups`` parameter (by its signature)."""
    function = getattr(est, method, None)
    if function is None:
        return False
    try:
        return "groups" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def wants_groups(est: Any, method: str = "predict_proba") -> bool:
    """Whether some step of ``est`` uses speaker ids in ``method`` (through routing).

    An object that is not a scikit-learn estimator (no routing information) is asked by
    the signature of its method.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_ser.ensemble import wants_groups
    >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
    >>> wants_groups(make_pipeline(SpeakerStandardScaler(), LogisticRegression()))
    True
    >>> wants_groups(LogisticRegression())
    False
    """
    from sklearn.utils.metadata_routing import get_routing_for_object

    with sklearn.config_context(enable_metadata_routing=True):
        try:
            routing = get_routing_for_object(est)
        except Exception:  # not a scikit-learn estimator: its signature says
            return accepts_groups(est, method)
        return bool(routing.consumes(method, ["groups"]))


def unwrap_search(est: Any) -> Any:
    """A fitted search's best estimator: searches' predict and transform take no metadata."""
    from sklearn.model_selection._search import BaseSearchCV

    while isinstance(est, BaseSearchCV) and hasattr(est, "best_estimator_"):
        est = est.best_estimator_
    return est


def call_with_groups(est: Any, method: str, *args: Any, groups: Any, routing: str = "call") -> Any:
    """``est.<method>(*args)``, with ``groups`` for every step of ``est`` that asks for them.

    With ``routing="call"`` (the default), metadata routing is enabled for the call (and
    restored after), so that speaker ids reach e.g. a
    :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler` in the middle of a pipeline
    whatever the global setting; an estimator that asks for none gets none.

    With ``routing="config"``, the global setting decides: with routing enabled, ``groups=``
    when ``est`` routes or consumes them; without, the legacy way: a pipeline's earlier
    steps transform the input and its last step gets ``groups=`` if its method takes them
    (scikit-learn allows ``<step>__groups`` for ``fit`` only). A fitted search then
    predicts through its ``best_estimator_``.

    ``groups=None`` calls ``est.<method>(*args)``.

    Parameters
    ----------
    est : estimator
        The estimator, pipeline or meta-estimator to call.
    method : str
        The method, e.g. ``"fit"``, ``"predict_proba"``, ``"transform"``.
    *args
        Its positional arguments (``X``, and ``y`` for ``fit``).
    groups : array-like of shape (n_samples,) or None
        Speaker of each sample.
    routing : {"call", "config"}, default="call"
        Enable metadata routing for this call, or follow the global setting.

    Returns
    -------
    result
        What the method returns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_ser.ensemble import call_with_groups
    >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
    >>> X, y, speakers = np.arange(8.0)[:, None], [0, 1] * 4, [0, 0, 0, 0, 1, 1, 1, 1]
    >>> pipe = make_pipeline(SpeakerStandardScaler(), LogisticRegression())
    >>> pipe = call_with_groups(pipe, "fit", X, y, groups=speakers)
    >>> pipe[0].n_speakers_
    2
    >>> call_with_groups(LogisticRegression(), "fit", X, y, groups=speakers).classes_.tolist()
    [0, 1]
    """
    if routing not in ("call", "config"):
        raise ValueError(f"routing must be 'call' or 'config', got routing={routing!r}.")
    if routing == "call":
        with sklearn.config_context(enable_metadata_routing=True):
            params = {"groups": groups} if groups is not None and wants_groups(est, method) else {}
            return getattr(est, method)(*args, **params)
    est = unwrap_search(est)
    function = getattr(est, method)
    if groups is None:
        return function(*args)
    if routing_enabled():
        return function(*args, groups=groups) if wants_groups(est, method) else function(*args)
    if hasattr(est, "steps"):
        last = est.steps[-1][1]
        if last is not None and not isinstance(last, str) and accepts_groups(last, method):
            X, *rest = args
            return getattr(last, method)(est[:-1].transform(X), *rest, groups=groups)
        return function(*args)
    return function(*args, groups=groups) if accepts_groups(est, method) else function(*args)


def groups_fit_params(est: Any, groups: Any) -> dict[str, Any]:
    """The fit parameters that hand ``est`` its training speakers, if it takes them.

    With metadata routing enabled, ``groups=`` to whatever requests it. Without, the
    legacy names: ``groups=`` for an estimator whose ``fit`` takes it and for a search (its
    splitter), ``<last step>__groups`` for a pipeline whose last step takes it, and both for
    a search over such a pipeline (the search hands the second to the pipeline's ``fit``).
    """
    from sklearn.model_selection._search import BaseSearchCV

    if routing_enabled():
        return {"groups": groups} if wants_groups(est, "fit") else {}
    if isinstance(est, BaseSearchCV):
        params = {"groups": groups}
        params.update(groups_fit_params(est.estimator, groups))
        return params
    if hasattr(est, "steps"):
        name, last = est.steps[-1]
        if last is None or last == "passthrough" or isinstance(last, str):
            return {}
        return {f"{name}__groups": groups} if accepts_groups(last) else {}
    return {"groups": groups} if accepts_groups(est) else {}


def speaker_statistics_path(clf: Any) -> tuple[Any, Callable[[Any, Any], np.ndarray]] | None:
    """The fast path of a classifier that standardises with a SpeakerStandardScaler.

    For a fitted :class:`~sklearn_ser.SERClassifier`, or a pipeline whose first step is a
    fitted :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler`: the scaler whose
    statistics it applies, and a function ``predict_proba(X, statistics)`` giving the class
    probabilities of ``X`` standardised with those
    :class:`~sklearn_ser.preprocessing.SpeakerStatistics` (``statistics.codes`` indexes the
    rows of ``X``). Statistics computed once from the moments of a whole recording or
    speaker can so be applied batch by batch. None for any other classifier (pass
    ``groups`` through :func:`call_with_groups` instead).
    """
    from .preprocessing import SpeakerStandardScaler

    method = getattr(clf, "predict_proba_with_statistics", None)
    scaler = getattr(clf, "scaler_", None)
    if method is not None and isinstance(scaler, SpeakerStandardScaler):
        return scaler, method
    steps = getattr(clf, "steps", None)
    if steps and isinstance(steps[0][1], SpeakerStandardScaler):
        scaler, rest = steps[0][1], clf[1:]

        def predict_proba(X: Any, statistics: Any) -> np.ndarray:
            return rest.predict_proba(scaler.standardize(np.asarray(X), statistics))

        return scaler, predict_proba
    return None
