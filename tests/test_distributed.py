"""Multi-process training keeps one set of class centres (CenterLoss under DDP)."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from sklearn_ser.models import CenterLoss

N_CLASSES, DIM, STEPS = 3, 4, 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batches(rank: int) -> list:
    """Each rank's own data: different embeddings and labels on the two processes."""
    gen = torch.Generator().manual_seed(100 + rank)
    return [
        (torch.randn(6, 5, generator=gen), torch.randint(0, N_CLASSES, (6,), generator=gen))
        for _ in range(STEPS)
    ]


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the same initial weights on both ranks, as DDP requires
    encoder = nn.Linear(5, DIM)
    # What each rank would hold without the reduction: its local batches' update only.
    local = CenterLoss(N_CLASSES, DIM)
    with torch.no_grad():
        for x, labels in _batches(rank):
            local.update_centers(encoder(x), labels)

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        model = nn.parallel.DistributedDataParallel(encoder)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        center = CenterLoss(N_CLASSES, DIM)
        for x, labels in _batches(rank):  # a few training steps
            embedding = model(x)
            loss = center(embedding, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            center.update_centers(embedding, labels)
        torch.save(
            {"synced": center.centers.clone(), "local": local.centers.clone()},
            os.path.join(out_dir, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")
def test_centers_identical_on_both_ranks(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    torch.testing.assert_close(r0["synced"], r1["synced"], rtol=0, atol=0)
    assert r0["synced"].abs().sum() > 0  # the centres did move
    # Without the reduction each rank's centres follow its own data only.
    assert not torch.allclose(r0["local"], r1["local"])
    # With it, both hold the centres of one process trained on the global batches.
    torch.testing.assert_close(r0["synced"], _one_process_reference(), rtol=1e-5, atol=1e-6)


def _one_process_reference() -> torch.Tensor:
    torch.manual_seed(0)
    encoder = nn.Linear(5, DIM)
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.1)
    center = CenterLoss(N_CLASSES, DIM)
    for (x0, l0), (x1, l1) in zip(_batches(0), _batches(1)):
        x, labels = torch.cat([x0, x1]), torch.cat([l0, l1])
        embedding = encoder(x)
        # DDP averages the ranks' gradients: the mean loss over the equal halves.
        loss = center(embedding, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        center.update_centers(embedding, labels)
    return center.centers


def test_single_process_update_unchanged():
    # Not initialised: the plain update (Wen et al.'s rule) on the local batch.
    loss = CenterLoss(n_classes=2, embedding_dim=3, alpha=0.5)
    loss.update_centers(torch.ones(4, 3), torch.tensor([0, 0, 1, 1]))
    torch.testing.assert_close(loss.centers[0], torch.full((3,), 1 / 3))
