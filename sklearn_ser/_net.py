"""The skorch net that SERClassifier trains: dataset, losses, training step, checkpoints.

:class:`~sklearn_ser.SERClassifier` is the scikit-learn face (parameters, validation,
statistics); everything torch does during training lives here:

- :class:`_ArrayDataset`: rows of an array (possibly a read-only memory map), each
  standardised with its speaker's statistics when given them;
- :class:`_SERNet`: skorch's ``NeuralNetClassifier`` whose loss combines cross-entropy,
  center loss and reconstruction, and whose training step crops, augments and updates the
  class centres; :class:`_AcceleratedSERNet` trains it through Hugging Face Accelerate;
- :class:`_Checkpoint`: one callback that both saves the training state after every epoch
  and restores it when training starts again; :class:`_RandomSpeakerContext`: new speaker
  statistics for every training row each epoch; :class:`_WeightAverage`: an exponential
  moving average of the weights, which the trained model keeps;
- the assembly of the net from a SERClassifier's parameters (:func:`_make_net`,
  :func:`_callbacks`, :class:`_SkorchParams` for the ``module__*``-style parameters).

Its names are private to the package's SERClassifier (:mod:`sklearn_ser._estimator`), the
only module that imports them.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit
from sklearn.utils.validation import check_is_fitted
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
from .preprocessing import DEFAULT_PRIOR_UTTERANCES, SpeakerStandardScaler, SpeakerStatistics

__all__: list[str] = []

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def _softmax(logits: torch.Tensor) -> torch.Tensor:
    # A named function (not a lambda) so that fitted models pickle.
    return torch.softmax(logits.float(), dim=-1)


def _valid_ua(net: NeuralNetClassifier, X: Any, y: Any) -> float:
    return balanced_accuracy_score(y, net.predict(X))


class _ArrayDataset(Dataset):
    """skorch Dataset over an array (possibly a read-only memory map), row by row.

    With ``statistics`` (a :class:`~sklearn_ser.preprocessing.SpeakerStatistics`), row
    ``i`` is standardised per bin (axis -2) with ``mean[codes[i]]`` and
    ``scale[codes[i]]``: the statistics of its speaker. Rows are read and standardised one
    at a time, so a memory map is never copied whole.
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        length: Any = None,
        *,
        statistics: SpeakerStatistics | None = None,
    ):
        super().__init__(X, y, length)
        self.codes = self.mean = self.scale = None
        if statistics is not None:
            self.codes = statistics.codes
            self.mean = statistics.mean.astype(np.float32)
            self.scale = statistics.scale.astype(np.float32)

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


class _MixedTargets(NamedTuple):
    """Targets of a mixup batch: ``weight * first + (1 - weight) * second``."""

    first: torch.Tensor  # the dominant sample's labels (weight >= 0.5)
    second: torch.Tensor
    weight: float


