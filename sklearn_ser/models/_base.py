"""What every model of the library returns, and helpers shared by the modules."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ModelOutput",
    "SameConv",
    "check_channels",
    "check_dropout",
    "check_input_shape",
    "check_positive_int",
    "check_segment_shape",
    "count_parameters",
    "pool_factors",
    "same_padding",
]


class ModelOutput(NamedTuple):
    """Output of every module of :mod:`sklearn_ser.models`.

    A tuple, so skorch's ``predict_proba`` reads the logits from position 0.

    Attributes
    ----------
    logits : Tensor of shape (batch, n_classes)
        Unnormalised class scores.
    embedding : Tensor of shape (batch, embedding_dim)
        The discriminative embedding (what center loss pulls toward the class centres,
        and what :meth:`SERClassifier.transform` returns).
    reconstruction : Tensor of the input's shape, or None
        The decoder's reconstruction of the input features; None for a model without
        a decoder (or built with ``reconstruct=False``).
    """

    logits: torch.Tensor
    embedding: torch.Tensor
    reconstruction: torch.Tensor | None


def check_input_shape(x: torch.Tensor, input_shape: tuple[int, ...], name: str) -> None:
    """Raise a clear ValueError when a batch does not match the shape a module was built for."""
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"{name} was built for inputs of shape (batch, {', '.join(map(str, input_shape))}), "
            f"got {tuple(x.shape)}."
        )


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ---------------------------------------------------------------- shared by the modules
# Argument checks that name the module and the argument, and the building blocks of the
# segment models (CNN3D, CNNLSTM).
def check_positive_int(name: str, value: Any, owner: str, minimum: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_dropout(value: Any, owner: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{owner}: dropout must be a float in [0, 1), got {value!r}.")
    return float(value)


def check_channels(value: Any, owner: str) -> tuple[int, ...]:
    try:
        channels = tuple(value)
    except TypeError:
        channels = ()
    if not channels or any(
        not isinstance(c, numbers.Integral) or isinstance(c, bool) or c < 1 for c in channels
    ):
        raise ValueError(
            f"{owner}: channels must be a non-empty sequence of positive integers, got {value!r}."
        )
    return tuple(int(c) for c in channels)


def check_segment_shape(input_shape: Any, owner: str) -> tuple[int, int, int]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or any(
        not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1 for s in shape
    ):
        raise ValueError(
            f"{owner}: input_shape must be 3 positive integers (n_segments, n_bins, "
            f"segment_frames), got {input_shape!r}; segment the features with Segmenter."
        )
    return tuple(int(s) for s in shape)  # type: ignore[return-value]


def pool_factors(size: Sequence[int]) -> tuple[int, ...]:
    # Halve a dimension only while that leaves at least 2 steps of it.
    return tuple(2 if s >= 4 else 1 for s in size)


def same_padding(kernel: Sequence[int]) -> tuple[int, ...] | None:
    """``F.pad`` widths (last dimension first) keeping the size for an even kernel, else None.

    An odd kernel pads symmetrically inside the convolution; PyTorch's ``padding="same"``
    would warn about (and copy for) even kernels, so those pad explicitly.
    """
    if all(k % 2 for k in kernel):
        return None
    widths: list[int] = []
    for k in reversed(kernel):
        widths += [(k - 1) // 2, k // 2]
    return tuple(widths)


class SameConv(nn.Module):
    """Convolution (2-D or 3-D, stride 1) whose output has its input's size."""

    def __init__(
        self, conv: type[nn.Module], c_in: int, c_out: int, kernel: tuple[int, ...], bias: bool
    ):
        super().__init__()
        self.pad = same_padding(kernel)
        padding = tuple(k // 2 for k in kernel) if self.pad is None else 0
        self.conv = conv(c_in, c_out, kernel, padding=padding, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad is not None:
            x = F.pad(x, self.pad)
        return self.conv(x)
