"""Model files that can be shared and loaded without trusting their author.

A model file is one safetensors file: the tensors (network weights, class centres, the
learned standardisation, any fitted array) plus, in its header, a JSON description of the
model (class names from a fixed list, their parameters and fitted attributes) and a
SHA-256 digest of both. Loading parses JSON and copies numbers; it never unpickles or runs
code from the file, unlike pickle or joblib files, which execute code when loaded.

The fixed list is :data:`_CLASSES`: each class the format knows and how it is stored.
Adding a class is one row there (and a round-trip test).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["load_model", "save_model"]

_FORMAT = "sklearn-ser-model"
# 2: a SERClassifier's input statistics are its fitted SpeakerStandardScaler (``scaler_``);
# run-time settings are no longer stored.
# 3: the functionals model (FunctionalsExtractor, LogisticRegression), LateFusionClassifier,
# make_ser_pipeline's SERPipeline, imbalanced-learn's Pipeline, the augmenter and
# AugmentedClassifier; a pipeline's steps keyed by their names.
# Files of every earlier version still load.
_VERSION = 3
# Run-time settings, not part of a model: not saved, so a loaded model has their defaults
# (a model trained with verbose=1 does not print progress bars on every later predict).
_RUNTIME_PARAMS = frozenset(
    {"verbose", "n_jobs", "device", "callbacks", "checkpoint", "accelerator", "memory"}
)
# Attributes that are settings of the session, not learned: routing requests, output
# containers (set_output), both defaults again after loading.
_RUNTIME_ATTRIBUTES = frozenset({"_sklearn_output_config", "_metadata_request"})


class _Entry(NamedTuple):
    """A class the format knows: where it lives and how it is stored.

    ``how`` is one of

    - ``"fitted"``: its parameters, and its fitted attributes (names ending or starting
      in ``_``: arrays as tensors, numbers, strings, and known estimators);
    - ``"params"``: its parameters only (a step with nothing learned worth keeping, e.g.
      a training-only augmentation);
    - ``"pipeline"``: its named steps (a scikit-learn or imbalanced-learn pipeline);
    - ``"fusion"``: a :class:`~sklearn_ser.ensemble.LateFusionClassifier`: parameters and
      fitted members (``named_estimators_`` is rebuilt from them);
    - ``"network"``: a :class:`~sklearn_ser.SERClassifier`: parameters, weights, classes
      and input statistics;
    - ``"class"``: a class that is only a parameter value (a network's ``module``),
      never built from the file.
    """

    module: str
    name: str
    how: str
    optional: bool = False  # from a package that may not be installed


# The key of each class in the file: the class name for the library's and scikit-learn's
# own classes (as files of format 2 have them), the dotted path for other packages'.
_CLASSES = {
    "SpectrogramExtractor": _Entry("sklearn_ser.features", "SpectrogramExtractor", "fitted"),
    "MelSpectrogramExtractor": _Entry("sklearn_ser.features", "MelSpectrogramExtractor", "fitted"),
    "MFCCExtractor": _Entry("sklearn_ser.features", "MFCCExtractor", "fitted"),
    "FeatureStatistics": _Entry("sklearn_ser.features", "FeatureStatistics", "fitted"),
    "FeatureStack": _Entry("sklearn_ser.features", "FeatureStack", "fitted"),
    "FunctionalsExtractor": _Entry("sklearn_ser.features", "FunctionalsExtractor", "fitted"),
    "FrameDescriptorExtractor": _Entry(
        "sklearn_ser.features", "FrameDescriptorExtractor", "fitted"
    ),
    "Segmenter": _Entry("sklearn_ser.features", "Segmenter", "fitted"),
    "SpeakerStandardScaler": _Entry("sklearn_ser.preprocessing", "SpeakerStandardScaler", "fitted"),
    "SERClassifier": _Entry("sklearn_ser._estimator", "SERClassifier", "network"),
    "LateFusionClassifier": _Entry("sklearn_ser.ensemble", "LateFusionClassifier", "fusion"),
    "SERPipeline": _Entry("sklearn_ser._pipeline", "SERPipeline", "pipeline"),
    "Pipeline": _Entry("sklearn.pipeline", "Pipeline", "pipeline"),
    "LogisticRegression": _Entry("sklearn.linear_model", "LogisticRegression", "fitted"),
    "imblearn.pipeline.Pipeline": _Entry("imblearn.pipeline", "Pipeline", "pipeline", True),
    # Training only: a loaded model keeps its settings, not the record of the last fit.
    "AudioAugmenter": _Entry("sklearn_ser.augment", "AudioAugmenter", "params"),
    "AugmentedClassifier": _Entry("sklearn_ser.augment", "AugmentedClassifier", "fitted"),
    "MultitaskCNN": _Entry("sklearn_ser.models", "MultitaskCNN", "class"),
    "CNN3D": _Entry("sklearn_ser.models", "CNN3D", "class"),
    "CNNLSTM": _Entry("sklearn_ser.models", "CNNLSTM", "class"),
    "SpecAugment": _Entry("sklearn_ser.models", "SpecAugment", "params"),
}


@cache
def _class_of(key: str) -> type | None:
    """The class of ``key``, importing only its module; None if its package is missing."""
    entry = _CLASSES[key]
    try:
        module = importlib.import_module(entry.module)
    except ImportError:
        if entry.optional:
            return None
        raise
    return getattr(module, entry.name)


def _key_of(cls: type) -> str | None:
    """The key of exactly ``cls`` (not of a subclass), or None if the format does not know it.

    Only the modules of the entries of that class name are imported, so that a model
    without a network is saved and loaded without importing torch.
    """
    for key, entry in _CLASSES.items():
        if entry.name == cls.__name__ and _class_of(key) is cls:
            return key
    return None


def _known() -> str:
    return ", ".join(sorted(k for k, e in _CLASSES.items() if e.how != "class"))


_OPTIMIZER_NAMES = ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam")


class _Writer:
    """Turns estimators into a JSON-able spec, collecting arrays as named tensors."""

    def __init__(self) -> None:
        self.tensors: dict[str, Any] = {}

    def array(self, key: str, value: np.ndarray) -> dict:
        if value.dtype.kind in "US":  # labels: JSON, not tensors
            return {"__array__": value.tolist(), "dtype": value.dtype.str}
        if value.dtype == object:
            if all(isinstance(v, str) for v in value.ravel()):  # e.g. feature_names_in_
                return {"__array__": value.tolist(), "dtype": "|O"}
            raise ValueError(
                f"cannot save the object array {key!r} safely: only arrays of numbers or "
                "strings are stored."
            )
        self.tensors[key] = np.asarray(value, order="C")  # 0-d stays 0-d
        return {"__tensor__": key, "dtype": value.dtype.str}

    def value(self, key: str, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return value.item()
        if isinstance(value, np.ndarray):
            return self.array(key, value)
        if isinstance(value, os.PathLike):  # e.g. a folder of noise recordings
            return os.fspath(value)
        if isinstance(value, (list, tuple)):
            return {
                "__seq__": [self.value(f"{key}.{i}", v) for i, v in enumerate(value)],
                "tuple": isinstance(value, tuple),
            }
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"__dict__": {k: self.value(f"{key}.{k}", v) for k, v in value.items()}}
        if isinstance(value, type):
            if _key_of(value) is not None:
                return {"__class__": _key_of(value)}
            if value.__module__.startswith("torch.optim") and value.__name__ in _OPTIMIZER_NAMES:
                return {"__optimizer__": value.__name__}
            if value.__module__ == "numpy":
                return {"__dtype__": np.dtype(value).name}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.name}
        known = _key_of(type(value))
        if known is not None and _CLASSES[known].how != "class":
            return self.estimator(key, value)
        what = value.__name__ if isinstance(value, type) else f"{type(value).__name__} object"
        module = getattr(value if isinstance(value, type) else type(value), "__module__", "?")
        raise ValueError(
            f"cannot save {key} (a {what} from {module}) safely: a model file holds numbers, "
            f"strings, arrays and these classes only: {_known()}. Use joblib (which runs code "
            "when loaded) for other components."
        )

    def params(self, key: str, est: Any) -> dict:
        return {
            k: self.value(f"{key}.{k}", v)
            for k, v in est.get_params(deep=False).items()
            if k not in _RUNTIME_PARAMS
        }

    def fitted(self, key: str, est: Any, skip: frozenset = frozenset()) -> dict:
        params = est.get_params(deep=False)
        return {
            k: self.value(f"{key}.{k}", v)
            for k, v in vars(est).items()
            if k not in params
            and k not in skip
            and k not in _RUNTIME_ATTRIBUTES
            and (k.endswith("_") or k.startswith("_"))
            and not k.startswith("__")
        }

    def estimator(self, key: str, est: Any) -> dict:
        name = _key_of(type(est))
        how = _CLASSES[name].how
        if how == "network":
            return self.classifier(key, est)
        if how == "pipeline":
            steps = [
                {"__seq__": [step, self.value(f"{key}.{step}", value)], "tuple": True}
                for step, value in est.steps
            ]
            params = {"steps": {"__seq__": steps, "tuple": False}}
            return {"__estimator__": name, "params": params, "state": {}}
        state = {}
        if how == "fitted":
            state = self.fitted(key, est)
        elif how == "fusion":
            state = self.fitted(key, est, skip=frozenset({"named_estimators_"}))
        return {"__estimator__": name, "params": self.params(key, est), "state": state}

    def classifier(self, key: str, clf: Any) -> dict:
        # Callbacks, accelerator, device, checkpoint and verbose are run-time settings.
        spec = {"__estimator__": "SERClassifier", "key": key, "params": self.params(key, clf)}
        if not hasattr(clf, "net_"):  # an unfitted template, e.g. a fusion's member
            return {**spec, "state": {}}
        net = clf.net_
        state_dict = {f"{key}.module.{k}": v for k, v in net.module_.state_dict().items()}
        state_dict.update(
            {f"{key}.centers.{k}": v for k, v in net.center_loss_.state_dict().items()}
        )
        for k, v in state_dict.items():
            self.tensors[k] = v.detach().to("cpu").contiguous().numpy()
        state = {
            attr: self.value(f"{key}.{attr}", getattr(clf, attr))
            for attr in ("classes_", "input_shape_", "scaler_", "n_features_in_", "embedding_dim_")
        }
        return {**spec, "state": state}


class _Reader:
    def __init__(self, tensors: dict[str, Any], device: str):
        self.tensors = tensors
        self.device = device

    def value(self, spec: Any) -> Any:
        if not isinstance(spec, dict):
            return spec
        if "__tensor__" in spec:
            return self.tensors[spec["__tensor__"]].astype(np.dtype(spec["dtype"]))
        if "__array__" in spec:
            return np.asarray(spec["__array__"], dtype=np.dtype(spec["dtype"]))
        if "__seq__" in spec:
            items = [self.value(v) for v in spec["__seq__"]]
            return tuple(items) if spec["tuple"] else items
        if "__dict__" in spec:
            return {k: self.value(v) for k, v in spec["__dict__"].items()}
        if "__class__" in spec:
            return self._class(spec["__class__"])
        if "__optimizer__" in spec:
            if spec["__optimizer__"] not in _OPTIMIZER_NAMES:
                raise ValueError(f"unknown optimizer {spec['__optimizer__']!r}")
            import torch

            return getattr(torch.optim, spec["__optimizer__"])
        if "__dtype__" in spec:
            return np.dtype(spec["__dtype__"]).type
        if "__estimator__" in spec:
            return self.estimator(spec)
        raise ValueError(f"unexpected entry {sorted(spec)}")

    def _class(self, name: str) -> type:
        if name not in _CLASSES:
            raise ValueError(f"class {name!r} is not one the library can load")
        cls = _class_of(name)
        if cls is None:  # known, from a package that is not installed
            raise ValueError(
                f"the model holds a {name}; install {_CLASSES[name].module.split('.')[0]} "
                "to load it."
            )
        return cls

    def estimator(self, spec: dict) -> Any:
        name = spec["__estimator__"]
        cls = self._class(name)
        how = _CLASSES[name].how
        if how == "class":
            raise ValueError(f"{name} is not an estimator")
        est = cls(**{k: self.value(v) for k, v in spec["params"].items()})
        if how in ("params", "pipeline"):
            return est
        state = {k: self.value(v) for k, v in spec["state"].items()}
        if how == "network":
            return self._restore_classifier(est, state, spec) if state else est
        for k, v in state.items():
            setattr(est, k, v)
        if how == "fusion" and "estimators_" in state:
            from sklearn.utils import Bunch

            names = [step for step, _ in est.estimators]
            est.named_estimators_ = Bunch(**dict(zip(names, est.estimators_)))
        return est

    def _restore_classifier(self, clf: Any, state: dict, spec: dict) -> Any:
        import torch

        if "scaler_" not in state:  # format 1: the statistics as three arrays
            state["scaler_"] = _scaler_from_v1(state)
        for k, v in state.items():
            setattr(clf, k, v)
        clf.device_ = self.device
        # Training-only settings (class weights, batch remainder) do not affect prediction.
        clf.net_ = clf._build_net(np.arange(len(clf.classes_)), None)
        clf.net_.initialize()
        key = self._key_of(spec)
        for prefix, module in (("module", clf.net_.module_), ("centers", clf.net_.center_loss_)):
            start = f"{key}.{prefix}."
            weights = {
                k[len(start) :]: torch.from_numpy(v.copy())
                for k, v in self.tensors.items()
                if k.startswith(start)
            }
            module.load_state_dict(weights, strict=True)
        return clf

    def _key_of(self, spec: dict) -> str:
        if "key" in spec:
            return spec["key"]
        ref = spec["state"]["feature_mean_"]["__tensor__"]  # format 1
        return ref.rsplit(".", 1)[0]


def _scaler_from_v1(state: dict) -> Any:
    """The SpeakerStandardScaler of a format-1 classifier, from its three statistics."""
    from .preprocessing import DEFAULT_PRIOR_UTTERANCES, SpeakerStandardScaler

    # Format 1 classifiers shrank toward 5 prior utterances, unclipped: SERClassifier's scaler.
    scaler = SpeakerStandardScaler(prior_utterances=DEFAULT_PRIOR_UTTERANCES, clip=None)
    for old, new in (
        ("feature_mean_", "mean_"),
        ("feature_scale_", "scale_"),
        ("speaker_scale_", "speaker_scale_"),
    ):
        setattr(scaler, new, np.asarray(state.pop(old), dtype=np.float64))
    scaler.n_features_in_ = len(scaler.mean_)
    return scaler


def _digest(spec: str, tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 of the description and of every array (name, shape, dtype, bytes)."""
    h = hashlib.sha256(spec.encode())
    for key in sorted(tensors):
        array = np.asarray(tensors[key], order="C")
        h.update(key.encode())
        # The dtype as torch names it (files were first written from torch tensors).
        h.update(str(tuple(array.shape)).encode() + f"torch.{array.dtype.name}".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def save_model(estimator: Any, path: str | os.PathLike) -> Path:
    """Save a fitted model to a file that runs no code when loaded.

    The weights and fitted arrays are stored in the safetensors format, with a JSON
    description of the model (the classes it is made of, from a fixed list, their
    parameters and fitted attributes) in its header, and a SHA-256 digest that
    :func:`load_model` verifies. Use this format to share models; pickle and joblib files
    run arbitrary code when loaded and must only be loaded from sources you trust.

    Every model of :func:`~sklearn_ser.make_ser_pipeline` can be saved: the functionals
    pipeline, the CNN pipeline and their fusion, as can a :class:`~sklearn_ser.SERClassifier`
    alone and any :class:`~sklearn.pipeline.Pipeline` of the library's transformers.

    A model without a network (the functionals model) is saved and loaded without
    importing torch.

    The file is written whole or not at all: to a temporary file in the same folder, then
    renamed over ``path``, so an interrupted save, or another process saving to the same
    path at the same time, never leaves a partly written file there.

    Parameters
    ----------
    estimator : estimator
        A fitted model: a :class:`~sklearn_ser.SERClassifier`, a pipeline of the library's
        steps (e.g. from :func:`~sklearn_ser.make_ser_pipeline`), or a
        :class:`~sklearn_ser.ensemble.LateFusionClassifier` of such pipelines.
    path : str or PathLike
        Output file, conventionally ending in ``.safetensors``.

    Returns
    -------
    path : Path
        The written file.

    Raises
    ------
    ValueError
        If the estimator holds a component that cannot be described safely (a custom
        module class, callbacks, a step of a class the format does not know), naming it,
        before anything is written.
    IsADirectoryError
        If ``path`` is a folder.

    See Also
    --------
    load_model : load such a file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_ser import make_ser_pipeline, save_model, load_model
    >>> from sklearn_ser.datasets import make_emotional_speech
    >>> data = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.5, random_state=0)
    >>> pipe = make_ser_pipeline().fit(data.data, data.target, scaler__groups=data.speaker)
    >>> path = save_model(pipe, os.path.join(tempfile.mkdtemp(), "model.safetensors"))
    >>> bool(np.array_equal(load_model(path).predict_proba(data.data),
    ...                     pipe.predict_proba(data.data)))
    True
    """
    from safetensors.numpy import save_file
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"save_model: path {str(path)!r} is a folder; give a file name.")
    check_is_fitted(estimator)
    writer = _Writer()
    spec = json.dumps(writer.value("model", estimator), sort_keys=True)
    metadata = {
        "format": _FORMAT,
        "format_version": str(_VERSION),
        "library_version": __version__,
        "spec": spec,
        "sha256": _digest(spec, writer.tensors),
    }
    # A temporary file of its own in the target folder (so the rename is atomic), renamed
    # over the target only once complete.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        save_file(writer.tensors, tmp, metadata=metadata)
        # Permissions as for any file the user creates (mkstemp creates it owner-only).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: no temporary file left behind
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | os.PathLike, *, device: str = "cpu") -> Any:
    """Load a model saved by :func:`save_model`, without running code from the file.

    Parameters
    ----------
    path : str or PathLike
        The model file.
    device : str, default="cpu"
        Device of the loaded network; a model trained on CUDA loads on a CPU-only machine.

    Returns
    -------
    estimator : estimator
        The saved model, ready to ``predict`` and ``predict_proba`` (and ``transform``
        where the saved model had it).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        If the file is truncated, tampered with (its digest does not match), or not a
        sklearn-ser model file.

    Examples
    --------
    >>> from sklearn_ser import load_model
    >>> load_model("no_such_model.safetensors")
    Traceback (most recent call last):
    ...
    FileNotFoundError: Model file 'no_such_model.safetensors' does not exist.
    """
    from safetensors import safe_open

    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Model file {path!r} is a folder; give the model file (.safetensors) itself."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file {path!r} does not exist.")
    try:
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise ValueError(
            f"{path!r} is not a readable sklearn-ser model file (truncated or not safetensors: "
            f"{exc})."
        ) from exc
    if metadata.get("format") != _FORMAT:
        raise ValueError(f"{path!r} is not a sklearn-ser model file (a foreign safetensors file).")
    if int(metadata.get("format_version", "0")) > _VERSION:
        raise ValueError(
            f"{path!r} was written by a newer sklearn-ser (format "
            f"{metadata['format_version']}); upgrade the library to load it."
        )
    spec = metadata.get("spec", "")
    if _digest(spec, tensors) != metadata.get("sha256"):
        raise ValueError(
            f"{path!r} failed its integrity check: the weights or description were modified "
            "after saving."
        )
    try:
        return _Reader(tensors, device).value(json.loads(spec))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path!r} holds an invalid model description: {exc}") from exc
