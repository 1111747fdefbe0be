"""Model files that can be shared and loaded without trusting their author.

A model file is one safetensors file: the tensors (network weights, class centres, the
learned standardisation, any fitted array) plus, in its header, a JSON description of the
pipeline (class names from a fixed list, their parameters and fitted attributes) and a
SHA-256 digest of both. Loading parses JSON and copies numbers; it never unpickles or runs
code from the file, unlike pickle or joblib files, which execute code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_model", "save_model"]

_FORMAT = "sklearn-ser-model"
# 2: a SERClassifier's input statistics are its fitted SpeakerStandardScaler (``scaler_``);
# run-time settings are no longer stored. Files of version 1 still load.
_VERSION = 2
# Run-time settings, not part of a model: not saved, so a loaded model has their defaults
# (a model trained with verbose=1 does not print progress bars on every later predict).
_RUNTIME_PARAMS = frozenset(
    {"verbose", "n_jobs", "device", "callbacks", "checkpoint", "accelerator", "memory"}
)


def _registry() -> dict[str, type]:
    from sklearn.pipeline import Pipeline

    from . import features, models
    from ._estimator import SERClassifier
    from .preprocessing import SpeakerStandardScaler

    classes = [
        features.SpectrogramExtractor,
        features.MelSpectrogramExtractor,
        features.MFCCExtractor,
        features.FeatureStatistics,
        features.FeatureStack,
        features.Segmenter,
        SpeakerStandardScaler,
        SERClassifier,
        Pipeline,
        models.MultitaskCNN,
        models.CNN3D,
        models.CNNLSTM,
        models.SpecAugment,
    ]
    return {cls.__name__: cls for cls in classes}


_OPTIMIZER_NAMES = ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam")


class _Writer:
    """Turns estimators into a JSON-able spec, collecting arrays as named tensors."""

    def __init__(self) -> None:
        self.tensors: dict[str, Any] = {}

    def array(self, key: str, value: np.ndarray) -> dict:
        import torch

        if value.dtype.kind in "US":  # labels: JSON, not tensors
            return {"__array__": value.tolist(), "dtype": value.dtype.str}
        if value.dtype == object:
            raise ValueError(f"cannot save the object array {key!r} safely.")
        self.tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
        return {"__tensor__": key, "dtype": value.dtype.str}

    def value(self, key: str, value: Any) -> Any:
        registry = _registry()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return value.item()
        if isinstance(value, np.ndarray):
            return self.array(key, value)
        if isinstance(value, (list, tuple)):
            return {
                "__seq__": [self.value(f"{key}.{i}", v) for i, v in enumerate(value)],
                "tuple": isinstance(value, tuple),
            }
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"__dict__": {k: self.value(f"{key}.{k}", v) for k, v in value.items()}}
        if isinstance(value, type):
            if value.__name__ in registry and registry[value.__name__] is value:
                return {"__class__": value.__name__}
            if value.__module__.startswith("torch.optim") and value.__name__ in _OPTIMIZER_NAMES:
                return {"__optimizer__": value.__name__}
            if value.__module__ == "numpy":
                return {"__dtype__": np.dtype(value).name}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.name}
        if type(value).__name__ in registry:
            return self.estimator(key, value)
        raise ValueError(
            f"cannot save {key}={value!r} safely: only numbers, strings, arrays and the "
            "library's own classes are stored. Use joblib (which runs code when loaded) for "
            "custom components."
        )

    def estimator(self, key: str, est: Any) -> dict:
        from sklearn.pipeline import Pipeline

        from ._estimator import SERClassifier

        name = type(est).__name__
        if isinstance(est, SERClassifier):
            return self.classifier(key, est)
        if isinstance(est, Pipeline):
            params = {"steps": self.value(f"{key}.steps", est.steps)}
            return {"__estimator__": name, "params": params, "state": {}}
        all_params = est.get_params(deep=False)
        params = {
            k: self.value(f"{key}.{k}", v)
            for k, v in all_params.items()
            if k not in _RUNTIME_PARAMS
        }
        state = {
            k: self.value(f"{key}.{k}", v)
            for k, v in vars(est).items()
            if k not in all_params
            and (k.endswith("_") or k.startswith("_"))
            and not k.startswith("__")
            and k != "_sklearn_output_config"
        }
        return {"__estimator__": name, "params": params, "state": state}

    def classifier(self, key: str, clf: Any) -> dict:
        # Callbacks, accelerator, device, checkpoint and verbose are run-time settings.
        params = {k: v for k, v in clf.get_params(deep=False).items() if k not in _RUNTIME_PARAMS}
        net = clf.net_
        state_dict = {f"{key}.module.{k}": v for k, v in net.module_.state_dict().items()}
        state_dict.update(
            {f"{key}.centers.{k}": v for k, v in net.center_loss_.state_dict().items()}
        )
        for k, v in state_dict.items():
            self.tensors[k] = v.detach().to("cpu").contiguous()
        state = {
            attr: self.value(f"{key}.{attr}", getattr(clf, attr))
            for attr in ("classes_", "input_shape_", "scaler_", "n_features_in_", "embedding_dim_")
        }
        return {
            "__estimator__": "SERClassifier",
            "key": key,
            "params": {k: self.value(f"{key}.{k}", v) for k, v in params.items()},
            "state": state,
        }


class _Reader:
    def __init__(self, tensors: dict[str, Any], device: str):
        self.tensors = tensors
        self.device = device
        self.registry = _registry()

    def value(self, spec: Any) -> Any:
        import torch

        if not isinstance(spec, dict):
            return spec
        if "__tensor__" in spec:
            return self.tensors[spec["__tensor__"]].numpy().astype(np.dtype(spec["dtype"]))
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
            return getattr(torch.optim, spec["__optimizer__"])
        if "__dtype__" in spec:
            return np.dtype(spec["__dtype__"]).type
        if "__estimator__" in spec:
            return self.estimator(spec)
        raise ValueError(f"unexpected entry {sorted(spec)}")

    def _class(self, name: str) -> type:
        if name not in self.registry:
            raise ValueError(f"class {name!r} is not one the library can load")
        return self.registry[name]

    def estimator(self, spec: dict) -> Any:
        cls = self._class(spec["__estimator__"])
        params = {k: self.value(v) for k, v in spec["params"].items()}
        if cls.__name__ == "SpecAugment":
            return cls(**params)
        est = cls(**params)
        state = {k: self.value(v) for k, v in spec["state"].items()}
        if cls.__name__ == "SERClassifier":
            return self._restore_classifier(est, state, spec)
        for k, v in state.items():
            setattr(est, k, v)
        return est

    def _restore_classifier(self, clf: Any, state: dict, spec: dict) -> Any:
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
            weights = {k[len(start) :]: v for k, v in self.tensors.items() if k.startswith(start)}
            module.load_state_dict(weights, strict=True)
        return clf

    def _key_of(self, spec: dict) -> str:
        if "key" in spec:
            return spec["key"]
        ref = spec["state"]["feature_mean_"]["__tensor__"]  # format 1
        return ref.rsplit(".", 1)[0]


def _scaler_from_v1(state: dict) -> Any:
    """The SpeakerStandardScaler of a format-1 classifier, from its three statistics."""
    from ._estimator import _PRIOR_UTTERANCES
    from .preprocessing import SpeakerStandardScaler

    scaler = SpeakerStandardScaler(prior_utterances=_PRIOR_UTTERANCES)
    for old, new in (
        ("feature_mean_", "mean_"),
        ("feature_scale_", "scale_"),
        ("speaker_scale_", "speaker_scale_"),
    ):
        setattr(scaler, new, np.asarray(state.pop(old), dtype=np.float64))
    scaler.n_features_in_ = len(scaler.mean_)
    return scaler


def _digest(spec: str, tensors: dict[str, Any]) -> str:
    h = hashlib.sha256(spec.encode())
    for key in sorted(tensors):
        t = tensors[key]
        h.update(key.encode())
        h.update(str(tuple(t.shape)).encode() + str(t.dtype).encode())
        h.update(t.contiguous().view(-1).view(dtype=__import__("torch").uint8).numpy().tobytes())
    return h.hexdigest()


def save_model(estimator: Any, path: str | os.PathLike) -> Path:
    """Save a fitted pipeline or SERClassifier to a file that runs no code when loaded.

    The weights are stored in the safetensors format, with a JSON description of the
    pipeline (the library's own classes, their parameters and fitted attributes) in its
    header, and a SHA-256 digest that :func:`load_model` verifies. Use this format to share
    models; pickle and joblib files run arbitrary code when loaded and must only be loaded
    from sources you trust.

    Parameters
    ----------
    estimator : SERClassifier or sklearn.pipeline.Pipeline
        A fitted classifier, or a pipeline of the library's transformers ending with one.
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
        module class, callbacks, a non-library pipeline step).

    See Also
    --------
    load_model : load such a file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_ser import SERClassifier, save_model, load_model
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 8, 10)).astype(np.float32), ["a", "b"] * 10
    >>> clf = SERClassifier(max_epochs=1, module__channels=(4,), random_state=0).fit(X, y)
    >>> path = save_model(clf, os.path.join(tempfile.mkdtemp(), "model.safetensors"))
    >>> bool(np.allclose(load_model(path).predict_proba(X), clf.predict_proba(X)))
    True
    """
    from safetensors.torch import save_file
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    check_is_fitted(final)
    writer = _Writer()
    spec = json.dumps(writer.value("model", estimator), sort_keys=True)
    metadata = {
        "format": _FORMAT,
        "format_version": str(_VERSION),
        "library_version": __version__,
        "spec": spec,
        "sha256": _digest(spec, writer.tensors),
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    save_file(writer.tensors, str(tmp), metadata=metadata)
    # Permissions as for any file the user creates (the writer may create it owner-only).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)
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
    estimator : SERClassifier or sklearn.pipeline.Pipeline
        Ready to ``predict``, ``predict_proba`` and ``transform``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
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
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file {path!r} does not exist.")
    try:
        with safe_open(path, framework="pt") as f:
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
