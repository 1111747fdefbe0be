"""SERClassifier: a scikit-learn classifier that trains the library's CNNs with skorch."""

from __future__ import annotations

import contextlib
import inspect
import json
import numbers
import os
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping, EpochScoring, LRScheduler, PassthroughScoring
from skorch.dataset import Dataset, unpack_data
from skorch.helper import predefined_split
from skorch.hf import AccelerateMixin
from skorch.history import History
from skorch.utils import to_tensor
from torch import nn
from torch.utils.data import Subset

from .models import CenterLoss, ModelOutput, MultitaskCNN

__all__ = ["SERClassifier"]

# Utterances of the training average that each speaker's statistics are shrunk toward.
_PRIOR_UTTERANCES = 5
_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
# Parameters routed to the skorch net, as skorch names them.
_ROUTED_PREFIXES = (
    "module__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
    "criterion__",
)


def _softmax(logits: torch.Tensor) -> torch.Tensor:
    # A named function (not a lambda) so that fitted models pickle.
    return torch.softmax(logits.float(), dim=-1)


def _valid_ua(net: NeuralNetClassifier, X: Any, y: Any) -> float:
    return balanced_accuracy_score(y, net.predict(X))


class _Moments(NamedTuple):
    """Per-speaker sums of each bin: ``codes`` maps samples to rows of the others."""

    codes: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    count: np.ndarray


