"""Training-time augmentation of feature maps."""

from __future__ import annotations

import torch
from sklearn.base import BaseEstimator

__all__ = ["SpecAugment"]


class SpecAugment(BaseEstimator):
    """SpecAugment-style masking and random time shifts of a batch of feature maps.

    Applied by :class:`~sklearn_ser.SERClassifier` (``augment=``) to training batches only.
    Masked cells are set to 0, which after the classifier's per-bin standardisation is the
    training mean. The reconstruction target stays the clean input, so the decoder learns
    to fill in what was masked.

    Parameters
    ----------
    freq_masks : int, default=2
        Number of frequency bands masked per sample.
    freq_width : int, default=8
        Maximum width of a frequency mask, in bins.
    time_masks : int, default=2
        Number of time spans masked per sample.
    time_width : int, default=20
        Maximum width of a time mask, in frames.
    max_shift : int, default=0
        Maximum circular shift along time, in frames (0: none).

    Examples
    --------
    >>> import torch
    >>> from sklearn_ser.models import SpecAugment
    >>> x = torch.ones(4, 40, 100)
    >>> out = SpecAugment(freq_masks=1, freq_width=5, time_masks=0)(x)
    >>> out.shape, bool((out == 0).any())
    (torch.Size([4, 40, 100]), True)
    """

    def __init__(
        self,
        freq_masks: int = 2,
        freq_width: int = 8,
        time_masks: int = 2,
        time_width: int = 20,
        max_shift: int = 0,
    ):
        self.freq_masks = freq_masks
        self.freq_width = freq_width
        self.time_masks = time_masks
        self.time_width = time_width
        self.max_shift = max_shift

    def _mask(self, x: torch.Tensor, axis: int, count: int, width: int) -> torch.Tensor:
        size = x.shape[axis]
        width = min(width, size - 1)
        if count == 0 or width <= 0:
            return x
        n = x.shape[0]
        widths = torch.randint(0, width + 1, (n, count, 1), device=x.device)
        starts = (torch.rand(n, count, 1, device=x.device) * (size - widths + 1)).long()
        pos = torch.arange(size, device=x.device).view(1, 1, size)
        hit = ((pos >= starts) & (pos < starts + widths)).any(dim=1)  # (n, size)
        shape = [n] + [1] * (x.ndim - 1)
        shape[axis] = size
        return x.masked_fill(hit.view(shape), 0.0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Augment a batch ``(batch, ..., n_bins, n_frames)``."""
        for name, value in self.get_params().items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"SpecAugment: {name} must be an int >= 0, got {value!r}.")
        if self.max_shift:
            shifts = torch.randint(-self.max_shift, self.max_shift + 1, (x.shape[0],))
            x = torch.stack([torch.roll(xi, int(s), dims=-1) for xi, s in zip(x, shifts)])
        x = self._mask(x, x.ndim - 2, self.freq_masks, self.freq_width)
        return self._mask(x, x.ndim - 1, self.time_masks, self.time_width)
