"""Per-factor mutual information I(x; z_j) of a Gaussian encoder, in nats.

The encoder gives q(z_j | x_n) = N(mu_nj, exp(logvar_nj)) for N data points. The aggregate
posterior of factor j is the empirical mixture q(z_j) = (1/N) sum_m q(z_j | x_m), and

    I(x; z_j) = E_x KL(q(z_j | x) || q(z_j)) = mean_n E_{z ~ q(z_j|x_n)} [log q(z|x_n) - log q(z)].

Estimators (``factor_mi(method=...)``):

* ``"mixture"``: Monte Carlo against the exact empirical mixture, O(N^2 d) per sample.
  Consistent as N grows. Because x_n's own component is in the mixture,
  log q(z|x_n) - log q(z) <= log N for every sample: **no estimate exceeds log N nats**
  (the ceiling of any estimator built on an N-point empirical mixture). Each sample's term is
  clipped at log N, which only removes rounding, and a factor whose max |mu| / min sigma exceeds
  ``FLOAT32_RATIO`` is computed in float64 (float32 would cancel there).
* ``"fast"``: deterministic; the aggregate's entropy on an FFT grid (``vaemi_nb.fastmi``),
  O(N + G log G) per factor, returned with an a-posteriori error estimate; a ValueError names
  the factors outside its regime or whose estimate exceeds ``fastmi.FAST_TOLERANCE`` = 0.01 nats.
* ``"auto"`` (default): ``"fast"`` for the factors inside its regime whose error estimate
  passes, ``"mixture"`` for the rest. The regime is decided once, in float64
  (``fastmi.in_regime``). The fast estimate is capped at log N as well: the exact value never
  exceeds it, so the cap can only move an estimate towards it.
* ``"gaussian"``: the closed form of the authors' released code. It replaces q(z_j) by the
  moment-matched zero-mean Gaussian r_j = N(0, s_j^2), s_j^2 = mean_n (sigma_nj^2 + mu_nj^2):
  I_hat_j = 1/2 log s_j^2 - 1/2 mean_n logvar_nj. This equals E_x KL(q(z_j|x) || r_j)
  = I(x; z_j) + KL(q(z_j) || r_j) >= I(x; z_j): exact only if q(z_j) is that Gaussian. Being
  a bound on another quantity, it is not capped and can exceed log N.

For benchmarks: ``quadrature_mi`` (the exact empirical-mixture value by brute-force quadrature,
float64, O(N G)) and ``subsampled_mi`` (the marginal-entropy estimator used for MIG by
Chen et al. 2018: S sampled points scored against all N posteriors, O(S N d)).

Extra memory of each method (beyond its inputs): mixture, at most ``memory_budget(device)``
(CPU 256 MiB, CUDA half the free memory); fast, about 48 bytes per grid value of one factor,
capped by ``fastmi.MAX_BLOCK``; subsampled, one (S, d) sample plus 3 blocks as for mixture;
gaussian, O(d).
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from . import fastmi

LOG_2PI = math.log(2 * math.pi)
METHODS = ("auto", "fast", "mixture", "gaussian")
DEFAULT_CPU_BYTES = 256 * 2**20  # extra-memory budget of the mixture estimator on CPU
CPU_BLOCK_ELEMS = 2**18  # block size that keeps the working set in cache on CPU
FLOAT32_RATIO = 4e3  # above this max|mu|/min sigma, float32 loses ~1e-3 nats: compute in float64


def _check_posterior(mu: Tensor, logvar: Tensor, *, min_points: int = 2) -> None:
    """Raise ValueError unless mu, logvar are finite (N, d) tensors of equal shape, N >= 2."""
    for name, t in (("mu", mu), ("logvar", logvar)):
        if not isinstance(t, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 2:
            raise ValueError(f"{name} must have shape (N, d), got shape {tuple(t.shape)}")
    if mu.shape != logvar.shape:
        raise ValueError(
            f"shape mismatch: mu has shape {tuple(mu.shape)} but logvar has {tuple(logvar.shape)}"
        )
    n, d = mu.shape
    if d == 0:
        raise ValueError("mu and logvar have no latent dimensions (d = 0)")
    if n < min_points:
        raise ValueError(f"need at least {min_points} data points to estimate MI, got N = {n}")
    for name, t in (("mu", mu), ("logvar", logvar)):
        bad = ~torch.isfinite(t)
        if bad.any():
            kind = "NaN" if torch.isnan(t).any() else "Inf"
            row = int(bad.nonzero()[0, 0])
            raise ValueError(
                f"{name} contains {kind} (first at row {row}); a posterior variance of 0 "
                "appears as logvar = -inf. Check the encoder output before estimating MI."
            )


def _as_float(t: Tensor) -> Tensor:
    return t if t.is_floating_point() else t.float()


def kl_per_dim(mu: Tensor, logvar: Tensor) -> Tensor:
    """Mean over data of KL(q(z_j|x) || N(0, 1)) for each factor; shape (d,), nats."""
    _check_posterior(mu, logvar, min_points=1)
    mu, logvar = _as_float(mu), _as_float(logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)


def active_units(mu: Tensor, threshold: float = 0.01) -> int:
    """Burda et al.'s active-unit count: factors with Var_x(E[z_j | x]) > threshold.

    ``mu.var(0)`` is the statistic being thresholded, if a per-factor ranking is wanted.
    """
    if not isinstance(mu, Tensor) or mu.dim() != 2 or mu.shape[0] < 2:
        raise ValueError(f"mu must be an (N, d) tensor with N >= 2, got {getattr(mu, 'shape', mu)}")
    if not torch.isfinite(mu).all():
        raise ValueError("mu contains NaN or Inf")
    return int((_as_float(mu).var(0) > threshold).sum())


def gaussian_mi(mu: Tensor, logvar: Tensor) -> Tensor:
    """Closed-form estimate of the authors' code (an upper bound on I(x; z_j)); shape (d,)."""
    _check_posterior(mu, logvar)
    mu, logvar = _as_float(mu), _as_float(logvar)
    s2 = (logvar.exp() + mu.pow(2)).mean(0)
    return 0.5 * s2.log() - 0.5 * logvar.mean(0)


