"""SERClassifier: a scikit-learn classifier that trains the library's CNNs with skorch.

The estimator holds the parameters, validates them (one constraints table), computes the
input statistics (:mod:`sklearn_ser.preprocessing`, the one place speaker statistics live)
and trains in a few named steps; the skorch net, its losses, training step and checkpoint
callback are in :mod:`sklearn_ser._net`.
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import Callback, EarlyStopping, EpochScoring, LRScheduler, PassthroughScoring
from skorch.helper import predefined_split
from torch import nn
from torch.utils.data import Subset

from ._device import resolve_device

# _SERNet & co. are also reachable here, where models pickled before the split look for them.
from ._net import (
    OPTIMIZERS,
    _AcceleratedSERNet,
    _ArrayDataset,
    _Checkpoint,
    _SERNet,
    _softmax,
    _valid_ua,
)
from .models import MultitaskCNN
from .preprocessing import SpeakerStandardScaler, SpeakerStatistics, _check_groups, _moments

__all__ = ["SERClassifier"]

# Utterances of the training average that each speaker's statistics are shrunk toward.
_PRIOR_UTTERANCES = 5
# Weight of the reconstruction loss when lambda_recon="auto" and the module has a decoder.
_AUTO_LAMBDA_RECON = 0.1
# Parameters routed to the skorch net, as skorch names them.
_ROUTED_PREFIXES = (
    "module__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
    "criterion__",
)


class _SubclassOf(HasMethods):
    """Parameter constraint: a class derived from ``base`` (e.g. a torch.nn.Module class).

    Derives from scikit-learn's ``HasMethods`` only so that its parameter validation
    accepts it as a constraint object.
    """

    def __init__(self, base: type, description: str):
        super().__init__(["__call__"])
        self.base = base
        self.description = description

    def is_satisfied_by(self, val: Any) -> bool:
        return isinstance(val, type) and issubclass(val, self.base)

    def __str__(self) -> str:
        return self.description


class SERClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Speech emotion classifier: a CNN trained with softmax, center loss and reconstruction.

    A scikit-learn estimator that builds and trains a skorch net in :meth:`fit`. The
    default module is the multitask CNN of Tripathi et al. (2019): a convolutional encoder
    whose embedding is trained jointly by cross-entropy and center loss (Wen et al., 2016),
    with a decoder that reconstructs the input features as a regulariser::

        loss = CE(logits, y) + lambda_center * CenterLoss(embedding, y)
               + lambda_recon * MSE(reconstruction, x)

    Both weights at 0 give the plain softmax CNN. The input is the 3-D output of an
    extractor, e.g. :class:`~sklearn_ser.MelSpectrogramExtractor`; each bin is standardised
    before the network, with the training set's statistics or with each speaker's own
    (``standardize``). After fitting,
    :meth:`transform` returns the embeddings, so the classifier can stand mid-pipeline
    before any other estimator.

    **Speaker context.** A prediction depends only on the sample itself, whatever else is
    in ``X``, unless the caller passes ``groups`` (speaker ids) to say which samples share
    a speaker. ``fit``, ``predict``, ``predict_proba``, ``transform`` and ``score`` request
    ``groups`` through scikit-learn's metadata routing, so with
    ``sklearn.set_config(enable_metadata_routing=True)`` speaker ids given to a
    :class:`~sklearn.pipeline.Pipeline`, :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` or
    :class:`~sklearn.ensemble.StackingClassifier` reach the classifier.

    Parameters
    ----------
    module : class of torch.nn.Module, default=None
        Called as ``module(n_classes=..., input_shape=..., **module__params)`` and must
        return ``(logits, embedding, reconstruction)``. None means
        :class:`~sklearn_ser.models.MultitaskCNN`; :class:`~sklearn_ser.models.CNN3D` and
        :class:`~sklearn_ser.models.CNNLSTM` take 4-D input from a
        :class:`~sklearn_ser.Segmenter`.
    lambda_center : float, default=0.01
        Weight of the center loss.
    center_alpha : float, default=0.5
        Learning rate of the class centres (Wen et al.'s update rule), in [0, 1].
    lambda_recon : float or "auto", default="auto"
        Weight of the reconstruction loss. "auto": 0.1 when the module has a decoder
        (its constructor takes ``reconstruct``, as :class:`~sklearn_ser.models.MultitaskCNN`
        and :class:`~sklearn_ser.models.CNN3D` do, and ``module__reconstruct`` is not
        False), else 0 (:class:`~sklearn_ser.models.CNNLSTM`), so the defaults suit every
        shipped module. A number > 0 needs a module with a decoder.
    max_epochs : int, default=30
        Number of training epochs (fewer with early stopping).
    lr : float, default=1e-3
        Learning rate of the optimiser.
    batch_size : int, default=32
        Mini-batch size.
    optimizer : {"adamw", "adam", "sgd"} or torch.optim.Optimizer class, default="adamw"
        The optimiser; ``optimizer__*`` parameters reach it.
    weight_decay : float, default=1e-4
        Weight decay of the optimiser.
    lr_schedule : {"cosine", None}, default="cosine"
        Cosine annealing of the learning rate over ``max_epochs``, or a constant rate.
    class_weight : {"balanced", None} or dict, default=None
        Class weights of the cross-entropy, for unbalanced corpora.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy.
    augment : callable or None, default=None
        Applied to each training batch (a tensor), e.g.
        :class:`~sklearn_ser.models.SpecAugment`.
    window_frames : int or None, default=None
        Train on random windows of this many frames (a random time shift per sample and
        epoch; with wrap-padded features, a cyclic shift of the utterance) and predict by
        averaging logits and embeddings over half-overlapping windows that cover the whole
        input, so long utterances are not cut. None: the network sees the whole input.
        Only for 3-D input.
    standardize : {"corpus", "speaker"}, default="corpus"
        How each bin is standardised before the network. "corpus": with the mean and
        standard deviation of the training set. "speaker": with those of the speaker's own
        utterances (:class:`~sklearn_ser.preprocessing.SpeakerStandardScaler`), in
        :meth:`fit` and at prediction, which removes much of what tells speakers apart
        (vocal tract, level, recording channel) and helps on speakers never heard. It
        needs no labels, only ``groups`` (speaker ids) passed to :meth:`fit` and to
        :meth:`predict`, :meth:`predict_proba`, :meth:`transform` or :meth:`score`.
        **Without groups every sample is standardised alone**, so a prediction never
        depends on what else is in ``X``; fitting without groups warns. A speaker's
        statistics are shrunk toward the training set's as if it had 5 more utterances of
        the training average, so one utterance alone is standardised mostly like "corpus"
        does.
    speaker_context : {"full", "random"}, default="full"
        With ``standardize="speaker"`` and ``groups`` in :meth:`fit`: the statistics each
        training utterance is standardised with. "full": those of all its speaker's
        training utterances. "random": those of a random subset of them that contains the
        utterance (its size drawn uniformly from 1 to all, anew every epoch), so the
        network learns from inputs standardised as in both prediction protocols: a file
        alone (no ``groups``) and a speaker's files together (with ``groups``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when the validation
        UA has not improved for ``n_iter_no_change`` epochs, and keep the best weights.
        With ``groups`` the split is speaker-disjoint.
    validation_fraction : float, default=0.15
        Share of the training data (of its speakers, with ``groups``) held out for
        early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str, default="auto"
        "auto" trains on CUDA when available, else the CPU; or "cpu", "cuda", "cuda:N".
    mixed_precision : bool, default=False
        Compute in bfloat16 autocast (CUDA or CPU); losses stay in float32.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks; ``callbacks__*`` parameters reach them.
    accelerator : accelerate.Accelerator or None, default=None
        Train through skorch's Hugging Face Accelerate integration (``AccelerateMixin``):
        multi-GPU and multi-node data parallelism and Accelerate's mixed precision, launched
        with ``accelerate launch``. The accelerator places the model and batches, so
        ``device`` is ignored.
    checkpoint : str, PathLike or None, default=None
        A file where the whole training state (weights, centres, optimiser, learning-rate
        schedule, random generator, history) is saved after every epoch. If it exists when
        :meth:`fit` starts and was made for the same classes and input shape, training
        resumes from it, and on the CPU with the same ``random_state`` ends with the same
        model as an uninterrupted run (without early stopping, whose patience is not
        saved). Delete the file to train from scratch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, augmentation and the validation split. The
        same seed gives the same model on the CPU.
    verbose : int, default=0
        With 1, print skorch's epoch table: the loss and its cross-entropy, center and
        reconstruction parts, and with early stopping the validation loss and UA.

        ``verbose``, ``device``, ``callbacks``, ``accelerator`` and ``checkpoint`` are
        run-time settings: :func:`~sklearn_ser.save_model` does not store them, and a
        loaded model has their defaults.
    **kwargs : dict
        skorch-routed parameters: ``module__*`` (e.g. ``module__embedding_dim=64``),
        ``optimizer__*``, ``iterator_train__*``, ``iterator_valid__*``, ``criterion__*``,
        ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net (``net_.module_`` is the torch module).
    history_ : skorch.History
        Per-epoch training history.
    input_shape_ : tuple of int
        Per-sample shape of the network input.
    scaler_ : SpeakerStandardScaler
        The input statistics learned in :meth:`fit` (in float32 precision): the training
        set's, and for ``standardize="speaker"`` what each speaker's are shrunk toward.
    feature_mean_, feature_scale_ : ndarray of shape (n_bins,)
        Per-bin mean and standard deviation of the training data (from ``scaler_``).
    speaker_scale_ : ndarray of shape (n_bins,)
        Per-bin standard deviation within a speaker, pooled over the training speakers;
        equal to ``feature_scale_`` when fitted without ``groups`` (from ``scaler_``).
    device_ : str
        The device the model was trained on.
    n_features_in_ : int
        Size of axis 1 of ``X`` seen in fit.
    embedding_dim_ : int
        Size of the embeddings returned by :meth:`transform`.

    See Also
    --------
    sklearn_ser.make_ser_pipeline : the recommended extractor + classifier pipeline.
    sklearn_ser.models.MultitaskCNN : the default module.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import SERClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 16, 20)).astype(np.float32)
    >>> y = np.array(["angry", "calm"] * 20)
    >>> X[y == "angry", :8] += 1.0
    >>> clf = SERClassifier(max_epochs=10, lr=1e-2, batch_size=8, random_state=0,
    ...                     module__channels=(8, 16), module__embedding_dim=8).fit(X, y)
    >>> clf.predict(X[:4]).tolist()
    ['angry', 'calm', 'angry', 'calm']
    >>> clf.predict_proba(X[:2]).shape, clf.transform(X[:2]).shape
    ((2, 2), (2, 8))
    """

    # Speaker ids flow to these methods by default once metadata routing is enabled.
    __metadata_request__fit: ClassVar[dict] = {"groups": True}
    __metadata_request__predict: ClassVar[dict] = {"groups": True}
    __metadata_request__predict_proba: ClassVar[dict] = {"groups": True}
    __metadata_request__transform: ClassVar[dict] = {"groups": True}
    __metadata_request__score: ClassVar[dict] = {"groups": True}

    _parameter_constraints: ClassVar[dict] = {
        "module": [None, _SubclassOf(nn.Module, "a torch.nn.Module class")],
        "lambda_center": [Interval(Real, 0, None, closed="left")],
        "center_alpha": [Interval(Real, 0, 1, closed="both")],
        "lambda_recon": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [
            StrOptions(set(OPTIMIZERS)),
            _SubclassOf(torch.optim.Optimizer, "a torch.optim.Optimizer class"),
        ],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "augment": [callable, None],
        "window_frames": [Interval(Integral, 1, None, closed="left"), None],
        "standardize": [StrOptions({"corpus", "speaker"})],
        "speaker_context": [StrOptions({"full", "random"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "mixed_precision": ["boolean"],
        "callbacks": [list, tuple, None],
        "accelerator": [None, HasMethods(["prepare", "backward"])],
        "checkpoint": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        module: Any = None,
        *,
        lambda_center: float = 0.01,
        center_alpha: float = 0.5,
        lambda_recon: float | str = "auto",
        max_epochs: int = 30,
        lr: float = 1e-3,
        batch_size: int = 32,
        optimizer: Any = "adamw",
        weight_decay: float = 1e-4,
        lr_schedule: str | None = "cosine",
        class_weight: Any = None,
        label_smoothing: float = 0.0,
        augment: Any = None,
        window_frames: int | None = None,
        standardize: str = "corpus",
        speaker_context: str = "full",
        early_stopping: bool = False,
        validation_fraction: float = 0.15,
        n_iter_no_change: int = 10,
        device: str = "auto",
        mixed_precision: bool = False,
        callbacks: list | None = None,
        accelerator: Any = None,
        checkpoint: str | os.PathLike | None = None,
        random_state: Any = None,
        verbose: int = 0,
        **kwargs: Any,
    ):
        self.module = module
        self.lambda_center = lambda_center
        self.center_alpha = center_alpha
        self.lambda_recon = lambda_recon
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.augment = augment
        self.window_frames = window_frames
        self.standardize = standardize
        self.speaker_context = speaker_context
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.mixed_precision = mixed_precision
        self.callbacks = callbacks
        self.accelerator = accelerator
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.verbose = verbose
        # skorch-style routed parameters are validated in fit, like every other one.
        vars(self).update(kwargs)

    # ---------------------------------------------------------------- parameters
    def _routed_params(self) -> dict:
        # Everything set by __init__ beyond its named parameters came in through **kwargs.
        named = set(self._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if k not in named and not k.startswith("_") and not k.endswith("_")
        }

    def get_params(self, deep: bool = True) -> dict:
        """Get parameters, including the skorch-routed ``module__*`` and similar ones.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested estimators.

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        return params

    def set_params(self, **params: Any) -> SERClassifier:
        """Set parameters, including skorch-routed ones such as ``module__channels``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : SERClassifier
        """
        routed = {k: v for k, v in params.items() if k.startswith(_ROUTED_PREFIXES)}
        vars(self).update(routed)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def _validate_params(self) -> None:
        # The constraints table, then the skorch-routed names it cannot list.
        super()._validate_params()
        bad = [k for k in self._routed_params() if not k.startswith(_ROUTED_PREFIXES)]
        if bad:
            raise ValueError(
                f"SERClassifier got unexpected keyword argument(s) {bad}; extra parameters "
                f"must start with one of {list(_ROUTED_PREFIXES)}."
            )

    def _module(self) -> type:
        return self.module or MultitaskCNN

    def _has_decoder(self) -> bool:
        """Whether the module is built with a decoder (a ``reconstruct`` switch, not off)."""
        module = self._module()
        try:
            takes = "reconstruct" in inspect.signature(module).parameters
        except (TypeError, ValueError):
            takes = False
        return takes and self._routed_params().get("module__reconstruct", True) is not False

    def _lambda_recon(self) -> float:
        """``lambda_recon`` with "auto" resolved for the module."""
        if self.lambda_recon == "auto":
            return _AUTO_LAMBDA_RECON if self._has_decoder() else 0.0
        return float(self.lambda_recon)

    # ---------------------------------------------------------------- data
    def _validate_X(self, X: Any, reset: bool, y: Any = None) -> Any:
        kwargs = {"allow_nd": True, "dtype": [np.float32, np.float64], "reset": reset}
        if y is not None:
            X, y = validate_data(self, X, y, **kwargs)
        else:
            X = validate_data(self, X, **kwargs)
        # No dtype conversion or copy here: a float32 memory map is read batch by batch.
        if X.ndim == 2:  # a row is a 1 x n_features map
            X = X[:, np.newaxis, :]
        if not reset and X.shape[1:] != self.input_shape_:
            raise ValueError(
                f"X has per-sample shape {X.shape[1:]}, but SERClassifier was fitted on "
                f"shape {self.input_shape_}. Use the same feature extractor settings "
                "(n_mels, max_frames...) as in fit."
            )
        return (X, y) if y is not None else X

    def _resolve_device(self) -> str:
        return resolve_device(self.device, "SERClassifier")

    # ---------------------------------------------------------------- fit steps
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, groups: Any = None) -> SERClassifier:
        """Train the network.

        The steps: check the data, learn the input statistics, hold out the validation
        speakers (early stopping), build the skorch net, train it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bins, n_frames), (n_samples, n_segments, \
n_bins, n_frames) or (n_samples, n_features)
            Features, e.g. from :class:`~sklearn_ser.MelSpectrogramExtractor`. A 2-D array
            is taken as one 1 x n_features map per sample.
        y : array-like of shape (n_samples,)
            Emotion labels (strings or integers).
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample; makes the early-stopping validation split
            speaker-disjoint, and gives ``standardize="speaker"`` its speakers. Requested
            through metadata routing.

        Returns
        -------
        self : SERClassifier
            The fitted classifier.
        """
        X, y_encoded, groups = self._check_training_data(X, y, groups)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        statistics = self._fit_statistics(X, groups)
        self.device_ = self._resolve_device()
        train_data, valid_data, y_train = self._split_training_data(
            X, y_encoded, groups, statistics, rng, seed
        )
        context = statistics if isinstance(statistics, _RandomSpeakerContext) else None
        self.net_ = self._build_net(y_train, valid_data, context)
        self._train(train_data, seed)
        return self

    def _check_training_data(self, X: Any, y: Any, groups: Any) -> tuple:
        """Validated ``X``, ``y`` encoded as class indices, and ``groups``; sets ``classes_``."""
        if y is None:
            raise ValueError("SERClassifier requires y to be passed, but the target y is None.")
        X, y = self._validate_X(X, reset=True, y=y)
        check_classification_targets(y)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"SERClassifier needs samples of at least 2 classes; y has only one class: "
                f"{self.classes_[0]!r}."
            )
        groups = _check_groups(groups, len(y))
        self.input_shape_ = tuple(X.shape[1:])
        if self.window_frames is not None and X.ndim != 3:
            raise ValueError(
                f"SERClassifier: window_frames applies to 3-D input (n_samples, n_bins, "
                f"n_frames), got X of shape {X.shape}; set window_frames=None."
            )
        return X, y_encoded.astype(np.int64), groups

    def _fit_statistics(self, X: np.ndarray, groups: np.ndarray | None) -> Any:
        """Fit ``scaler_``; with ``standardize="speaker"``, each training row's statistics.

        One pass over ``X`` (possibly a memory map) gives the training statistics and each
        training speaker's, with :mod:`sklearn_ser.preprocessing`'s code. The statistics are
        kept in float32 precision, the precision the network computes in.
        """
        moments = _moments(X, groups)
        scaler = SpeakerStandardScaler(prior_utterances=_PRIOR_UTTERANCES)
        scaler.n_features_in_ = X.shape[-2]
        scaler._fit_moments(moments, fitted_with_groups=groups is not None)
        for name in ("mean_", "scale_", "speaker_scale_"):
            setattr(scaler, name, getattr(scaler, name).astype(np.float32).astype(np.float64))
        self.scaler_ = scaler
        if self.standardize != "speaker":
            return None
        if groups is None:
            warnings.warn(
                "SERClassifier(standardize='speaker') was fitted without groups, so every "
                "training sample was standardised alone and the within-speaker spread is "
                "unknown: pass fit(X, y, groups=speaker_ids), or in a pipeline or search enable "
                "metadata routing (sklearn.set_config(enable_metadata_routing=True)) and pass "
                "groups=speaker_ids to its fit.",
                UserWarning,
                stacklevel=4,  # the caller of fit, past fit and the _fit_context wrapper
            )
        if self.speaker_context == "random" and groups is not None:
            return _RandomSpeakerContext(scaler, _moments(X, None), moments.codes)
        return scaler._shrunk_statistics(moments)

    def _split_training_data(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None,
        statistics: Any,
        rng: np.random.RandomState,
        seed: int,
    ) -> tuple:
        """Training and validation datasets: lazy views of ``X``, never a copy."""
        context = None
        if isinstance(statistics, _RandomSpeakerContext):
            context, statistics = statistics, statistics.draw(seed, epoch=0)
        full = _ArrayDataset(X, y, statistics=statistics)
        if context is not None:
            context.attach(full, seed)
        if not self.early_stopping:
            return full, None, y
        train_idx, valid_idx = self._split(y, groups, rng)
        return Subset(full, train_idx), Subset(full, valid_idx), y[train_idx]

    def _split(
        self, y: np.ndarray, groups: np.ndarray | None, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray]:
        seed = rng.randint(np.iinfo(np.int32).max)
        if groups is not None:
            if len(np.unique(groups)) < 2:
                raise ValueError(
                    "early_stopping with groups needs at least 2 distinct groups (speakers) "
                    "to hold some out for validation."
                )
            splitter = GroupShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
            return next(splitter.split(y, y, groups))
        warnings.warn(
            "early_stopping without groups: the validation split mixes speakers, so early "
            "stopping favours speaker-dependent models. Pass fit(X, y, groups=speakers).",
            UserWarning,
            stacklevel=5,
        )
        try:
            splitter = StratifiedShuffleSplit(
                1, test_size=self.validation_fraction, random_state=seed
            )
            return next(splitter.split(y, y))
        except ValueError:  # a class too small to stratify
            splitter = GroupShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
            return next(splitter.split(y, y, np.arange(len(y))))

    def _build_callbacks(self, with_validation: bool, context: Any = None) -> list:
        callbacks: list = [("train_ce", PassthroughScoring("train_ce", on_train=True))]
        if context is not None:  # speaker_context="random": new statistics every epoch
            callbacks.insert(0, ("speaker_context", context))
        if self.lambda_center > 0:
            callbacks.append(("train_center", PassthroughScoring("train_center", on_train=True)))
        if self._lambda_recon() > 0:
            callbacks.append(("train_recon", PassthroughScoring("train_recon", on_train=True)))
        if with_validation:
            callbacks += [
                (
                    "valid_ua",
                    EpochScoring(_valid_ua, lower_is_better=False, name="valid_ua"),
                ),
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_ua",
                        lower_is_better=False,
                        patience=self.n_iter_no_change,
                        threshold=0.0,
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                ),
            ]
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs
                    ),
                )
            )
        if self.checkpoint is not None:  # after the LR schedule, whose state it restores
            identity = {
                "classes": _json_list(self.classes_),
                "input_shape": list(self.input_shape_),
            }
            callbacks.append(("checkpoint", _Checkpoint(self.checkpoint, identity)))
        return callbacks + list(self.callbacks or [])

    def _build_net(self, y: np.ndarray, valid_data: Any, context: Any = None) -> _SERNet:
        """The skorch net for this classifier's parameters (``y``: training class indices).

        ``valid_data``: the early-stopping validation set, or None; ``context``: the
        callback of ``speaker_context="random"``, or None.
        """
        n_classes = len(self.classes_)
        weight = None
        if self.class_weight == "balanced":
            # n / (n_classes * count), as scikit-learn's "balanced"; a class absent from
            # the training part (all its speakers held out) gets weight as if seen once.
            counts = np.maximum(np.bincount(y, minlength=n_classes), 1)
            weight = torch.as_tensor(len(y) / (n_classes * counts), dtype=torch.float32)
        elif isinstance(self.class_weight, dict):
            weight = torch.as_tensor(
                [float(self.class_weight.get(c, 1.0)) for c in self.classes_], dtype=torch.float32
            )
        # A batch of one sample breaks batch norm in training; drop such a remainder.
        drop_last = len(y) % self.batch_size == 1 and len(y) > self.batch_size
        module = self._module()
        lambda_recon = self._lambda_recon()
        shape = self.input_shape_
        if self.window_frames is not None and shape[-1] > self.window_frames:
            shape = (*shape[:-1], self.window_frames)
        train_split = None if valid_data is None else predefined_split(valid_data)
        params = {
            "module": module,
            "module__n_classes": n_classes,
            "module__input_shape": shape,
            "criterion": nn.CrossEntropyLoss,
            "criterion__weight": weight,
            "criterion__label_smoothing": float(self.label_smoothing),
            "optimizer": OPTIMIZERS.get(self.optimizer, self.optimizer),
            "optimizer__weight_decay": float(self.weight_decay),
            "lr": float(self.lr),
            "max_epochs": int(self.max_epochs),
            "batch_size": int(self.batch_size),
            "iterator_train__shuffle": True,
            "iterator_train__drop_last": drop_last,
            "train_split": train_split,
            "callbacks": self._build_callbacks(train_split is not None, context),
            "predict_nonlinearity": _softmax,
            "dataset": _ArrayDataset,
            "classes": np.arange(n_classes),
            "device": self.device_,
            "verbose": int(self.verbose),
            "lambda_center": float(self.lambda_center),
            "center_alpha": float(self.center_alpha),
            "lambda_recon": lambda_recon,
            "augment": self.augment,
            "mixed_precision": bool(self.mixed_precision),
            # With speaker standardisation the dataset has already standardised each row.
            "input_mean": self.feature_mean_ if self.standardize == "corpus" else None,
            "input_scale": self.feature_scale_,
            "window_frames": self.window_frames,
        }
        # Without a reconstruction loss, a decoder is dead weight: don't build it.
        if lambda_recon == 0 and "reconstruct" in inspect.signature(module).parameters:
            params["module__reconstruct"] = False
        params.update(self._routed_params())
        if self.accelerator is not None:
            params["device"] = None
            return _AcceleratedSERNet(accelerator=self.accelerator, **params)
        return _SERNet(**params)

    def _train(self, train_data: Any, seed: int) -> None:
        """Initialise the net and train it, in a random stream of its own (``seed``).

        A checkpoint, if any, is restored by its callback when training begins.
        """
        devices = [torch.device(self.device_)] if self.device_.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            self.net_.initialize()
            self.embedding_dim_ = self.net_.center_loss_.embedding_dim
            self.net_.partial_fit(train_data, None)

    # ---------------------------------------------------------------- fitted statistics
    @property
    def feature_mean_(self) -> np.ndarray:
        """Per-bin mean of the training data (float32)."""
        check_is_fitted(self, "scaler_")
        return self.scaler_.mean_.astype(np.float32)

    @property
    def feature_scale_(self) -> np.ndarray:
        """Per-bin standard deviation of the training data (float32)."""
        check_is_fitted(self, "scaler_")
        return self.scaler_.scale_.astype(np.float32)

    @property
    def speaker_scale_(self) -> np.ndarray:
        """Per-bin standard deviation within a training speaker (float32)."""
        check_is_fitted(self, "scaler_")
        return self.scaler_.speaker_scale_.astype(np.float32)

    @property
    def history_(self) -> Any:
        """The skorch History of the last fit (one dict per epoch)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    # ---------------------------------------------------------------- predict
    def _forward(self, X: Any, groups: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        groups = _check_groups(groups, len(X))
        data = X
        if self.standardize == "speaker":
            # groups=None: every sample with its own statistics, independent of the batch.
            data = _ArrayDataset(X, statistics=self.scaler_.speaker_statistics(X, groups))
        logits, embedding = self.net_.forward(data, training=False, device="cpu")
        return logits, embedding

    def predict_proba(self, X: Any, groups: Any = None) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like
            Features of the shape seen in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for ``standardize="speaker"`` (ignored otherwise).
            None: each sample is standardised alone.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1, columns in ``classes_`` order.
        """
        logits, _ = self._forward(X, groups)
        return _softmax(logits).numpy().astype(np.float64)

    def predict(self, X: Any, groups: Any = None) -> np.ndarray:
        """Predicted emotion labels.

        Parameters
        ----------
        X : array-like
            Features of the shape seen in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for ``standardize="speaker"`` (ignored otherwise).
            None: each sample is standardised alone.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels of the same kind as the ``y`` of :meth:`fit`.
        """
        logits, _ = self._forward(X, groups)
        return self.classes_[logits.argmax(dim=1).numpy()]

    def score(self, X: Any, y: Any, sample_weight: Any = None, groups: Any = None) -> float:
        """Accuracy (WA) on ``X``; use :func:`~sklearn_ser.metrics.unweighted_accuracy` for UA.

        Parameters
        ----------
        X : array-like
            Features of the shape seen in :meth:`fit`.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for ``standardize="speaker"`` (ignored otherwise).

        Returns
        -------
        score : float
        """
        return float(accuracy_score(y, self.predict(X, groups), sample_weight=sample_weight))

    def transform(self, X: Any, groups: Any = None) -> np.ndarray:
        """Embeddings: the discriminative features that center loss clusters by emotion.

        Parameters
        ----------
        X : array-like
            Features of the shape seen in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for ``standardize="speaker"`` (ignored otherwise).
            None: each sample is standardised alone.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_embedding)
            ``n_embedding`` is ``embedding_dim_``.
        """
        _, embedding = self._forward(X, groups)
        return embedding.float().numpy()

    def fit_transform(self, X: Any, y: Any = None, groups: Any = None) -> np.ndarray:
        """Fit, then return the embeddings of ``X``.

        Parameters
        ----------
        X : array-like
            Training features.
        y : array-like of shape (n_samples,)
            Emotion labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, passed to :meth:`fit` and :meth:`transform`.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_embedding)
        """
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the embedding dimensions: ``serclassifier0, serclassifier1, ...``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str of shape (n_embedding,)
        """
        check_is_fitted(self, "embedding_dim_")
        return np.asarray([f"serclassifier{i}" for i in range(self.embedding_dim_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags


class _RandomSpeakerContext(Callback):
    """``speaker_context="random"``: new speaker statistics for every training row each epoch.

    Row ``i`` is standardised with the statistics (shrunk as usual) of a random subset of
    its speaker's rows that contains ``i``, of a size drawn uniformly from 1 to all. The
    per-row moments are computed once; each epoch only sums them, so the data is read once.
    The draws come from ``(seed, epoch)``, so a resumed run draws the same.
    """

    def __init__(self, scaler: SpeakerStandardScaler, row_moments: Any, codes: np.ndarray):
        self.scaler = scaler
        self.row_moments = row_moments
        self.codes = codes
        self.dataset: _ArrayDataset | None = None
        self.seed = 0

    def draw(self, seed: int, epoch: int) -> SpeakerStatistics:
        """Each row's shrunk statistics over its subset (``codes`` = one row per sample)."""
        rng = np.random.default_rng([seed, epoch])
        return self.scaler._random_context_statistics(self.row_moments, self.codes, rng)

    def attach(self, dataset: _ArrayDataset, seed: int) -> None:
        self.dataset, self.seed = dataset, seed

    def on_epoch_begin(self, net: Any, **kwargs: Any) -> None:
        epoch = len(net.history) - 1  # skorch has opened the new epoch's row
        if epoch == 0 or self.dataset is None:
            return  # drawn when the dataset was made
        stats = self.draw(self.seed, epoch)
        self.dataset.codes = stats.codes
        self.dataset.mean = stats.mean.astype(np.float32)
        self.dataset.scale = stats.scale.astype(np.float32)


def _json_list(values: np.ndarray) -> str:
    return json.dumps([str(v) for v in values])


def _silent(*args: Any, **kwargs: Any) -> None:
    pass
