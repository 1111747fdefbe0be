"""The skorch net that SERClassifier trains: dataset, losses, training step, checkpoints.

:class:`~sklearn_ser.SERClassifier` is the scikit-learn face (parameters, validation,
statistics); everything torch does during training lives here:

- :class:`_ArrayDataset`: rows of an array (possibly a read-only memory map), each
  standardised with its speaker's statistics when given them;
- :class:`_SERNet`: skorch's ``NeuralNetClassifier`` whose loss combines cross-entropy,
  center loss and reconstruction, and whose training step crops, augments and updates the
  class centres; :class:`_AcceleratedSERNet` trains it through Hugging Face Accelerate;
- :class:`_Checkpoint`: one callback that both saves the training state after every epoch
  and restores it when training starts again.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from skorch.dataset import Dataset, unpack_data
from skorch.hf import AccelerateMixin
from skorch.history import History
from skorch.utils import to_tensor
from torch import nn

from .models import CenterLoss, ModelOutput
from .preprocessing import SpeakerStatistics

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


class _SERNet(NeuralNetClassifier):
    """skorch net whose loss is cross-entropy + center loss + reconstruction MSE.

    The hooks are skorch's: :meth:`initialize_criterion` adds the center loss (its centres
    are buffers, so they move with ``device`` and are saved with the weights),
    :meth:`get_loss` combines the three terms and records each in the history, and
    :meth:`train_step_single` augments the batch, stops on a non-finite loss and applies
    the centre update. :meth:`fit_loop` without ``epochs`` trains up to ``max_epochs`` in
    all, so a run resumed from a :class:`_Checkpoint` trains only the epochs left.
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

    def fit_loop(self, X: Any, y: Any = None, epochs: int | None = None, **fit_params: Any):
        # Up to max_epochs in all: after a resume, whose history the checkpoint restored
        # in on_train_begin, only the epochs left.
        if epochs is None:
            epochs = max(self.max_epochs - len(self.history), 0)
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

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
        """``CE + lambda_center * center + lambda_recon * MSE``, each part in the history."""
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
            # Reduced over processes under DDP / Accelerate: one set of centres for all.
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
        path = Path(self.path)
        tmp = path.with_name(path.name + ".part")
        torch.save(state, tmp)
        os.replace(tmp, path)