def memory_budget(device: torch.device) -> int:
    """Bytes of scratch memory the mixture estimator may use on ``device``.

    CPU: 256 MiB. CUDA: half of the currently free device memory.
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free // 2)
    return DEFAULT_CPU_BYTES


def _block_elems(device: torch.device, itemsize: int, max_bytes: int | None = None) -> int:
    """Elements per scratch block: three live blocks fit the memory budget; cache-sized on CPU."""
    budget = max_bytes if max_bytes is not None else memory_budget(device)
    elems = max(1, budget // (3 * itemsize))
    return min(elems, CPU_BLOCK_ELEMS) if device.type == "cpu" else elems  # ~4x faster on CPU


def mixture_mi(
    mu: Tensor,
    logvar: Tensor,
    *,
    n_samples: int = 1,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
    max_bytes: int | None = None,
) -> Tensor:
    """Monte-Carlo MI against the exact N-point aggregate posterior; shape (d,), nats.

    For every point n, factor j and sample s, draw z ~ q(z_j|x_n) and average
    log q(z|x_n) - logsumexp_m log q(z|x_m) + log N. Work is done in blocks of
    ``chunk_size`` query points x ``db`` factors x all N components; the scratch memory is
    about ``3 * chunk_size * db * N * itemsize`` bytes and is kept below ``max_bytes``
    (default: ``memory_budget(device)``). Runs on the tensors' device and dtype
    (pass float64 for reference runs); float32 inputs with max |mu| / min sigma above
    ``FLOAT32_RATIO`` are computed in float64 and returned in float32. Every estimate is <= log N.
    """
    _check_posterior(mu, logvar)
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    mu, logvar = _as_float(mu), _as_float(logvar.to(mu.dtype))
    n, d = mu.shape
    device, dtype = mu.device, mu.dtype
    elems = _block_elems(device, torch.finfo(dtype).bits // 8, max_bytes)
    db = max(1, min(d, elems // n))
    rows = chunk_size if chunk_size is not None else max(1, elems // (n * db))
    if rows < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")

    out_dtype = dtype
    if dtype != torch.float64:
        ratio = (mu.abs().amax(0) * (-0.5 * logvar).exp().amax(0)).max().item()
        if ratio > FLOAT32_RATIO:
            if device.type == "mps":  # MPS has no float64: all we can do is say so
                warnings.warn(
                    f"max |mu| / min sigma = {ratio:.3g} exceeds {FLOAT32_RATIO:g}: {dtype} rounding "
                    "may bias the mixture estimate by more than 1e-3 nats, and MPS has no float64",
                    RuntimeWarning, stacklevel=3,
                )
            else:  # float32 would cancel: compute in float64, return the input dtype
                mu, logvar, dtype = mu.double(), logvar.double(), torch.float64
                elems = _block_elems(device, 8, max_bytes)
                db = max(1, min(d, elems // n))
                rows = chunk_size if chunk_size is not None else max(1, elems // (n * db))
    log_sd = 0.5 * logvar
    log_n = math.log(n)
    acc_dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
    total = torch.zeros(d, dtype=acc_dtype, device=device)
    for _ in range(n_samples):
        eps = torch.randn(
            (n, d), generator=generator, dtype=out_dtype,
            device=generator.device if generator is not None else device,
        ).to(device, dtype)  # drawn for all factors at once, in the input dtype: neither blocking
        # nor the float64 upgrade changes the draws
        for j0 in range(0, d, db):
            sl = slice(j0, min(d, j0 + db))
            inv = (-log_sd[:, sl]).exp()  # (N, db) 1/sigma_m
            inv_t, loc_t = inv.T.contiguous(), (mu[:, sl] * inv).T.contiguous()  # (db, N)
            const_t = (-log_sd[:, sl] - 0.5 * LOG_2PI).T.contiguous()  # (db, N)
            z = mu[:, sl] + log_sd[:, sl].exp() * eps[:, sl]  # (N, db)
            log_own = -log_sd[:, sl] - 0.5 * LOG_2PI - 0.5 * eps[:, sl].pow(2)  # (N, db)
            for i0 in range(0, n, rows):
                t = z[i0 : i0 + rows, :, None] * inv_t - loc_t  # (c, db, N) standardised
                log_mix = torch.logsumexp(const_t - 0.5 * t.pow(2), dim=-1) - log_n
                term = (log_own[i0 : i0 + rows] - log_mix).clamp_max(log_n)  # <= log N exactly
                total[sl] += term.sum(0).to(acc_dtype)
    return (total / (n * n_samples)).to(out_dtype)


def factor_mi(
    mu: Tensor,
    logvar: Tensor,
    *,
    method: str = "auto",
    n_samples: int = 1,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
    distributed: bool = False,
    group=None,
) -> Tensor:
    """Estimate I(x; z_j) in nats for every factor j; returns shape (d,).

    Args:
        mu, logvar: encoder outputs over the data set, each (N, d), N >= 2, finite.
        method: ``"auto"`` (fast where it is in its regime and its error estimate passes, else
            mixture), ``"fast"`` (deterministic FFT-grid entropy; raises for the factors it
            refuses), ``"mixture"`` (consistent Monte Carlo, capped at log N) or ``"gaussian"``
            (closed form of the authors' code; an upper bound, exact for Gaussian aggregates).
        n_samples: Monte-Carlo samples per point (mixture only).
        generator: torch.Generator for the samples (mixture only); None uses the global RNG.
        chunk_size: query points per block (mixture only); None derives it from the memory
            budget (CPU 256 MiB, CUDA half the free memory).
        distributed: with ``torch.distributed`` initialised, each process passes its own shard
            (N_r, d) of one data set and every process gets the MI of the union, without
            gathering the posteriors: the ranges are all-reduced (min/max), then the fast
            estimator's spectra and counts (sums). Methods ``"auto"`` and ``"fast"`` only; factors
            that ``"auto"`` sends to the mixture estimator are gathered and computed on rank 0,
            then broadcast.
        group: the ``torch.distributed`` process group (default: the world).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    _check_posterior(mu, logvar, min_points=1 if distributed else 2)
    mc = dict(n_samples=n_samples, generator=generator, chunk_size=chunk_size)
    if distributed:
        return _distributed_mi(mu, logvar, method, mc, group)
    if method == "mixture":
        return mixture_mi(mu, logvar, **mc)
    if method == "gaussian":
        return gaussian_mi(mu, logvar)
    if method == "fast":
        return fastmi.fast_mi(mu, logvar)
    out = torch.empty(mu.shape[1], dtype=_as_float(mu).dtype, device=mu.device)
    extremes = fastmi.ranges(mu, logvar)
    ok = fastmi.in_regime_from_ranges(*extremes)  # decided once, in float64
    if ok.all():  # the usual case: no copy of the columns
        est, err = fastmi.fast_mi_with_error(mu, logvar, extremes=extremes)
        out[:] = est.to(out.dtype)
        ok = err <= fastmi.FAST_TOLERANCE  # refused by its error estimate
    elif ok.any():
        est, err = fastmi.fast_mi_with_error(mu[:, ok], logvar[:, ok], extremes=tuple(t[ok] for t in extremes))
        out[ok] = est.to(out.dtype)
        ok[ok.clone()] = err <= fastmi.FAST_TOLERANCE  # refused by its error estimate
    if not ok.all():
        out[~ok] = mixture_mi(mu[:, ~ok], logvar[:, ~ok], **mc).to(out.dtype)  # float64 where needed
    return out


def _distributed_mi(mu: Tensor, logvar: Tensor, method: str, mc: dict, group) -> Tensor:
    """factor_mi over the shards of all processes of ``group``; see ``factor_mi(distributed=True)``."""
    import torch.distributed as dist

    if method not in ("auto", "fast"):
        raise ValueError(f"distributed=True supports method 'auto' or 'fast', not {method!r}")
    lo, hi, sd_lo, sd_hi = fastmi.ranges(mu, logvar)
    for t, op in ((lo, dist.ReduceOp.MIN), (hi, dist.ReduceOp.MAX), (sd_lo, dist.ReduceOp.MIN),
                  (sd_hi, dist.ReduceOp.MAX)):
        dist.all_reduce(t, op=op, group=group)
    ok = fastmi.in_regime_from_ranges(lo, hi, sd_lo, sd_hi)
    if method == "fast" and not ok.all():
        raise ValueError(f"factors {(~ok).nonzero().flatten().tolist()[:10]} are outside the fast "
                         "estimator's regime; use method='auto'")
    out = torch.empty(mu.shape[1], dtype=torch.float64, device=mu.device)
    if ok.any():
        acc = fastmi.Accumulator(lo[ok], hi[ok], sd_lo[ok], sd_hi[ok]).add(mu[:, ok], logvar[:, ok])
        est, err = acc.all_reduce(group).result()
        out[ok] = est
        ok[ok.clone()] = err <= fastmi.FAST_TOLERANCE
        if method == "fast" and not ok.all():
            raise ValueError(f"factors {(~ok).nonzero().flatten().tolist()[:10]}: the fast estimator's "
                             "error estimate exceeds its tolerance; use method='auto'")
    if not ok.all():  # the rare fallback: gather those factors' posteriors, compute on rank 0
        cols = (~ok).nonzero().flatten()
        sizes = [torch.zeros((), dtype=torch.long, device=mu.device) for _ in range(dist.get_world_size(group))]
        dist.all_gather(sizes, torch.tensor(mu.shape[0], device=mu.device), group=group)
        width = int(max(sizes))
        part = torch.zeros(width, 2 * len(cols), dtype=torch.float64, device=mu.device)
        part[: mu.shape[0]] = torch.cat([mu[:, cols], logvar[:, cols]], 1).double()
        parts = [torch.empty_like(part) for _ in sizes]
        dist.all_gather(parts, part, group=group)
        both = torch.cat([p[: int(s)] for p, s in zip(parts, sizes)])
        res = torch.empty(len(cols), dtype=torch.float64, device=mu.device)
        if dist.get_rank(group) == 0:
            res = mixture_mi(both[:, : len(cols)], both[:, len(cols) :], **mc).double()
        dist.broadcast(res, src=dist.get_global_rank(group, 0) if group is not None else 0, group=group)
        out[cols] = res
    return out.to(_as_float(mu).dtype)


def bootstrap_ci(
    mu: Tensor, logvar: Tensor, *, n_boot: int = 200, level: float = 0.95, seed: int = 0, method: str = "auto",
) -> tuple[Tensor, Tensor, Tensor]:
    """Percentile bootstrap over data points of every factor's MI: (lower, upper, sd), each (d,), nats.

    Each of ``n_boot`` replicates draws N of the N posteriors with replacement (seeded by ``seed``)
    and recomputes ``factor_mi(method=method)``. The interval measures *sampling* error: how much
    the estimate would move with another data sample of the same size, not the estimator's
    numerical error (for ``"fast"``, ``fastmi.fast_mi_with_error``). Duplicated posteriors in a
    replicate are fine: the fast estimator is validated on them.
    """
    _check_posterior(mu, logvar)
    if n_boot < 2 or not 0 < level < 1:
        raise ValueError(f"need n_boot >= 2 and 0 < level < 1, got n_boot={n_boot}, level={level}")
    g = torch.Generator().manual_seed(seed)
    n = mu.shape[0]
    reps = torch.stack([
        factor_mi(mu[idx], logvar[idx], method=method, generator=g).double().cpu()
        for idx in (torch.randint(0, n, (n,), generator=g).to(mu.device) for _ in range(n_boot))])
    tail = (1 - level) / 2
    lo, hi = torch.quantile(reps, torch.tensor([tail, 1 - tail], dtype=torch.float64), dim=0)
    return lo, hi, reps.std(0)


def aggregate_quadrature(mu: Tensor, logvar: Tensor, *, points_per_sd: int = 10) -> dict[str, Tensor]:
    """Brute-force quadrature of the empirical aggregate q(z_j) of every factor, float64.

    Returns ``{"entropy": H(q(z_j)), "kl_prior": KL(q(z_j) || N(0, 1))}``, each (d,), nats. The
    integrals use the trapezoid rule on a grid of spacing min_n sigma_nj / points_per_sd over
    mu +- 10 sigma, q evaluated exactly from all N components: O(N G) per factor.
    """
    _check_posterior(mu, logvar)
    mu, logvar = mu.double(), logvar.double()
    sd = (0.5 * logvar).exp()
    n, d = mu.shape
    entropy = torch.empty(d, dtype=torch.float64, device=mu.device)
    kl_prior = torch.empty(d, dtype=torch.float64, device=mu.device)
    for j in range(d):
        m, s = mu[:, j], sd[:, j]
        h = float(s.min()) / points_per_sd
        grid = torch.arange(float((m - 10 * s).min()), float((m + 10 * s).max()) + h, h,
                            dtype=torch.float64, device=mu.device)
        ent = cross = torch.zeros((), dtype=torch.float64, device=mu.device)
        for zc in grid.split(max(1, 2**22 // n)):
            lq = torch.logsumexp(-0.5 * ((zc[:, None] - m) / s).pow(2) - s.log(), dim=1)
            q = (lq - 0.5 * LOG_2PI - math.log(n)).exp()
            ent = ent - (q * (lq - 0.5 * LOG_2PI - math.log(n))).sum() * h
            cross = cross + (q * (0.5 * zc.pow(2) + 0.5 * LOG_2PI)).sum() * h
        entropy[j], kl_prior[j] = ent, cross - ent
    return {"entropy": entropy, "kl_prior": kl_prior}


def quadrature_mi(mu: Tensor, logvar: Tensor, *, points_per_sd: int = 10) -> Tensor:
    """Reference: the exact empirical-mixture MI by brute-force quadrature; (d,), float64.

    I_j = H(q(z_j)) - mean_n 1/2 log(2 pi e sigma_nj^2), the entropy from
    :func:`aggregate_quadrature`. For tests and benchmarks.
    """
    ent = aggregate_quadrature(mu, logvar, points_per_sd=points_per_sd)["entropy"]
    return ent - (0.5 * (LOG_2PI + 1) + 0.5 * logvar.double().mean(0))


def joint_mi(
    mu: Tensor, logvar: Tensor, *, n_samples: int = 1, generator: torch.Generator | None = None
) -> Tensor:
    """Monte-Carlo I(x; z) of the whole latent vector against the N-point aggregate; scalar, nats.

    Like ``mixture_mi`` but with d-dimensional samples and densities: O(N^2 d). Capped at log N.
    """
    _check_posterior(mu, logvar)
    mu, logvar = _as_float(mu), _as_float(logvar)
    n, d = mu.shape
    log_sd = 0.5 * logvar
    rows = max(1, _block_elems(mu.device, mu.element_size()) // (n * d))
    total = torch.zeros((), dtype=torch.float64, device=mu.device)
    for _ in range(n_samples):
        eps = torch.randn((n, d), generator=generator, dtype=mu.dtype,
                          device=generator.device if generator is not None else mu.device).to(mu.device)
        z = mu + log_sd.exp() * eps
        log_own = (-log_sd - 0.5 * LOG_2PI - 0.5 * eps.pow(2)).sum(1)  # (N,)
        for i0 in range(0, n, rows):
            t = (z[i0 : i0 + rows, None, :] - mu) * (-log_sd).exp()  # (c, N, d)
            log_comp = (-log_sd - 0.5 * LOG_2PI - 0.5 * t.pow(2)).sum(-1)  # (c, N)
            log_mix = torch.logsumexp(log_comp, dim=1) - math.log(n)
            total += (log_own[i0 : i0 + rows] - log_mix).sum().double()
    return (total / (n * n_samples)).to(mu.dtype)


def subsampled_mi(
    mu: Tensor, logvar: Tensor, *, n_points: int = 10_000, generator: torch.Generator | None = None
) -> Tensor:
    """Marginal-entropy estimator of Chen et al. (2018, used for MIG); (d,), nats.

    Draw ``n_points`` indices n uniformly, z ~ q(z_j|x_n), estimate
    H(z_j) = -mean log (1/N) sum_m q(z|x_m) against all N posteriors, and subtract the
    exact mean conditional entropy mean_n 1/2 log(2 pi e sigma_nj^2). O(n_points N d).
    """
    _check_posterior(mu, logvar)
    mu, logvar = _as_float(mu), _as_float(logvar)
    n, d = mu.shape
    dev = generator.device if generator is not None else mu.device
    idx = torch.randint(0, n, (n_points,), generator=generator, device=dev).to(mu.device)
    eps = torch.randn((n_points, d), generator=generator, device=dev, dtype=mu.dtype).to(mu.device)
    z = mu[idx] + (0.5 * logvar[idx]).exp() * eps  # (S, d)
    log_sd = 0.5 * logvar
    inv_t, loc_t = (-log_sd).exp().T.contiguous(), (mu * (-log_sd).exp()).T.contiguous()
    const_t = (-log_sd - 0.5 * LOG_2PI).T.contiguous()
    rows = max(1, _block_elems(mu.device, mu.element_size()) // (n * d))
    ent = torch.zeros(d, dtype=torch.float64, device=mu.device)
    for zc in z.split(rows):
        t = zc[:, :, None] * inv_t - loc_t  # (c, d, N)
        ent -= (torch.logsumexp(const_t - 0.5 * t.pow(2), dim=-1) - math.log(n)).sum(0).double()
    cond = 0.5 * (LOG_2PI + 1) + log_sd.double().mean(0)
    return (ent / n_points - cond).to(mu.dtype)


@torch.no_grad()
def encode_dataset(model, data, batch_size: int = 512, device: str | torch.device | None = None):
    """Encode a whole data set: returns (mu, logvar), each (N, d), on ``device``.

    ``data`` is a tensor of inputs or a Dataset whose items are inputs or (input, ...) tuples.
    ``device`` defaults to the model's device.
    """
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    mus, logvars = [], []
    for xb in _batches(data, batch_size):
        mu, logvar = model.encode(xb.to(device))
        mus.append(mu)
        logvars.append(logvar)
    model.train(was_training)
    return torch.cat(mus), torch.cat(logvars)


def _batches(data, batch_size: int):
    if isinstance(data, Tensor):
        yield from data.split(batch_size)
        return
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False)
    for item in loader:
        yield item[0] if isinstance(item, (tuple, list)) else item