class _SERNet(NeuralNetClassifier):
    """skorch net whose loss is cross-entropy + center loss + reconstruction MSE.

    The hooks are skorch's: :meth:`initialize_criterion` adds the center loss (its centres
    are buffers, so they move with ``device`` and are saved with the weights),
    :meth:`get_loss` combines the three terms and records each in the history, and
    :meth:`train_step_single` mixes (mixup) and augments the batch, stops on a non-finite
    loss and applies the centre update. :meth:`fit_loop` without ``epochs`` trains up to
    ``max_epochs`` in all, so a run resumed from a :class:`_Checkpoint` trains only the epochs left.
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
        mixup_alpha: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.window_frames = window_frames
        self.mixup_alpha = mixup_alpha
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

    def fit_loop(self, X: Any, y: Any = None, epochs: int | None = None, **fit_params: Any):
        # Up to max_epochs in all: after a resume, whose history the checkpoint restored
        # in on_train_begin, only the epochs left.
        if epochs is None:
            epochs = max(self.max_epochs - len(self.history), 0)
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            # skorch swallows it after this; the estimator re-raises once training has
            # ended, so an interrupted fit never looks like a finished one.
            self.interrupted_ = True
            raise

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

    def _mixup(self, X: torch.Tensor, y: Any) -> tuple[torch.Tensor, Any]:
        """Mixup (Zhang et al., 2018): each sample mixed with another of the batch.

        The weight is drawn from Beta(alpha, alpha) per batch and folded to >= 0.5, so the
        first labels are the dominant ones (those of center loss and its update).
        """
        if not self.mixup_alpha or len(X) < 2:
            return X, y
        y = to_tensor(y, device=self.device)
        alpha = torch.tensor(float(self.mixup_alpha))
        weight = float(torch.distributions.Beta(alpha, alpha).sample())
        weight = max(weight, 1.0 - weight)
        perm = torch.randperm(len(X)).to(X.device)
        return weight * X + (1.0 - weight) * X[perm], _MixedTargets(y, y[perm], weight)

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
        """``CE + lambda_center * center + lambda_recon * MSE``, each part in the history."""
        logits, embedding, reconstruction = y_pred
        mixed = y_true if isinstance(y_true, _MixedTargets) else None
        y_true = to_tensor(y_true if mixed is None else mixed.first, device=self.device)
        ce = self.criterion_(logits, y_true)
        if mixed is not None:
            ce = mixed.weight * ce + (1.0 - mixed.weight) * self.criterion_(logits, mixed.second)
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
                "lambda_recon=0 or 'auto' (CNNLSTM has no decoder)."
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
        Xi, targets = self._mixup(self._random_crop(self.standardize(Xi)), yi)
        X_in = self.augment(Xi) if self.augment is not None else Xi
        y_pred = self.infer(X_in, **fit_params)
        # The clean input is the reconstruction target: with augmentation the decoder
        # learns to fill in what was masked.
        loss = self.get_loss(y_pred, targets, X=Xi, training=True)
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
            # Reduced over processes under DDP / Accelerate: one set of centres for all.
            labels = targets.first if isinstance(targets, _MixedTargets) else yi
            self.center_loss_.update_centers(y_pred.embedding, to_tensor(labels, self.device))
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


class _Checkpoint(Callback):
    """Save the whole training state after every epoch, and resume from it.

    One object owns both halves that skorch splits into ``Checkpoint`` and
    ``LoadInitState``. When training begins and ``path`` exists, the module, class centres,
    optimiser, learning-rate schedule, history and torch random generator are restored
    from it (after checking it was written for the same ``identity``: classes and input
    shape), so that :meth:`_SERNet.fit_loop` trains only the epochs left. After every
    epoch the state is written atomically.

    The file holds tensors and plain Python values only, and is read back with
    ``torch.load(weights_only=True)``, which runs no code. Place it after the learning-rate
    scheduler in the callbacks, whose state it restores.

    Parameters
    ----------
    path : path-like
        The checkpoint file.
    identity : dict
        JSON-able values that must match for a file to be resumed.
    owner : str, default="SERClassifier"
        Named in error messages.
    """

    def __init__(self, path: Any, identity: dict, owner: str = "SERClassifier"):
        self.path = path
        self.identity = identity
        self.owner = owner

    def _read(self, net: Any) -> dict | None:
        path = Path(self.path)
        if not path.exists():
            return None
        try:
            state = torch.load(path, map_location=net.device or "cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"{self.owner}: checkpoint={str(path)!r} is not a readable checkpoint ({exc}); "
                "delete it to train from scratch."
            ) from exc
        if any(state.get(k) != v for k, v in self.identity.items()):
            raise ValueError(
                f"{self.owner}: checkpoint={str(path)!r} was saved for other data (classes "
                f"{state.get('classes')}, input shape {state.get('input_shape')}); delete it "
                "or choose another file."
            )
        return state

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        state = self._read(net)
        if state is None:
            return
        net.module_.load_state_dict(state["module"])
        net.center_loss_.load_state_dict(state["centers"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.history = History(json.loads(state["history"]))
        scheduler = dict(net.callbacks_).get("lr_schedule")
        if scheduler is not None:
            scheduler.lr_scheduler_.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        average = dict(net.callbacks_).get("weight_average")
        if average is not None and state.get("average"):
            average.average_, average.steps_ = state["average"], int(state["average_steps"])

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
        average = dict(net.callbacks_).get("weight_average")
        if average is not None and average.average_ is not None:
            state["average"], state["average_steps"] = average.average_, average.steps_
        path = Path(self.path)
        tmp = path.with_name(path.name + ".part")
        torch.save(state, tmp)
        os.replace(tmp, path)


class _WeightAverage(Callback):
    """An exponential moving average of the weights, which the model keeps after training.

    After every training step, each floating-point entry of the module's state (weights
    and batch-norm statistics) moves toward its new value: ``avg += (1 - d) * (w - avg)``
    with ``d = min(decay, (1 + t) / (10 + t))`` at step ``t``, so the first steps, whose
    weights are far from the end, are forgotten quickly. When training ends the module
    takes the averaged state (after early stopping's best weights, which it replaces).
    A :class:`_Checkpoint` saves and restores the average with the rest of the state.

    Parameters
    ----------
    decay : float
        The decay ``d``, in (0, 1); e.g. 0.999 averages over about the last 1000 steps.
    """

    def __init__(self, decay: float):
        self.decay = decay

    def initialize(self) -> _WeightAverage:
        self.average_: dict | None = None
        self.steps_ = 0
        return self

    def on_batch_end(self, net: Any, training: bool = False, **kwargs: Any) -> None:
        if not training:
            return
        state = net.module_.state_dict()
        self.steps_ += 1
        if self.average_ is None:
            self.average_ = {k: v.detach().clone() for k, v in state.items()}
            return
        d = min(self.decay, (1 + self.steps_) / (10 + self.steps_))
        with torch.no_grad():
            for name, value in state.items():
                if value.is_floating_point():
                    self.average_[name].lerp_(value, 1.0 - d)
                else:
                    self.average_[name].copy_(value)

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        if self.average_ is not None:
            net.module_.load_state_dict(self.average_)


class _RandomSpeakerContext(Callback):
    """``speaker_context="random"``: new speaker statistics for every training row each epoch.

    Row ``i`` is standardised with the statistics (shrunk as usual) of a random subset of
    its speaker's rows that contains ``i``, of a size drawn uniformly from 1 to all. The
    per-row moments are computed once; each epoch only sums them, so the data is read once.
    The draws come from ``(seed, epoch)``, so a resumed run draws the same.
    """

    def __init__(self, scaler: Any, row_moments: Any, codes: np.ndarray):
        self.scaler = scaler
        self.row_moments = row_moments
        self.codes = codes
        self.dataset: _ArrayDataset | None = None
        self.seed = 0

    def draw(self, seed: int, epoch: int) -> SpeakerStatistics:
        """Each row's shrunk statistics over its subset (``codes`` = one row per sample)."""
        rng = np.random.default_rng([seed, epoch])
        return self.scaler.random_context_statistics(self.row_moments, self.codes, rng)

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


# Parameters routed to the skorch net, as skorch names them.
_ROUTED_PREFIXES = (
    "module__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
    "criterion__",
)
# Weight of the reconstruction loss when lambda_recon="auto" and the module has a decoder.
_AUTO_LAMBDA_RECON = 0.1


class _NetMixin:
    """Mixin of SERClassifier: the side that talks to its skorch net.

    Skorch-routed parameters (``module__*``...) as estimator ones: whatever ``__init__``
    set beyond its named parameters came in through ``**kwargs``; ``get_params`` and
    ``set_params`` include them, so ``clone`` and searches keep them, and
    ``_validate_params`` checks their prefixes after the constraints table. Then the
    module and its losses, building the net, training it, and its history.
    """

    def _routed_params(self) -> dict:
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

    def set_params(self, **params: Any) -> Any:
        """Set parameters, including skorch-routed ones such as ``module__channels``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator
        """
        routed = {k: v for k, v in params.items() if k.startswith(_ROUTED_PREFIXES)}
        vars(self).update(routed)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def _validate_params(self) -> None:
        super()._validate_params()
        bad = [k for k in self._routed_params() if not k.startswith(_ROUTED_PREFIXES)]
        if bad:
            raise ValueError(
                f"{type(self).__name__} got unexpected keyword argument(s) {bad}; extra "
                f"parameters must start with one of {list(_ROUTED_PREFIXES)}."
            )

    def _module(self) -> type:
        return self.module or MultitaskCNN

    def _has_decoder(self) -> bool:
        """Whether the module is built with a decoder (a ``reconstruct`` switch, not off)."""
        try:
            takes = "reconstruct" in inspect.signature(self._module()).parameters
        except (TypeError, ValueError):
            takes = False
        return takes and self._routed_params().get("module__reconstruct", True) is not False

    def _lambda_recon(self) -> float:
        """``lambda_recon`` with "auto" resolved for the module."""
        if self.lambda_recon == "auto":
            return _AUTO_LAMBDA_RECON if self._has_decoder() else 0.0
        return float(self.lambda_recon)

    def _build_net(self, y: np.ndarray, valid_data: Any, context: Any = None) -> _SERNet:
        """The skorch net for this classifier's parameters (``y``: training class indices).

        ``valid_data``: the early-stopping validation set, or None; ``context``: the
        callback of ``speaker_context="random"``, or None.
        """
        return _make_net(self, y, valid_data, context)

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
        # Ctrl-C stops training as in skorch (the best weights kept), but visibly.
        self.interrupted_ = bool(getattr(self.net_, "interrupted_", False))
        if self.interrupted_:
            warnings.warn(
                f"SERClassifier.fit was interrupted after {len(self.net_.history)} of "
                f"{self.max_epochs} epochs: the classifier is only partly trained "
                "(interrupted_=True). Fit again to train it fully; with checkpoint= that "
                "resumes from the last saved epoch.",
                UserWarning,
                stacklevel=3,
            )

    @property
    def history_(self) -> Any:
        """The skorch History of the last fit (one dict per epoch)."""
        check_is_fitted(self, "net_")
        return self.net_.history


def _scaler_view(name: str, doc: str) -> property:
    """A read-only float32 view of the attribute ``name`` of a fitted ``scaler_``."""

    def view(self: Any) -> np.ndarray:
        check_is_fitted(self, "scaler_")
        return getattr(self.scaler_, name).astype(np.float32)

    return property(view, doc=doc)


def _input_statistics(
    X: Any, groups: np.ndarray | None, standardize: str, speaker_context: str
) -> tuple[SpeakerStandardScaler, Any]:
    """A SERClassifier's fitted input scaler, and the statistics of its training rows.

    One pass over ``X`` (possibly a memory map) gives the training statistics and each
    training speaker's, through :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler`'s
    interface; they are kept in float32 precision, the precision the network computes in.
    The statistics: None for ``standardize="corpus"`` (the net standardises each batch),
    each row's speaker's, or a :class:`_RandomSpeakerContext` for
    ``speaker_context="random"``.
    """
    moments = SpeakerStandardScaler.moments(X, groups)
    # The network's shrinkage: a fixed prior, and no clipping (the scaler's defaults are
    # tuned for functionals).
    scaler = SpeakerStandardScaler(prior_utterances=DEFAULT_PRIOR_UTTERANCES, clip=None)
    scaler.fit_moments(moments, with_groups=groups is not None)
    for name in ("mean_", "scale_", "speaker_scale_"):
        setattr(scaler, name, getattr(scaler, name).astype(np.float32).astype(np.float64))
    if standardize != "speaker":
        return scaler, None
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
    if speaker_context == "random" and groups is not None:
        return scaler, _RandomSpeakerContext(scaler, scaler.moments(X, None), moments.codes)
    return scaler, scaler.statistics_from_moments(moments)


def _training_data(
    X: Any, y: np.ndarray, statistics: Any, seed: int, split: tuple | None = None
) -> tuple:
    """Training and validation datasets, lazy views of ``X`` (never a copy).

    ``statistics``: None (corpus standardisation, done by the net per batch), each row's
    :class:`~sklearn_ser.preprocessing.SpeakerStatistics`, or a
    :class:`_RandomSpeakerContext` (attached to the dataset, whose statistics it redraws
    every epoch); ``split``: the early-stopping ``(train, valid)`` indices, or None.
    Returns the training data, the validation data (or None), the training labels and the
    random-context callback (or None).
    """
    context = None
    if isinstance(statistics, _RandomSpeakerContext):
        context, statistics = statistics, statistics.draw(seed, epoch=0)
    full = _ArrayDataset(X, y, statistics=statistics)
    if context is not None:
        context.attach(full, seed)
    if split is None:
        return full, None, y, context
    train_idx, valid_idx = split
    return Subset(full, train_idx), Subset(full, valid_idx), y[train_idx], context


def _validation_split(
    y: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices for early stopping: speaker-disjoint with groups."""
    if groups is not None:
        if len(np.unique(groups)) < 2:
            raise ValueError(
                "early_stopping with groups needs at least 2 distinct groups (speakers) "
                "to hold some out for validation."
            )
        splitter = GroupShuffleSplit(1, test_size=fraction, random_state=seed)
        return next(splitter.split(y, y, groups))
    warnings.warn(
        "early_stopping without groups: the validation split mixes speakers, so early "
        "stopping favours speaker-dependent models. Pass fit(X, y, groups=speakers).",
        UserWarning,
        stacklevel=4,  # the caller of SERClassifier.fit, past its _fit_context wrapper
    )
    try:
        splitter = StratifiedShuffleSplit(1, test_size=fraction, random_state=seed)
        return next(splitter.split(y, y))
    except ValueError:  # a class too small to stratify
        splitter = GroupShuffleSplit(1, test_size=fraction, random_state=seed)
        return next(splitter.split(y, y, np.arange(len(y))))


def _callbacks(clf: Any, with_validation: bool, context: Any = None) -> list:
    """The skorch callbacks of a SERClassifier's net, in the order they must run.

    ``context``: the :class:`_RandomSpeakerContext` of ``speaker_context="random"``, or None.
    """
    callbacks: list = [("train_ce", PassthroughScoring("train_ce", on_train=True))]
    if context is not None:  # speaker_context="random": new statistics every epoch
        callbacks.insert(0, ("speaker_context", context))
    if clf.lambda_center > 0:
        callbacks.append(("train_center", PassthroughScoring("train_center", on_train=True)))
    if clf._lambda_recon() > 0:
        callbacks.append(("train_recon", PassthroughScoring("train_recon", on_train=True)))
    if with_validation:
        callbacks += [
            ("valid_ua", EpochScoring(_valid_ua, lower_is_better=False, name="valid_ua")),
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_ua",
                    lower_is_better=False,
                    patience=clf.n_iter_no_change,
                    threshold=0.0,
                    load_best=True,
                    sink=print if clf.verbose else _silent,
                ),
            ),
        ]
    if clf.lr_schedule == "cosine":
        callbacks.append(
            (
                "lr_schedule",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=clf.max_epochs
                ),
            )
        )
    if clf.ema_decay is not None:  # after early stopping, whose best weights it replaces
        callbacks.append(("weight_average", _WeightAverage(float(clf.ema_decay))))
    if clf.checkpoint is not None:  # after the LR schedule, whose state it restores
        identity = {
            "classes": json.dumps([str(v) for v in clf.classes_]),
            "input_shape": list(clf.input_shape_),
        }
        callbacks.append(("checkpoint", _Checkpoint(clf.checkpoint, identity)))
    return callbacks + list(clf.callbacks or [])


def _make_net(clf: Any, y: np.ndarray, valid_data: Any, context: Any = None) -> _SERNet:
    """The skorch net for a SERClassifier's parameters (``y``: training class indices).

    ``valid_data``: the early-stopping validation set, or None; ``context``: the
    callback of ``speaker_context="random"``, or None.
    """
    n_classes = len(clf.classes_)
    weight = None
    if clf.class_weight == "balanced":
        # n / (n_classes * count), as scikit-learn's "balanced"; a class absent from
        # the training part (all its speakers held out) gets weight as if seen once.
        counts = np.maximum(np.bincount(y, minlength=n_classes), 1)
        weight = torch.as_tensor(len(y) / (n_classes * counts), dtype=torch.float32)
    elif isinstance(clf.class_weight, dict):
        weight = torch.as_tensor(
            [float(clf.class_weight.get(c, 1.0)) for c in clf.classes_], dtype=torch.float32
        )
    # A batch of one sample breaks batch norm in training; drop such a remainder.
    drop_last = len(y) % clf.batch_size == 1 and len(y) > clf.batch_size
    module = clf._module()
    lambda_recon = clf._lambda_recon()
    shape = clf.input_shape_
    if clf.window_frames is not None and shape[-1] > clf.window_frames:
        shape = (*shape[:-1], clf.window_frames)
    train_split = None if valid_data is None else predefined_split(valid_data)
    params = {
        "module": module,
        "module__n_classes": n_classes,
        "module__input_shape": shape,
        "criterion": nn.CrossEntropyLoss,
        "criterion__weight": weight,
        "criterion__label_smoothing": float(clf.label_smoothing),
        "optimizer": OPTIMIZERS.get(clf.optimizer, clf.optimizer),
        "optimizer__weight_decay": float(clf.weight_decay),
        "lr": float(clf.lr),
        "max_epochs": int(clf.max_epochs),
        "batch_size": int(clf.batch_size),
        "iterator_train__shuffle": True,
        "iterator_train__drop_last": drop_last,
        "train_split": train_split,
        "callbacks": _callbacks(clf, train_split is not None, context),
        "predict_nonlinearity": _softmax,
        "dataset": _ArrayDataset,
        "classes": np.arange(n_classes),
        "device": clf.device_,
        "verbose": int(clf.verbose),
        "lambda_center": float(clf.lambda_center),
        "center_alpha": float(clf.center_alpha),
        "lambda_recon": lambda_recon,
        "augment": clf.augment,
        "mixed_precision": bool(clf.mixed_precision),
        # With speaker standardisation the dataset has already standardised each row.
        "input_mean": clf.feature_mean_ if clf.standardize == "corpus" else None,
        "input_scale": clf.feature_scale_,
        "window_frames": clf.window_frames,
        "mixup_alpha": float(clf.mixup_alpha),
    }
    # Without a reconstruction loss, a decoder is dead weight: don't build it.
    if lambda_recon == 0 and "reconstruct" in inspect.signature(module).parameters:
        params["module__reconstruct"] = False
    params.update(clf._routed_params())
    if clf.accelerator is not None:
        params["device"] = None
        return _AcceleratedSERNet(accelerator=clf.accelerator, **params)
    return _SERNet(**params)


def _silent(*args: Any, **kwargs: Any) -> None:
    pass
