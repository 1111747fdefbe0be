"""The multitask CNN of Tripathi et al. (2019): encoder, embedding, classifier, decoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._base import ModelOutput, check_input_shape

__all__ = ["MultitaskCNN"]


class _Encoder(nn.Module):
    """Conv blocks (conv 3x3, batch norm, ReLU, 2x2 max-pool where the map is large enough)."""

    def __init__(self, n_bins: int, n_frames: int, channels: Sequence[int], dropout: float):
        super().__init__()
        blocks, self.pools, shapes = [], [], [(n_bins, n_frames)]
        in_ch, (h, w) = 1, (n_bins, n_frames)
        for out_ch in channels:
            pool = (2 if h >= 4 else 1, 2 if w >= 4 else 1)
            layers = [
                nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(out_ch),
                nn.ReLU(inplace=True),
            ]
            if pool != (1, 1):
                layers.append(nn.MaxPool2d(pool))
            blocks.append(nn.Sequential(*layers))
            self.pools.append(pool)
            h, w = h // pool[0], w // pool[1]
            shapes.append((h, w))
            in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout2d(dropout) if dropout else nn.Identity()
        self.shapes = shapes
        self.out_channels = in_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.blocks(x))


class _Decoder(nn.Module):
    """Mirror of the encoder: transposed convolutions that undo each pooling step exactly.

    A pooling step of factor ``p`` floors an odd size ``2n + 1`` to ``n``; its transposed
    convolution (stride ``p``) has kernel ``p + r``, with ``r`` the remainder the pooling
    dropped (0 or 1), so it gives back ``p * n + r``: the encoder's recorded size before
    the step. Every output frame is computed from the code (no interpolation, no padding
    left to the bias), so the reconstruction is aligned with the input frame by frame.
    """

    def __init__(self, encoder: _Encoder, channels: Sequence[int]):
        super().__init__()
        layers: list[nn.Module] = []
        chans = [*list(channels)[::-1], 1]
        steps = list(zip(encoder.pools, encoder.shapes[:-1], encoder.shapes[1:]))[::-1]
        for i, (pool, before, after) in enumerate(steps):
            in_ch, out_ch = chans[i], chans[i + 1]
            last = i == len(steps) - 1
            if pool == (1, 1):
                layers.append(nn.Conv2d(in_ch, out_ch, 3, padding=1))
            else:
                kernel = tuple(p + (b - p * a) for p, b, a in zip(pool, before, after))
                layers.append(nn.ConvTranspose2d(in_ch, out_ch, kernel_size=kernel, stride=pool))
            if not last:
                layers += [nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)
        self.output_shape = encoder.shapes[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


def _keep_own_decoder_if_older(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    # Weights saved before the decoder rebuilt odd sizes exactly (kernel = pool) have other
    # decoder kernel shapes. The decoder plays no part in prediction: keep this one's.
    if getattr(module, "decoders", None) is None:
        return
    for name, value in module.decoders.state_dict().items():
        key = f"{prefix}decoders.{name}"
        if key in state_dict and state_dict[key].shape != value.shape:
            state_dict[key] = value


class MultitaskCNN(nn.Module):
    """CNN trained by classification, center loss and reconstruction (Tripathi et al., 2019).

    A convolutional encoder over the feature map, global (mean and max) pooling over time
    and frequency, an embedding layer, a linear classifier, and a decoder of transposed
    convolutions that rebuilds the input features from the encoder's feature maps, frame
    for frame at any input size (each step undoes its pooling exactly). The
    embedding is what center loss pulls toward the class centres, and what
    :meth:`sklearn_ser.SERClassifier.transform` returns.

    The combined model of the paper, which reads a spectrogram and MFCCs at once, is
    ``input_splits``: the bins of the input (e.g. the output of a
    :class:`~sklearn.pipeline.FeatureUnion` of two extractors) are split into parts, each
    with its own encoder and decoder; the pooled codes are concatenated before the
    embedding.

    Parameters
    ----------
    n_classes : int
        Number of emotions.
    input_shape : tuple of int
        Per-sample input shape ``(n_bins, n_frames)``.
    channels : sequence of int, default=(32, 64, 128)
        Output channels of the convolution blocks; its length is the depth.
    embedding_dim : int, default=128
        Size of the embedding.
    dropout : float, default=0.3
        Dropout on the feature maps and before the classifier.
    reconstruct : bool, default=True
        Build the decoder. Without it, ``reconstruction`` is None (and the reconstruction
        loss weight must be 0).
    input_splits : sequence of int or None, default=None
        Bins of each input part for the combined model, e.g. ``(257, 40)`` for a
        spectrogram followed by 40 MFCCs; must sum to ``n_bins``. None: one encoder.

    References
    ----------
    .. [1] Tripathi et al., "Learning discriminative features using center loss and
       reconstruction as regularizer for speech emotion recognition", IJCAI 2019
       workshop (AI in Affective Computing), PMLR 122.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ser.models import MultitaskCNN
    >>> model = MultitaskCNN(n_classes=4, input_shape=(64, 100), embedding_dim=32)
    >>> out = model(torch.randn(8, 64, 100))
    >>> out.logits.shape, out.embedding.shape, out.reconstruction.shape
    (torch.Size([8, 4]), torch.Size([8, 32]), torch.Size([8, 64, 100]))
    """

    def __init__(
        self,
        n_classes: int,
        input_shape: Sequence[int],
        *,
        channels: Sequence[int] = (32, 64, 128),
        embedding_dim: int = 128,
        dropout: float = 0.3,
        reconstruct: bool = True,
        input_splits: Sequence[int] | None = None,
    ):
        super().__init__()
        input_shape = tuple(int(s) for s in input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f"MultitaskCNN: input_shape must be (n_bins, n_frames), got {input_shape}."
            )
        n_bins, n_frames = input_shape
        splits = [n_bins] if input_splits is None else [int(s) for s in input_splits]
        if sum(splits) != n_bins or min(splits) <= 0:
            raise ValueError(
                f"MultitaskCNN: input_splits must be positive and sum to n_bins={n_bins}, "
                f"got {input_splits!r}."
            )
        if not channels:
            raise ValueError("MultitaskCNN: channels must name at least one block.")
        self.input_shape = input_shape
        self.embedding_dim = embedding_dim
        self.splits = splits
        self.encoders = nn.ModuleList(_Encoder(b, n_frames, channels, dropout) for b in splits)
        self.decoders = (
            nn.ModuleList(_Decoder(enc, channels) for enc in self.encoders) if reconstruct else None
        )
        pooled = 2 * sum(enc.out_channels for enc in self.encoders)
        self.embedding = nn.Sequential(nn.Linear(pooled, embedding_dim), nn.PReLU())
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(embedding_dim, n_classes))
        self.register_load_state_dict_pre_hook(_keep_own_decoder_if_older)
        # Channels-last convolution weights make every feature map channels-last, whose CPU
        # kernels (pooling, batch norm) are about twice as fast on these narrow maps; CUDA
        # prefers the layout too. Moving the module to a device keeps the layout.
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        check_input_shape(x, self.input_shape, "MultitaskCNN")
        parts = torch.split(x.unsqueeze(1), self.splits, dim=2)
        codes = [enc(part) for enc, part in zip(self.encoders, parts)]
        pooled = torch.cat(
            [torch.cat([c.mean(dim=(2, 3)), c.amax(dim=(2, 3))], 1) for c in codes], 1
        )
        embedding = self.embedding(pooled)
        logits = self.classifier(embedding)
        reconstruction = None
        if self.decoders is not None:
            reconstruction = torch.cat(
                [dec(code) for dec, code in zip(self.decoders, codes)], dim=2
            ).squeeze(1)
        return ModelOutput(logits, embedding, reconstruction)
