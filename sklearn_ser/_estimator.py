"""SERClassifier: a scikit-learn classifier that trains the library's CNNs with skorch.

The estimator holds the parameters, validates them (one constraints table) and fits in a
few named steps. Speaker statistics come from :mod:`sklearn_ser.preprocessing` (the one
place they are computed, through the scaler's public interface); the skorch net, its
dataset, losses, training step, callbacks and their assembly are in :mod:`sklearn_ser._net`.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._device import resolve_device
from ._groups import check_groups

# _SERNet & co. are also reachable here, where models pickled before the split look for them.
from ._net import (
    OPTIMIZERS,
    _AcceleratedSERNet,  # noqa: F401
    _ArrayDataset,
    _Checkpoint,  # noqa: F401
    _input_statistics,
    _NetMixin,
    _RandomSpeakerContext,  # noqa: F401
    _scaler_view,
    _SERNet,  # noqa: F401
    _softmax,
    _training_data,
    _validation_split,
)
from ._param_validation import SubclassOf
from .preprocessing import SpeakerStatistics

__all__ = ["SERClassifier"]


class SERClassifier(
    _NetMixin,
    ClassNamePrefixFeaturesOutMixin,
    ClassifierMixin,
    TransformerMixin,
    BaseEstimator,
):
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

    **Speaker context.** A prediction depends only on the sample itself unless the caller
    passes ``groups`` (speaker ids) to say which samples share a speaker; every method
    requests them through scikit-learn's metadata routing (see ``standardize``).

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
    mixup_alpha : float, default=0.0
        Mixup (Zhang et al., ICLR 2018) of the standardised training inputs: each batch
        mixed with a shuffled copy of itself, and its cross-entropy likewise, by a weight
        drawn from Beta(alpha, alpha). 0: off.
    ema_decay : float or None, default=None
        Keep an exponential moving average of the weights over the training steps with
        this decay (e.g. 0.999), instead of the last weights. None: off.
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
    interrupted_ : bool
        Whether Ctrl-C stopped :meth:`fit` early (as in skorch, the model is kept with
        the best weights so far, and a warning says it is only partly trained).
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

    References
    ----------
    .. [1] Tripathi et al., "Learning discriminative features using center loss and
       reconstruction as regularizer for speech emotion recognition", IJCAI 2019
       workshop (AI in Affective Computing), PMLR 122.
    .. [2] Y. Wen, K. Zhang, Z. Li and Y. Qiao, "A discriminative feature learning approach
       for deep face recognition", ECCV 2016 (center loss).

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
        "module": [None, SubclassOf(nn.Module, "a torch.nn.Module class")],
        "lambda_center": [Interval(Real, 0, None, closed="left")],
        "center_alpha": [Interval(Real, 0, 1, closed="both")],
        "lambda_recon": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [
            StrOptions(set(OPTIMIZERS)),
            SubclassOf(torch.optim.Optimizer, "a torch.optim.Optimizer class"),
        ],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "augment": [callable, None],
        "mixup_alpha": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="neither"), None],
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
        mixup_alpha: float = 0.0,
        ema_decay: float | None = None,
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
        self.mixup_alpha = mixup_alpha
        self.ema_decay = ema_decay
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
        X, y, groups = self._check_training_data(X, y, groups)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.device_ = resolve_device(self.device, "SERClassifier")
        self.scaler_, statistics = _input_statistics(
            X, groups, self.standardize, self.speaker_context
        )
        split = None
        if self.early_stopping:
            split_seed = rng.randint(np.iinfo(np.int32).max)
            split = _validation_split(y, groups, self.validation_fraction, split_seed)
        train_data, valid_data, y_train, context = _training_data(X, y, statistics, seed, split)
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
        groups = check_groups(groups, len(y))
        self.input_shape_ = tuple(X.shape[1:])
        if self.window_frames is not None and X.ndim != 3:
            raise ValueError(
                f"SERClassifier: window_frames applies to 3-D input (n_samples, n_bins, "
                f"n_frames), got X of shape {X.shape}; set window_frames=None."
            )
        return X, y_encoded.astype(np.int64), groups

    feature_mean_ = _scaler_view("mean_", "Per-bin mean of the training data (float32).")
    feature_scale_ = _scaler_view("scale_", "Per-bin standard deviation of the training data.")
    speaker_scale_ = _scaler_view("speaker_scale_", "Per-bin spread within a training speaker.")

    def _forward(
        self, X: Any, groups: Any = None, statistics: SpeakerStatistics | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        groups = check_groups(groups, len(X))
        data = X
        if self.standardize == "speaker":
            if statistics is None:  # groups=None: each sample alone, whatever the batch
                statistics = self.scaler_.speaker_statistics(X, groups)
            elif statistics.codes.shape != (len(X),):
                raise ValueError(
                    f"statistics.codes must have one entry per sample of X ({len(X)}), got "
                    f"shape {statistics.codes.shape}."
                )
            data = _ArrayDataset(X, statistics=statistics)
        return self.net_.forward(data, training=False, device="cpu")

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

    def predict_proba_with_statistics(self, X: Any, statistics: SpeakerStatistics) -> np.ndarray:
        """Class probabilities, each row standardised with the speaker statistics given.

        For statistics known beyond ``X``: a long recording classified window batch by
        window batch with the statistics of all its windows
        (:func:`~sklearn_ser.predict_timeline`), or a speaker's files classified in parts.
        ``predict_proba(X, groups)`` is ``predict_proba_with_statistics(X,
        scaler_.speaker_statistics(X, groups))``. With ``standardize="corpus"`` the
        statistics are ignored and the training set's are used, as in :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like
            Features of the shape seen in :meth:`fit`.
        statistics : SpeakerStatistics
            ``codes`` of shape (n_samples,) indexing the rows of ``mean`` and ``scale``
            (n_speakers, n_bins), e.g. from ``scaler_.statistics_from_moments``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser import SERClassifier
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(8, 4, 6)).astype(np.float32)
        >>> y, speakers = np.array([0, 1] * 4), np.repeat([0, 1], 4)
        >>> clf = SERClassifier(standardize="speaker", max_epochs=1, module__channels=(4,),
        ...                     random_state=0).fit(X, y, groups=speakers)
        >>> moments = SpeakerStandardScaler.moments(X, speakers)  # e.g. summed over parts
        >>> stats = clf.scaler_.statistics_from_moments(moments)
        >>> bool(np.allclose(clf.predict_proba_with_statistics(X, stats),
        ...                  clf.predict_proba(X, groups=speakers)))
        True
        """
        logits, _ = self._forward(X, statistics=statistics)
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

    @property
    def _n_features_out(self) -> int:
        # Names from ClassNamePrefixFeaturesOutMixin: serclassifier0, serclassifier1, ...
        return self.embedding_dim_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags
