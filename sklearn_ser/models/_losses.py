"""Center loss (Wen et al., ECCV 2016)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CenterLoss"]


class CenterLoss(nn.Module):
    """Pull each embedding toward a learned centre of its class.

    The loss of a batch is ``1/2 * mean_i ||x_i - c_{y_i}||^2`` (Wen et al. sum over the
    batch; the mean keeps the weight independent of the batch size). The centres are not
    learned by the optimiser but moved by Wen et al.'s update rule (their Algorithm 1), at
    their own rate ``alpha``::

        delta_c_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)
        c_j <- c_j - alpha * delta_c_j

    which :meth:`update_centers` applies once per training batch. Centres are buffers, so
    they are saved, moved between devices and restored with the model's weights.

    In multi-process training (DDP, Hugging Face Accelerate) each process sees its own
    part of the batch: when ``torch.distributed`` is initialised with more than one
    process, the per-class sums and counts are summed over all processes before the update,
    so every process applies the update of the whole (global) batch and all keep one set
    of centres.

    Parameters
    ----------
    n_classes : int
        Number of classes (centres).
    embedding_dim : int
        Dimension of the embeddings.
    alpha : float, default=0.5
        Centre learning rate in [0, 1]; 0 freezes the centres.

    References
    ----------
    .. [1] Y. Wen, K. Zhang, Z. Li and Y. Qiao, "A discriminative feature learning approach
       for deep face recognition", ECCV 2016.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ser.models import CenterLoss
    >>> loss = CenterLoss(n_classes=2, embedding_dim=3, alpha=0.5)
    >>> x, y = torch.ones(4, 3), torch.tensor([0, 0, 1, 1])
    >>> float(loss(x, y))  # centres start at zero: 1/2 * ||(1, 1, 1)||^2
    1.5
    >>> loss.update_centers(x, y)
    >>> loss.centers[0]  # moved by 0.5 * 2 / 3 toward (1, 1, 1)
    tensor([0.3333, 0.3333, 0.3333])
    """

    def __init__(self, n_classes: int, embedding_dim: int, alpha: float = 0.5):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"CenterLoss: alpha must be in [0, 1], got {alpha!r}.")
        self.n_classes = n_classes
        self.embedding_dim = embedding_dim
        self.alpha = alpha
        self.register_buffer("centers", torch.zeros(n_classes, embedding_dim))

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        centers = self.centers.index_select(0, labels).to(embeddings.dtype)
        return 0.5 * (embeddings - centers).pow(2).sum(dim=1).mean()

    @torch.no_grad()
    def update_centers(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """Apply one step of Wen et al.'s centre update for a batch."""
        embeddings = embeddings.detach().to(self.centers.dtype)
        diff = self.centers.index_select(0, labels) - embeddings
        delta = torch.zeros_like(self.centers).index_add_(0, labels, diff)
        counts = torch.bincount(labels, minlength=self.n_classes).to(delta.dtype)
        if _world_size() > 1:
            # One reduction of sums and counts together: the global batch's update.
            packed = torch.cat([delta, counts.unsqueeze(1)], dim=1)
            torch.distributed.all_reduce(packed)
            delta, counts = packed[:, :-1], packed[:, -1]
        self.centers -= self.alpha * delta / (1.0 + counts).unsqueeze(1)


def _world_size() -> int:
    """Number of training processes: 1 unless torch.distributed is initialised."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1
