"""3-D CNN over a stack of spectrogram segments (Kim et al., ACII 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
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

__all__ = ["CNN3D"]


# The former name, where CNN3D models pickled before the move look for it.
_SameConv = SameConv


class CNN3D(nn.Module):
    """3-D convolutional network over a stack of spectrogram segments.

    The model of Kim et al. (2017): an utterance is a stack of short spectrogram segments
    ``(n_segments, n_bins, segment_frames)`` (see :class:`~sklearn_ser.features.Segmenter`)
    and every 3-D kernel spans a few segments, a few frequency bins and a few frames at
    once, so the network learns short-term (within a segment) and long-term (across
    segments) spectral dynamics jointly with few parameters. The architecture is
    homogeneous: every block uses the same kernel. The paper found shallow temporal
    kernels (few segments) with moderately deep spectral ones work best.

    Each entry of ``channels`` is one block: Conv3d (stride 1, size-preserving padding)
    -> BatchNorm3d -> ReLU -> 2x max pooling of every dimension still at least 4 long.
    Global average pooling, dropout and a linear layer give the embedding; a linear
    classifier on the embedding gives the logits. The optional decoder mirrors the
    encoder with ConvTranspose3d layers (same kernel, stride = that block's pooling),
    each followed by trilinear interpolation to the exact size of the mirrored block's
    input, so the reconstruction has exactly the input's shape.

    Parameters
    ----------
    n_classes : int
        Number of classes (size of the logits).
    input_shape : tuple of 3 int
        Per-sample input shape ``(n_segments, n_bins, segment_frames)``.
    channels : sequence of int, default=(16, 32, 64)
        Output channels of the convolution blocks; its length is the depth.
    temporal_kernel : int, default=3
        Kernel extent along the segment axis (long-term dynamics).
    spectral_kernel : int, default=5
        Kernel extent along the frequency axis.
    time_kernel : int, default=3
        Kernel extent along the frames of a segment (short-term dynamics).
    embedding_dim : int, default=128
        Size of the embedding.
    dropout : float, default=0.3
        Dropout probability before the embedding layer.
    reconstruct : bool, default=True
        Whether to build the decoder; without it ``reconstruction`` is None.

    Attributes
    ----------
    embedding_dim : int
        Size of the embedding.
    encoder : nn.Sequential
        The convolution blocks.
    embedding : nn.Linear
        Pooled encoder features -> embedding.
    classifier : nn.Linear
        Embedding -> logits.
    decoder : nn.ModuleList or None
        The transposed convolutions of the decoder, None when ``reconstruct=False``.
    feature_shape : tuple of int
        Shape ``(channels[-1], S', B', T')`` of the encoder's output volume per sample.

    See Also
    --------
    CNNLSTM : the CNN-LSTM hybrid the paper compares with.

    References
    ----------
    .. [1] J. Kim, K. P. Truong, G. Englebienne and V. Evers, "Learning spectro-temporal
       features with 3D CNNs for speech emotion recognition", ACII 2017.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ser.models import CNN3D
    >>> model = CNN3D(n_classes=4, input_shape=(5, 40, 16), channels=(8, 16))
    >>> out = model(torch.randn(2, 5, 40, 16))
    >>> out.logits.shape, out.embedding.shape, out.reconstruction.shape
    (torch.Size([2, 4]), torch.Size([2, 128]), torch.Size([2, 5, 40, 16]))
    >>> model.feature_shape
    (16, 2, 10, 4)
    """

    def __init__(
        self,
        n_classes: int,
        input_shape: tuple[int, int, int],
        *,
        channels: Sequence[int] = (16, 32, 64),
        temporal_kernel: int = 3,
        spectral_kernel: int = 5,
        time_kernel: int = 3,
        embedding_dim: int = 128,
        dropout: float = 0.3,
        reconstruct: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        n_classes = check_positive_int("n_classes", n_classes, name)
        self.input_shape = check_segment_shape(input_shape, name)
        channels = check_channels(channels, name)
        kernel = tuple(
            check_positive_int(arg, value, name)
            for arg, value in (
                ("temporal_kernel", temporal_kernel),
                ("spectral_kernel", spectral_kernel),
                ("time_kernel", time_kernel),
            )
        )
        embedding_dim = check_positive_int("embedding_dim", embedding_dim, name)
        dropout = check_dropout(dropout, name)
        self.embedding_dim = embedding_dim
        self.kernel_size = kernel

        blocks = []
        sizes = [self.input_shape]  # volume size at the input of each block, then the output
        pools = []
        c_in = 1
        for c_out in channels:
            pool = pool_factors(sizes[-1])
            blocks.append(
                nn.Sequential(
                    SameConv(nn.Conv3d, c_in, c_out, kernel, bias=False),  # BN adds the bias
                    nn.BatchNorm3d(c_out),
                    nn.ReLU(inplace=True),
                    nn.MaxPool3d(pool) if max(pool) > 1 else nn.Identity(),
                )
            )
            pools.append(pool)
            sizes.append(tuple(s // p for s, p in zip(sizes[-1], pool)))
            c_in = c_out
        self.encoder = nn.Sequential(*blocks)
        self.feature_shape = (channels[-1], *sizes[-1])
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.embedding = nn.Linear(channels[-1], embedding_dim)
        self.classifier = nn.Linear(embedding_dim, n_classes)

        self.decoder: nn.ModuleList | None = None
        if reconstruct:
            # Block i of the decoder undoes encoder block n-1-i: channels back to that
            # block's input channels, size back to its input size (sizes[n-1-i]).
            self._decoder_sizes = sizes[-2::-1]
            c_outs = [*channels[-2::-1], 1]
            layers = []
            for c_in_dec, c_out, pool in zip(channels[::-1], c_outs, pools[::-1]):
                deconv = nn.ConvTranspose3d(
                    c_in_dec,
                    c_out,
                    kernel,
                    stride=pool,
                    padding=tuple((k - 1) // 2 for k in kernel),
                    bias=c_out == 1,
                )
                if c_out == 1:  # last layer: a linear read-out of the (log-)spectrogram
                    layers.append(deconv)
                else:
                    layers.append(
                        nn.Sequential(deconv, nn.BatchNorm3d(c_out), nn.ReLU(inplace=True))
                    )
            self.decoder = nn.ModuleList(layers)
        # Channels-last weights: about twice as fast on the CPU (see MultitaskCNN).
        self.to(memory_format=torch.channels_last_3d)

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
            ``reconstruction`` (``x``'s shape, or None without decoder).
        """
        check_input_shape(x, self.input_shape, type(self).__name__)
        features = self.encoder(x.unsqueeze(1))
        embedding = self.embedding(self.dropout(self.pool(features).flatten(1)))
        logits = self.classifier(embedding)
        reconstruction = None
        if self.decoder is not None:
            h = features
            for layer, size in zip(self.decoder, self._decoder_sizes):
                h = layer(h)
                if tuple(h.shape[2:]) != size:
                    h = F.interpolate(h, size=size, mode="trilinear", align_corners=False)
            reconstruction = h.squeeze(1)
        return ModelOutput(logits, embedding, reconstruction)
