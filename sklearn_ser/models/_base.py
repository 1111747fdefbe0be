"""What every model of the library returns, and helpers shared by the modules."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

__all__ = ["ModelOutput", "check_input_shape"]


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
