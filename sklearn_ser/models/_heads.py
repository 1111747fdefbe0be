"""Small heads over the frames (and layers) of a pretrained speech encoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._base import ModelOutput, check_input_shape

__all__ = ["AttentiveStatisticsHead"]


class AttentiveStatisticsHead(nn.Module):
    """Learned layer weights and attentive statistics pooling over encoder frames.

    A head for the output of :class:`~sklearn_ser.PretrainedEmbeddingExtractor`, trained
    through :class:`~sklearn_ser.SERClassifier` (``module=AttentiveStatisticsHead,
    lambda_recon=0``: it has no decoder). It reads

    - ``(dim, frames)``: the frames of one layer (``pooling=None``);
    - ``(layers, dim, frames)``: the frames of every layer (``layer="all", pooling=None``),
      first combined by a softmax-weighted sum of the layers whose weights are learnt
      (as in the SUPERB benchmark);
    - ``(layers, dim)`` with ``pooled=True``: pooled embeddings of every layer
      (``layer="all", pooling="mean"``), combined by the same learned weighted sum.

    Frames are pooled by attentive statistics pooling (Okabe et al., 2018): a small
    attention network scores every frame, and the attention-weighted mean and standard
    deviation of the frames form the utterance vector. A linear layer with PReLU gives
    the embedding, and a linear classifier after dropout the logits.

    Parameters
    ----------
    n_classes : int
        Number of classes.
    input_shape : tuple of int
        Per-sample input shape: ``(dim, frames)``, ``(layers, dim, frames)``, or with
        ``pooled=True`` ``(layers, dim)``.
    pooled : bool, default=False
        The input has no time axis: ``(layers, dim)`` pooled embeddings.
    attention_dim : int, default=64
        Hidden size of the frame-scoring network.
    embedding_dim : int, default=128
        Size of the embedding.
    dropout : float, default=0.2
        Dropout before the embedding layer and before the classifier.

    Attributes
    ----------
    embedding_dim : int
        Size of the embedding.
    layer_weights : nn.Parameter or None
        Logits of the layer weights (softmax gives the weights); None for one layer.

    References
    ----------
    .. [1] K. Okabe, T. Koshinaka and K. Shinoda, "Attentive statistics pooling for deep
       speaker embedding", Interspeech 2018.
    .. [2] S. Yang et al., "SUPERB: Speech processing Universal PERformance Benchmark",
       Interspeech 2021.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ser.models import AttentiveStatisticsHead
    >>> head = AttentiveStatisticsHead(n_classes=4, input_shape=(13, 32, 50))
    >>> out = head(torch.randn(2, 13, 32, 50))
    >>> out.logits.shape, out.embedding.shape, out.reconstruction
    (torch.Size([2, 4]), torch.Size([2, 128]), None)
    >>> head.layer_weights.shape
    torch.Size([13])
    """

    def __init__(
        self,
        n_classes: int,
        input_shape: Sequence[int],
        *,
        pooled: bool = False,
        attention_dim: int = 64,
        embedding_dim: int = 128,
        dropout: float = 0.2,
    ):
        super().__init__()
        name = type(self).__name__
        shape = tuple(int(s) for s in input_shape)
        expected = (2,) if pooled else (2, 3)
        if len(shape) not in expected or min(shape) < 1:
            layout = "(layers, dim)" if pooled else "(dim, frames) or (layers, dim, frames)"
            raise ValueError(f"{name}: input_shape must be {layout}, got {tuple(input_shape)}.")
        for arg, value in (
            ("n_classes", n_classes),
            ("attention_dim", attention_dim),
            ("embedding_dim", embedding_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout!r}.")
        self.input_shape = shape
        self.pooled = bool(pooled)
        self.embedding_dim = embedding_dim
        n_layers = shape[0] if (pooled or len(shape) == 3) else 1
        dim = shape[1] if (pooled or len(shape) == 3) else shape[0]
        self.layer_weights = nn.Parameter(torch.zeros(n_layers)) if n_layers > 1 else None
        if pooled:
            self.attention = None
            pooled_dim = dim
        else:
            self.attention = nn.Sequential(
                nn.Conv1d(dim, attention_dim, kernel_size=1),
                nn.Tanh(),
                nn.Conv1d(attention_dim, 1, kernel_size=1),
            )
            pooled_dim = 2 * dim
        self.embedding = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(pooled_dim, embedding_dim), nn.PReLU()
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(embedding_dim, n_classes))

    def forward(self, x: torch.Tensor) -> ModelOutput:
        check_input_shape(x, self.input_shape, type(self).__name__)
        has_layers = self.pooled or len(self.input_shape) == 3
        if has_layers:
            if self.layer_weights is None:
                x = x[:, 0]
            else:
                weights = torch.softmax(self.layer_weights, dim=0)
                x = torch.tensordot(x, weights, dims=([1], [0]))  # layers summed out
        if self.attention is None:
            pooled = x
        else:  # x: (batch, dim, frames)
            alpha = torch.softmax(self.attention(x), dim=-1)
            mean = (alpha * x).sum(-1)
            var = (alpha * x.square()).sum(-1) - mean.square()
            pooled = torch.cat([mean, var.clamp_min(1e-6).sqrt()], dim=1)
        embedding = self.embedding(pooled)
        return ModelOutput(self.classifier(embedding), embedding, None)
