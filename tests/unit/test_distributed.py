"""factor_mi(distributed=True) over 2 CPU processes (gloo) equals the single-process value."""
import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from vaemi_nb import mi, report


def _data():
    g = torch.Generator().manual_seed(11)
    mu = torch.randn(3001, 4, generator=g) * torch.tensor([0.0, 0.5, 2.0, 1.0])
    logvar = 2 * torch.log(0.1 + torch.rand(3001, 4, generator=g))
    mu[:, 3] = 20 * torch.randn(3001, generator=g)  # outside the fast regime: the gathered fallback
    logvar[:, 3] = 2 * math.log(1e-7)
    return mu, logvar


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        mu, logvar = _data()
        shard = torch.tensor_split(torch.arange(mu.shape[0]), world)[rank]  # unequal shard sizes
        est = mi.factor_mi(mu[shard], logvar[shard], distributed=True,
                           generator=torch.Generator().manual_seed(5))
        torch.save(est, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_two_processes_match_one(tmp_path):
    out = str(tmp_path / "est")
    mp.spawn(_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    per_rank = [torch.load(f"{out}.{r}") for r in range(2)]
    mu, logvar = _data()
    single = mi.factor_mi(mu, logvar, generator=torch.Generator().manual_seed(5))
    assert torch.equal(per_rank[0], per_rank[1])  # every rank gets the same answer
    assert (per_rank[0][:3] - single[:3]).abs().max() < 1e-6  # the fast factors, without gathering
    assert abs(per_rank[0][3] - single[3]) < 1e-6  # the gathered mixture fallback, same draws


def _encoder(xb):
    """A fixed Gaussian encoder of 8-dimensional inputs: 3 factors of different informativeness."""
    return xb[:, :3] * torch.tensor([0.0, 0.7, 2.5]), torch.full((len(xb), 3), -1.5)


def _report_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        x = torch.randn(2000, 8, generator=torch.Generator().manual_seed(12))
        data = torch.utils.data.TensorDataset(x)
        sampler = torch.utils.data.DistributedSampler(data, num_replicas=world, rank=rank, shuffle=False)
        loader = torch.utils.data.DataLoader(data, batch_size=128, sampler=sampler)
        for streaming in (False, True):
            rep = report.factor_report(_encoder, loader, distributed=True, streaming=streaming)
            rep.to_pickle(f"{out}.{rank}.{int(streaming)}")
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_report_over_a_distributed_sampler(tmp_path):
    """Each process encodes its DistributedSampler shard; every process gets the whole data's report."""
    import pandas as pd

    out = str(tmp_path / "rep")
    mp.spawn(_report_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    x = torch.randn(2000, 8, generator=torch.Generator().manual_seed(12))
    single = report.factor_report(_encoder, x)
    for streaming in (0, 1):
        reps = [pd.read_pickle(f"{out}.{r}.{streaming}") for r in range(2)]
        assert reps[0].equals(reps[1])
        assert reps[0].attrs["N"] == 2000  # 2,000 = 2 x 1,000: the sampler pads nothing
        for col in ("mi", "kl", "agg_var", "mean_var"):
            assert (reps[0][col] - single[col]).abs().max() < 1e-6, (streaming, col)