class _ArrayDataset(Dataset):
    """skorch Dataset over an array (possibly a read-only memory map), row by row.

    With ``codes``, row ``i`` is standardised per bin (axis -2) with ``mean[codes[i]]`` and
    ``scale[codes[i]]``: the statistics of its speaker.
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        length: Any = None,
        *,
        codes: np.ndarray | None = None,
        mean: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ):
        super().__init__(X, y, length)
        self.codes, self.mean, self.scale = codes, mean, scale

    def __getitem__(self, i: int) -> tuple:
        Xi, yi = super().__getitem__(i)
        if self.codes is not None:
            code = self.codes[i]
            Xi = (Xi - self.mean[code][:, None]) / self.scale[code][:, None]
        return Xi, yi

    def transform(self, X: Any, y: Any) -> tuple:
        X, y = super().transform(X, y)
        if isinstance(X, np.ndarray) and not X.flags.writeable:
            X = np.array(X)
        return X, y


class _SERNet(NeuralNetClassifier):
    """skorch net whose loss is cross-entropy + center loss + reconstruction MSE.

    The hooks are skorch's: :meth:`initialize_criterion` adds the center loss (its centres
    are buffers, so they move with ``device`` and are saved with the weights),
    :meth:`get_loss` combines the three terms and records each in the history, and
    :meth:`train_step_single` augments the batch, stops on a non-finite loss and applies
    the centre update.
    """

    def __init__(
        self,
        *args: Any,
        lambda_center: float = 0.0,
        center_alpha: float = 0.5,
        lambda_recon: float = 0.0,
        augment: Any = None,
        mixed_precision: bool = False,
        input_mean: Any = None,
        input_scale: Any = None,
        window_frames: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.window_frames = window_frames
        self.input_mean = input_mean
        self.input_scale = input_scale
        self.lambda_center = lambda_center
        self.center_alpha = center_alpha
        self.lambda_recon = lambda_recon
        self.augment = augment
        self.mixed_precision = mixed_precision

    def initialize_criterion(self) -> _SERNet:
        super().initialize_criterion()
        # skorch builds the module before the criterion, so its embedding size is known.
        self.center_loss_ = CenterLoss(
            self.module__n_classes, self._probe_embedding_dim(), alpha=self.center_alpha
        )
        return self

    def _probe_embedding_dim(self) -> int:
        module = self.module_
        if hasattr(module, "embedding_dim"):
            return int(module.embedding_dim)
        shape = (2, *self.module__input_shape)
        was_training = module.training
        module.eval()
        with torch.no_grad():
            out = module(torch.zeros(shape, device=self.device))
        module.train(was_training)
        return int(out[1].shape[1])

    def standardize(self, X: Any) -> torch.Tensor:
        """Move a batch to the device and standardise each bin (axis -2).

        Done per batch, not on the whole array, so that memory-mapped features stream
        from disk instead of being copied into memory.
        """
        X = to_tensor(X, device=self.device).float()
        if self.input_mean is None:
            return X
        shape = [1] * X.ndim
        shape[-2] = -1
        mean = torch.as_tensor(self.input_mean, device=X.device).view(shape)
        scale = torch.as_tensor(self.input_scale, device=X.device).view(shape)
        return (X - mean) / scale

    def _random_crop(self, X: torch.Tensor) -> torch.Tensor:
        """One random window per sample (training): a random time shift of the utterance."""
        n_frames, window = X.shape[-1], self.window_frames
        if window is None or n_frames <= window:
            return X
        starts = torch.randint(0, n_frames - window + 1, (X.shape[0],))
        return torch.stack([x[..., int(s) : int(s) + window] for x, s in zip(X, starts)])

    def _windowed_infer(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and embeddings averaged over half-overlapping windows covering X."""
        n_frames, window = X.shape[-1], self.window_frames
        if window is None or n_frames <= window:
            out = self.infer(X)
            return out.logits, out.embedding
        hop = max(window // 2, 1)
        starts = list(range(0, n_frames - window + 1, hop))
        if starts[-1] != n_frames - window:
            starts.append(n_frames - window)  # the last window ends on the last frame
        windows = torch.cat([X[..., s : s + window] for s in starts])
        out = self.infer(windows)
        n = X.shape[0]
        logits = out.logits.view(len(starts), n, -1).mean(0)
        embedding = out.embedding.view(len(starts), n, -1).mean(0)
        return logits, embedding

    def _autocast(self) -> Any:
        if not self.mixed_precision:
            return contextlib.nullcontext()
        device_type = torch.device(self.device or "cpu").type
        return torch.autocast(
            device_type=device_type, dtype=torch.bfloat16, enabled=bool(self.mixed_precision)
        )

    def infer(self, x: Any, **fit_params: Any) -> ModelOutput:
        with self._autocast():
            out = super().infer(x, **fit_params)
        if not isinstance(out, tuple) or len(out) != 3:
            raise TypeError(
                f"{type(self.module_).__name__}.forward must return (logits, embedding, "
                f"reconstruction), e.g. a sklearn_ser.models.ModelOutput; got {type(out)}."
            )
        if self.mixed_precision:
            out = ModelOutput(*(None if t is None else t.float() for t in out))
        return ModelOutput(*out)

    def get_loss(
        self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        logits, embedding, reconstruction = y_pred
        y_true = to_tensor(y_true, device=self.device)
        ce = self.criterion_(logits, y_true)
        loss = ce
        prefix = "train" if training else "valid"
        self.history.record_batch(f"{prefix}_ce", ce.item())
        if self.lambda_center > 0:
            center = self.center_loss_(embedding, y_true)
            loss = loss + self.lambda_center * center
            self.history.record_batch(f"{prefix}_center", center.item())
        if self.lambda_recon > 0 and reconstruction is None:
            raise ValueError(
                f"lambda_recon={self.lambda_recon} needs a module with a decoder, but "
                f"{type(self.module_).__name__} returned no reconstruction; set "
                "lambda_recon=0 (CNNLSTM has no decoder)."
            )
        if self.lambda_recon > 0:
            target = to_tensor(X, device=self.device)
            recon = nn.functional.mse_loss(reconstruction, target)
            loss = loss + self.lambda_recon * recon
            self.history.record_batch(f"{prefix}_recon", recon.item())
        return loss

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict:
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi = self._random_crop(self.standardize(Xi))
        X_in = self.augment(Xi) if self.augment is not None else Xi
        y_pred = self.infer(X_in, **fit_params)
        # The clean input is the reconstruction target: with augmentation the decoder
        # learns to fill in what was masked.
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not torch.isfinite(loss):
            epoch = len(self.history)
            batch_idx = len(self.history[-1]["batches"])
            raise FloatingPointError(
                f"Training loss became {loss.item()} at epoch {epoch}, batch {batch_idx}; "
                "training stopped and the model keeps its last finite-loss weights. "
                "Lower lr, or check the input features for extreme values."
            )
        self._backward(loss)
        if self.lambda_center > 0:
            self.center_loss_.update_centers(y_pred.embedding, to_tensor(yi, self.device))
        return {"loss": loss, "y_pred": (y_pred.logits, y_pred.embedding)}

    def _backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def validation_step(self, batch: Any, **fit_params: Any) -> dict:
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        Xi = self.standardize(Xi)
        with torch.no_grad():
            if self.window_frames is not None and Xi.shape[-1] > self.window_frames:
                logits, embedding = self._windowed_infer(Xi)
                y_true = to_tensor(yi, device=self.device)
                loss = self.criterion_(logits, y_true)
                self.history.record_batch("valid_ce", loss.item())
            else:
                out = self.infer(Xi, **fit_params)
                loss = self.get_loss(out, yi, X=Xi, training=False)
                logits, embedding = out.logits, out.embedding
        # Cached by scoring callbacks, which move outputs as plain tuples of tensors.
        return {"loss": loss, "y_pred": (logits, embedding)}

    def evaluation_step(self, batch: Any, training: bool = False) -> tuple:
        # skorch moves outputs between devices as plain tuples of tensors:
        # drop the reconstruction (possibly None), keep (logits, embedding).
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training):
            self._set_training(training)
            return self._windowed_infer(self.standardize(Xi))


class _Checkpointer(Callback):
    """Save the whole training state after every epoch; restore the LR schedule on resume.

    The file holds tensors and plain Python values only, written atomically, and is read
    back with ``torch.load(weights_only=True)``, which runs no code.
    """

    def __init__(self, path: Path, identity: dict, resume_state: dict | None = None):
        self.path = path
        self.identity = identity
        self.resume_state = resume_state

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        scheduler = dict(net.callbacks_).get("lr_schedule")
        if self.resume_state is not None and scheduler is not None:
            scheduler.lr_scheduler_.load_state_dict(self.resume_state["scheduler"])

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        scheduler = dict(net.callbacks_).get("lr_schedule")
        state = {
            **self.identity,
            "module": net.module_.state_dict(),
            "centers": net.center_loss_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "scheduler": scheduler.lr_scheduler_.state_dict() if scheduler else {},
            "rng": torch.get_rng_state(),
            "history": json.dumps(net.history.to_list()),
        }
        tmp = self.path.with_name(self.path.name + ".part")
        torch.save(state, tmp)
        os.replace(tmp, self.path)


class _AcceleratedSERNet(AccelerateMixin, _SERNet):
    """_SERNet trained through Hugging Face Accelerate (multi-GPU, multi-node).

    The mixin prepares module, optimiser and data loaders; the training step stays this
    library's (standardisation, augmentation, centre updates), with Accelerate's backward.
    """

    train_step_single = _SERNet.train_step_single

    def _backward(self, loss: torch.Tensor) -> None:
        self.accelerator.backward(loss)

    def infer(self, x: Any, **fit_params: Any) -> ModelOutput:
        with self.accelerator.autocast():
            return super().infer(x, **fit_params)


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
    lambda_recon : float, default=0.1
        Weight of the reconstruction loss (needs a module with a decoder).
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
        utterances, in :meth:`fit` and at prediction, which removes much of what tells
        speakers apart (vocal tract, level, recording channel) and helps on speakers never
        heard. It needs no labels, only ``groups`` (speaker ids) passed to :meth:`fit` and
        to :meth:`predict`, :meth:`predict_proba`, :meth:`transform` or :meth:`score`;
        without ``groups`` all of ``X`` counts as one speaker, so predictions then depend
        on what else is in ``X``. A speaker's statistics are shrunk toward the training
        set's as if it had 5 more utterances of the training average, so one utterance
        alone is standardised mostly like "corpus" does.
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
    feature_mean_, feature_scale_ : ndarray of shape (n_bins,)
        Per-bin mean and standard deviation of the training data.
    speaker_scale_ : ndarray of shape (n_bins,)
        Per-bin standard deviation within a speaker, pooled over the training speakers
        (``groups``; all of the training data without them).
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

    def __init__(
        self,
        module: Any = None,
        *,
        lambda_center: float = 0.01,
        center_alpha: float = 0.5,
        lambda_recon: float = 0.1,
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
        def fail(name: str, expected: str) -> None:
            raise ValueError(
                f"SERClassifier: {name} must be {expected}, got {getattr(self, name)!r}."
            )

        def is_int(v: Any) -> bool:
            return isinstance(v, numbers.Integral) and not isinstance(v, bool)

        def is_real(v: Any) -> bool:
            return isinstance(v, numbers.Real) and not isinstance(v, bool)

        for name in ("max_epochs", "batch_size", "n_iter_no_change"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                fail(name, "an int >= 1")
        for name in ("lambda_center", "lambda_recon", "weight_decay", "label_smoothing"):
            value = getattr(self, name)
            if not is_real(value) or not np.isfinite(value) or value < 0:
                fail(name, "a finite float >= 0")
        if not is_real(self.lr) or not np.isfinite(self.lr) or self.lr <= 0:
            fail("lr", "a finite float > 0")
        if not is_real(self.center_alpha) or not 0 <= self.center_alpha <= 1:
            fail("center_alpha", "a float in [0, 1]")
        if not is_real(self.label_smoothing) or self.label_smoothing >= 1:
            fail("label_smoothing", "a float in [0, 1)")
        if not is_real(self.validation_fraction) or not 0 < self.validation_fraction < 1:
            fail("validation_fraction", "a float in (0, 1)")
        if self.standardize not in ("corpus", "speaker"):
            fail("standardize", "'corpus' or 'speaker'")
        if self.lr_schedule not in ("cosine", None):
            fail("lr_schedule", "'cosine' or None")
        if not (
            self.optimizer in _OPTIMIZERS
            or (
                isinstance(self.optimizer, type)
                and issubclass(self.optimizer, torch.optim.Optimizer)
            )
        ):
            fail("optimizer", f"one of {sorted(_OPTIMIZERS)} or a torch.optim.Optimizer class")
        if not (self.class_weight in (None, "balanced") or isinstance(self.class_weight, dict)):
            fail("class_weight", "'balanced', a dict or None")
        if self.module is not None and not (
            isinstance(self.module, type) and issubclass(self.module, nn.Module)
        ):
            fail("module", "a torch.nn.Module class or None")
        if self.augment is not None and not callable(self.augment):
            fail("augment", "a callable or None")
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            fail("callbacks", "a list of skorch callbacks or None")
        if not isinstance(self.device, str):
            fail("device", "'auto', 'cpu', 'cuda' or 'cuda:N'")
        if self.window_frames is not None and (
            not is_int(self.window_frames) or self.window_frames < 1
        ):
            fail("window_frames", "an int >= 1 or None")
        _check_routed(self._routed_params())

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

    @staticmethod
    def _speaker_moments(X: np.ndarray, groups: Any, chunk: int = 256) -> _Moments:
        """Per-speaker sum, sum of squares and count of the values of each bin (axis -2).

        Without ``groups`` all of ``X`` is one speaker. Accumulated over chunks of samples
        in float64, so a memory map is never loaded whole.
        """
        groups = _check_groups(groups, len(X))
        if groups is None:
            codes = np.zeros(len(X), dtype=np.intp)
        else:
            codes = np.unique(groups, return_inverse=True)[1].ravel()
        n_groups = int(codes.max()) + 1
        axes = tuple(i for i in range(1, X.ndim) if i != X.ndim - 2)
        n_bins = X.shape[-2]
        total, total_sq = np.zeros((n_groups, n_bins)), np.zeros((n_groups, n_bins))
        for start in range(0, X.shape[0], chunk):
            part = np.asarray(X[start : start + chunk], dtype=np.float64)
            part_codes = codes[start : start + chunk]
            np.add.at(total, part_codes, part.sum(axis=axes))
            np.add.at(total_sq, part_codes, np.square(part).sum(axis=axes))
        cells = int(np.prod(X.shape[1:])) // n_bins  # values of one bin in one sample
        count = np.bincount(codes, minlength=n_groups).astype(np.float64) * cells
        return _Moments(codes, total, total_sq, count)

    def _training_statistics(self, moments: _Moments) -> None:
        """Per-bin mean and std of the training set, and the std within its speakers."""
        total, total_sq, count = moments.total, moments.total_sq, moments.count
        mean = total.sum(0) / count.sum()
        std = np.sqrt(np.maximum(total_sq.sum(0) / count.sum() - mean**2, 0.0))
        group_mean = total / count[:, None]
        within = (total_sq - count[:, None] * group_mean**2).sum(0) / count.sum()
        self.feature_mean_ = mean.astype(np.float32)
        self.feature_scale_ = np.maximum(std, 1e-6).astype(np.float32)
        self.speaker_scale_ = np.maximum(np.sqrt(np.maximum(within, 0.0)), 1e-6).astype(np.float32)

    def _dataset(
        self, X: np.ndarray, y: np.ndarray | None, groups: Any, moments: _Moments | None = None
    ) -> _ArrayDataset:
        """``X`` as a dataset; with ``standardize="speaker"``, standardised per speaker.

        ``moments``: those of ``_speaker_moments(X, groups)`` when already computed.
        """
        if self.standardize != "speaker":
            return _ArrayDataset(X, y)
        if moments is None:
            moments = self._speaker_moments(X, groups)
        total, total_sq, count = moments.total, moments.total_sq, moments.count
        own_mean = total / count[:, None]
        own_var = np.maximum(total_sq / count[:, None] - own_mean**2, 0.0)
        # Shrink each speaker's statistics toward the training set's (mean) and its
        # speakers' (spread), as if the speaker had _PRIOR_UTTERANCES more utterances:
        # a lone utterance is not standardised by its own statistics alone, which would
        # erase its level and spread.
        prior = _PRIOR_UTTERANCES * count.sum() / len(X)
        weight = (count / (count + prior))[:, None]
        mean = weight * own_mean + (1 - weight) * self.feature_mean_.astype(np.float64)
        var = weight * own_var + (1 - weight) * self.speaker_scale_.astype(np.float64) ** 2
        scale = np.maximum(np.sqrt(var), 1e-6)
        return _ArrayDataset(
            X,
            y,
            codes=moments.codes,
            mean=mean.astype(np.float32),
            scale=scale.astype(np.float32),
        )

    def _resolve_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(self.device)
        except RuntimeError:
            raise ValueError(
                f"SERClassifier: device must be 'auto', 'cpu', 'cuda' or 'cuda:N', "
                f"got {self.device!r}."
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"SERClassifier: device={self.device!r} but CUDA is not available here; "
                "use device='auto' or 'cpu'."
            )
        return self.device

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
            stacklevel=3,
        )
        try:
            splitter = StratifiedShuffleSplit(
                1, test_size=self.validation_fraction, random_state=seed
            )
            return next(splitter.split(y, y))
        except ValueError:  # a class too small to stratify
            splitter = GroupShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
            return next(splitter.split(y, y, np.arange(len(y))))

    # ---------------------------------------------------------------- fit
    def _build_callbacks(self, with_validation: bool, checkpointer: Any = None) -> list:
        callbacks: list = [("train_ce", PassthroughScoring("train_ce", on_train=True))]
        if self.lambda_center > 0:
            callbacks.append(("train_center", PassthroughScoring("train_center", on_train=True)))
        if self.lambda_recon > 0:
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
        if checkpointer is not None:  # after the LR schedule, whose state it restores
            callbacks.append(("checkpoint", checkpointer))
        return callbacks + list(self.callbacks or [])

    def fit(self, X: Any, y: Any, groups: Any = None) -> SERClassifier:
        """Train the network.

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
            speaker-disjoint, and is needed by ``standardize="speaker"``.

        Returns
        -------
        self : SERClassifier
            The fitted classifier.
        """
        self._validate_params()
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
        # One pass over X (possibly a memory map) gives the training statistics and, for
        # speaker standardisation, each training speaker's.
        moments = self._speaker_moments(X, groups)
        self._training_statistics(moments)
        y_encoded = y_encoded.astype(np.int64)
        self.device_ = self._resolve_device()

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        # Datasets and their subsets index lazily: no copy of X (which may be a memory map).
        full = self._dataset(X, y_encoded, groups, moments)
        train_split, train_data, y_train = None, full, y_encoded
        if self.early_stopping:
            train_idx, valid_idx = self._split(y_encoded, groups, rng)
            train_split = predefined_split(Subset(full, valid_idx))
            train_data, y_train = Subset(full, train_idx), y_encoded[train_idx]

        checkpointer, resume = None, None
        if self.checkpoint is not None:
            identity = {
                "classes": json.dumps([str(c) for c in self.classes_]),
                "input_shape": list(self.input_shape_),
            }
            resume = self._read_checkpoint(identity)
            checkpointer = _Checkpointer(Path(self.checkpoint), identity, resume)
        self.net_ = self._build_net(y_train, train_split, checkpointer)
        devices = [torch.device(self.device_)] if self.device_.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            self.net_.initialize()
            self.embedding_dim_ = self.net_.center_loss_.embedding_dim
            epochs = self.max_epochs
            if resume is not None:
                self.net_.module_.load_state_dict(resume["module"])
                self.net_.center_loss_.load_state_dict(resume["centers"])
                self.net_.optimizer_.load_state_dict(resume["optimizer"])
                self.net_.history = History(json.loads(resume["history"]))
                torch.set_rng_state(resume["rng"])
                epochs -= len(self.net_.history)
            if epochs > 0:
                self.net_.partial_fit(train_data, None, epochs=epochs)
        return self

    def _read_checkpoint(self, identity: dict) -> dict | None:
        path = Path(self.checkpoint)
        if not path.exists():
            return None
        try:
            state = torch.load(path, map_location=self.device_, weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"SERClassifier: checkpoint={str(path)!r} is not a readable checkpoint ({exc}); "
                "delete it to train from scratch."
            ) from exc
        if any(state.get(k) != v for k, v in identity.items()):
            raise ValueError(
                f"SERClassifier: checkpoint={str(path)!r} was saved for other data (classes "
                f"{state.get('classes')}, input shape {state.get('input_shape')}); delete it or "
                "choose another file."
            )
        return state

    def _build_net(self, y: np.ndarray, train_split: Any, checkpointer: Any = None) -> _SERNet:
        n_classes = len(self.classes_)
        routed = self._routed_params()
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
        optimizer = _OPTIMIZERS.get(self.optimizer, self.optimizer)
        # A batch of one sample breaks batch norm in training; drop such a remainder.
        drop_last = len(y) % self.batch_size == 1 and len(y) > self.batch_size
        module = self.module or MultitaskCNN
        shape = self.input_shape_
        if self.window_frames is not None and shape[-1] > self.window_frames:
            shape = (*shape[:-1], self.window_frames)
        params = {
            "module": module,
            "module__n_classes": n_classes,
            "module__input_shape": shape,
            "criterion": nn.CrossEntropyLoss,
            "criterion__weight": weight,
            "criterion__label_smoothing": float(self.label_smoothing),
            "optimizer": optimizer,
            "optimizer__weight_decay": float(self.weight_decay),
            "lr": float(self.lr),
            "max_epochs": int(self.max_epochs),
            "batch_size": int(self.batch_size),
            "iterator_train__shuffle": True,
            "iterator_train__drop_last": drop_last,
            "train_split": train_split,
            "callbacks": self._build_callbacks(train_split is not None, checkpointer),
            "predict_nonlinearity": _softmax,
            "dataset": _ArrayDataset,
            "classes": np.arange(n_classes),
            "device": self.device_,
            "verbose": int(self.verbose),
            "lambda_center": float(self.lambda_center),
            "center_alpha": float(self.center_alpha),
            "lambda_recon": float(self.lambda_recon),
            "augment": self.augment,
            "mixed_precision": bool(self.mixed_precision),
            # With speaker standardisation the dataset has already standardised each row.
            "input_mean": self.feature_mean_ if self.standardize == "corpus" else None,
            "input_scale": self.feature_scale_,
            "window_frames": self.window_frames,
        }
        # Without a reconstruction loss, a decoder is dead weight: don't build it.
        if self.lambda_recon == 0 and "reconstruct" in inspect.signature(module).parameters:
            params["module__reconstruct"] = False
        params.update(routed)
        if self.accelerator is not None:
            params["device"] = None
            return _AcceleratedSERNet(accelerator=self.accelerator, **params)
        return _SERNet(**params)

    # ---------------------------------------------------------------- predict
    @property
    def history_(self) -> Any:
        """The skorch History of the last fit (one dict per epoch)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def _forward(self, X: Any, groups: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        data = self._dataset(X, None, groups) if self.standardize == "speaker" else X
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


def _silent(*args: Any, **kwargs: Any) -> None:
    pass


def _check_groups(groups: Any, n_samples: int) -> np.ndarray | None:
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (n_samples,):
        raise ValueError(
            f"groups must have one entry per sample ({n_samples}), got shape {groups.shape}."
        )
    return groups


def _check_routed(params: dict) -> None:
    bad = [k for k in params if not k.startswith(_ROUTED_PREFIXES)]
    if bad:
        raise ValueError(
            f"SERClassifier got unexpected keyword argument(s) {bad}; extra parameters must "
            f"start with one of {list(_ROUTED_PREFIXES)}."
        )
