"""CNN-LSTM hybrid: a 2-D CNN per segment, an LSTM over the segments."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._base import (
    ModelOutput,
    SameConv,
    check_channels,
    check_dropout,
    check_input_shape,
    check_positive_int,
    check_segment_shape,
    pool_factors,
)

__all__ = ["CNNLSTM"]

_POOLINGS = ("last", "mean")


class CNNLSTM(nn.Module):
    """A 2-D CNN applied to every segment, followed by an LSTM over the segment sequence.

    The hybrid baseline of Kim et al. (2017), against which their 3-D CNN
    (:class:`CNN3D`) is compared: spectral and short-term dynamics are learnt by a
    2-D CNN within each segment, long-term dynamics by a recurrent layer across segments.

    Each segment ``(n_bins, segment_frames)`` goes through the same CNN (shared weights):
    one block per entry of ``channels``, Conv2d (size-preserving padding) -> BatchNorm2d
    -> ReLU -> 2x max pooling of every dimension still at least 4 long, then global
    average pooling. The LSTM reads the sequence of segment vectors; its final hidden state
    (both directions' final states if bidirectional) or the mean of its outputs over the
    segments, after dropout, gives the embedding through a linear layer, and a linear
    classifier on the embedding gives the logits. There is no decoder:
    ``reconstruction`` is None.

    Parameters
    ----------
    n_classes : int
        Number of classes (size of the logits).
    input_shape : tuple of 3 int
        Per-sample input shape ``(n_segments, n_bins, segment_frames)``.
    channels : sequence of int, default=(16, 32)
        Output channels of the per-segment convolution blocks; its length is the depth.
    kernel_size : int, default=3
        Square kernel of the 2-D convolutions (frequency x time).
    hidden_size : int, default=64
        Hidden units of the LSTM (per direction).
    bidirectional : bool, default=True
        Whether the LSTM also reads the segments backwards.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    pooling : {"last", "mean"}, default="last"
        Summary of the LSTM over the segments: its final hidden state(s), or the mean of
        its outputs at every segment.
    embedding_dim : int, default=128
        Size of the embedding.
    dropout : float, default=0.3
        Dropout probability before the embedding layer.

    Attributes
    ----------
    embedding_dim : int
        Size of the embedding.
    cnn : nn.Sequential
        The per-segment convolution blocks and global pooling.
    lstm : nn.LSTM
        The recurrent layer over the segments.
    embedding : nn.Linear
        LSTM summary -> embedding.
    classifier : nn.Linear
        Embedding -> logits.

    See Also
    --------
    CNN3D : the 3-D CNN that outperforms this hybrid in the paper.

    References
    ----------
    .. [1] J. Kim, K. P. Truong, G. Englebienne and V. Evers, "Learning spectro-temporal
       features with 3D CNNs for speech emotion recognition", ACII 2017.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ser.models import CNNLSTM
    >>> model = CNNLSTM(n_classes=4, input_shape=(5, 40, 16), hidden_size=32)
    >>> out = model(torch.randn(2, 5, 40, 16))
    >>> out.logits.shape, out.embedding.shape, out.reconstruction
    (torch.Size([2, 4]), torch.Size([2, 128]), None)
    """

    def __init__(
        self,
        n_classes: int,
        input_shape: tuple[int, int, int],
        *,
        channels: Sequence[int] = (16, 32),
        kernel_size: int = 3,
        hidden_size: int = 64,
        bidirectional: bool = True,
        num_layers: int = 1,
        pooling: str = "last",
        embedding_dim: int = 128,
        dropout: float = 0.3,
    ):
        super().__init__()
        name = type(self).__name__
        n_classes = check_positive_int("n_classes", n_classes, name)
        self.input_shape = check_segment_shape(input_shape, name)
        channels = check_channels(channels, name)
        kernel_size = check_positive_int("kernel_size", kernel_size, name)
        hidden_size = check_positive_int("hidden_size", hidden_size, name)
        num_layers = check_positive_int("num_layers", num_layers, name)
        embedding_dim = check_positive_int("embedding_dim", embedding_dim, name)
        dropout = check_dropout(dropout, name)
        self.embedding_dim = embedding_dim
        if pooling not in _POOLINGS:
            raise ValueError(f"{name}: pooling must be one of {_POOLINGS}, got {pooling!r}.")
        self.pooling = pooling

        layers: list[nn.Module] = []
        size = self.input_shape[1:]
        c_in = 1
        for c_out in channels:
            pool = pool_factors(size)
            layers += [
                SameConv(nn.Conv2d, c_in, c_out, (kernel_size, kernel_size), bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
            if max(pool) > 1:
                layers.append(nn.MaxPool2d(pool))
            size = tuple(s // p for s, p in zip(size, pool))
            c_in = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.cnn = nn.Sequential(*layers)
        self.lstm = nn.LSTM(
            channels[-1],
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bool(bidirectional),
        )
        self.dropout = nn.Dropout(dropout)
        self.embedding = nn.Linear(hidden_size * (2 if bidirectional else 1), embedding_dim)
        self.classifier = nn.Linear(embedding_dim, n_classes)
        # Channels-last weights: about twice as fast on the CPU (see MultitaskCNN).
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        """Classify a batch of segment stacks.

        Parameters
        ----------
        x : Tensor of shape (batch, n_segments, n_bins, segment_frames)
            Segmented features, as ``input_shape``.

        Returns
        -------
        output : ModelOutput
            ``logits`` (batch, n_classes), ``embedding`` (batch, embedding_dim) and
            ``reconstruction`` None.
        """
        check_input_shape(x, self.input_shape, type(self).__name__)
        batch, n_segments = x.shape[:2]
        # Every segment of every utterance through the shared CNN in one batch.
        segments = self.cnn(x.reshape(batch * n_segments, 1, *x.shape[2:]))
        outputs, (h_n, _) = self.lstm(segments.reshape(batch, n_segments, -1))
        if self.pooling == "mean":
            summary = outputs.mean(dim=1)
        elif self.lstm.bidirectional:
            # The last layer's forward state after the last segment and backward state
            # after the first: each has read the whole sequence.
            summary = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            summary = h_n[-1]
        embedding = self.embedding(self.dropout(summary))
        return ModelOutput(self.classifier(embedding), embedding, None)
