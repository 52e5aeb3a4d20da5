"""Synthetic encoder outputs with known mutual information (ground truth for the estimators)."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def gaussian_channel_mi(a: Tensor, sigma: Tensor) -> Tensor:
    """True I(x; z_j) in nats of the channel z_j = a_j u + sigma_j e, u, e ~ N(0, 1)."""
    a, sigma = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(sigma, dtype=torch.float64)
    return 0.5 * torch.log1p((a / sigma) ** 2)


def amplitude_for_mi(mi: Tensor, sigma: float | Tensor = 1.0) -> Tensor:
    """Amplitude a with gaussian_channel_mi(a, sigma) == mi (nats)."""
    mi = torch.as_tensor(mi, dtype=torch.float64)
    return torch.as_tensor(sigma, dtype=torch.float64) * torch.sqrt(torch.expm1(2 * mi))


def gaussian_channel(
    n: int,
    a: Tensor,
    sigma: Tensor | float = 1.0,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor, Tensor]:
    """Posterior parameters of a linear-Gaussian encoder with known MI.

    Each data point has a scalar source u_n ~ N(0, 1); factor j has posterior
    q(z_j | x_n) = N(a_j u_n, sigma_j^2), so the aggregate q(z_j) = N(0, a_j^2 + sigma_j^2)
    is Gaussian and I(x; z_j) = 1/2 log(1 + a_j^2 / sigma_j^2).

    Returns (mu, logvar, true_mi) with shapes (n, d), (n, d), (d,).
    """
    a = torch.as_tensor(a, dtype=torch.float64).reshape(-1)
    sigma = torch.broadcast_to(torch.as_tensor(sigma, dtype=torch.float64), a.shape)
    u = torch.randn(n, 1, generator=generator, dtype=torch.float64)
    mu = u * a
    logvar = (2 * sigma.log()).expand(n, -1)
    return mu.to(dtype), logvar.to(dtype).contiguous(), gaussian_channel_mi(a, sigma)


def bimodal_channel(
    n: int, separation: float = 4.0, sigma: float = 0.5, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, float]:
    """One factor whose posterior means sit at +-separation/2 with equal probability.

    The aggregate is a two-component mixture, far from Gaussian. When separation >> sigma the
    true MI approaches log 2 nats (the factor carries one bit), which is returned as the
    large-separation limit.
    """
    signs = torch.randint(0, 2, (n, 1), generator=generator).float() * 2 - 1
    mu = signs * separation / 2
    logvar = torch.full_like(mu, 2 * math.log(sigma))
    return mu, logvar, math.log(2)


def vae_like(
    n: int, d: int, *, generator: torch.Generator | None = None, collapsed: float = 0.25
) -> tuple[Tensor, Tensor]:
    """Posterior parameters shaped like a trained VAE's: (mu, logvar), each (n, d), float32.

    A fraction ``collapsed`` of the factors is near the prior (mu ~ 0, sd ~ 1); the others are
    informative with heteroscedastic sd between 0.02 and 0.3 and bimodal, skewed means (so the
    aggregate is not Gaussian), with spreads growing across factors.
    """
    n_off = int(round(collapsed * d))
    spread = torch.linspace(0.5, 2.0, d, dtype=torch.float64)
    mode = torch.randint(0, 2, (n, d), generator=generator).double()
    mu = spread * (torch.randn(n, d, generator=generator, dtype=torch.float64) * 0.6 + 1.5 * mode - 0.5)
    log_sd = math.log(0.02) + torch.rand(n, d, generator=generator, dtype=torch.float64) * math.log(15)
    off = torch.arange(d) >= d - n_off
    mu[:, off] = 0.01 * torch.randn(n, int(off.sum()), generator=generator, dtype=torch.float64)
    log_sd[:, off] = 0.01 * torch.randn(n, int(off.sum()), generator=generator, dtype=torch.float64)
    return mu.float(), (2 * log_sd).float()


def validation_cases(n: int = 400, seed: int = 0) -> dict[str, tuple[Tensor, Tensor]]:
    """Hard one-factor posteriors for validating the fast estimator: name -> (mu, logvar), (n, 1).

    Together they span sd from 0.005 to 5 and means up to ±20, with collapsed, heteroscedastic
    and multimodal aggregates, and one factor whose sd spans a ratio of 1e4 (float64).
    """
    g = torch.Generator().manual_seed(seed)
    u = lambda *s: torch.rand(*s, generator=g, dtype=torch.float64)  # noqa: E731
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    full = lambda v: torch.full((n,), v, dtype=torch.float64)  # noqa: E731
    half = n // 2
    cases = {
        "heteroscedastic, sd 0.005-5": (r(n) * 5, 0.005 * torch.exp(u(n) * math.log(1000))),
        "narrow multimodal, means to ±20": (
            torch.randint(0, 6, (n,), generator=g).double() * 8 - 20 + 0.01 * r(n), full(0.005)),
        "collapsed (mu 0, sd 1)": (full(0.0), full(1.0)),
        "near-collapsed": (0.01 * r(n), torch.exp(0.01 * r(n))),
        "sd 0.005 and 5 mixed, means to ±20": (
            torch.cat([(r(half) * 20).clamp(-20, 20), r(n - half)]),
            torch.cat([full(0.005)[:half], full(5.0)[half:]])),
        "uniform sd and mu": (u(n) * 40 - 20, 0.005 + u(n) * 5),
        "bimodal, wide": (torch.sign(r(n)) * 10 + r(n), 0.5 + u(n)),
        "trained-VAE-like factor": (r(n), 0.02 * torch.exp(u(n) * math.log(15))),
        "sd ratio 1e4 (5e-4 to 5)": (r(n), 5e-4 * torch.exp(u(n) * math.log(1e4))),
    }
    return {k: (mu[:, None], (2 * sd.log())[:, None]) for k, (mu, sd) in cases.items()}


def aligned_duplicates(
    k: int = 5, *, max_count: int = 2000, sd_ratio: float = 3.0, c: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One factor of k distinct posteriors, each repeated up to ``max_count`` times, with their means
    at the mid-points of their deposit lattice in the fast estimator's grid (``vaemi_nb.fastmi``).

    The hard case for moment-matched deposits: duplicated components share their deposit error, so
    the errors add up instead of averaging out, and at a lattice mid-point the third cumulant of a
    3-node deposit is largest. The leftmost posterior is a single anchor with the narrowest sd (it
    fixes the grid's origin, mean of the narrowest minus the padding); the others lie to its right
    within a few sds. Returns (mu, logvar), float64, (N, 1).
    """
    from . import fastmi  # the grid whose lattices the means are aligned to

    u = lambda *s: torch.rand(*s, generator=generator, dtype=torch.float64)  # noqa: E731
    sd = torch.cat([torch.ones(1, dtype=torch.float64), torch.exp(u(k) * math.log(sd_ratio))])
    sd[1] = 1.0  # a duplicated component at the narrowest sd as well
    spread = 3.0 * float(sd.max())
    mean = torch.cat([torch.zeros(1, dtype=torch.float64), 0.5 + u(k) * spread])
    grid = fastmi.Grid.from_ranges(0.0, 0.0, 1.0, float(sd.max()), c)  # the origin depends on min mu only
    big_h = grid.h * torch.pow(2.0, torch.floor(torch.log2(sd) + 1e-9))  # each component's lattice
    mid = grid.lo + (torch.floor((mean - grid.lo) / big_h) + 0.5) * big_h
    mean = torch.cat([mean[:1], mid[1:].clamp(max=float(mean.max()) + 1.0)])
    counts = torch.cat([torch.ones(1, dtype=torch.long),
                        torch.randint(1, max_count + 1, (k,), generator=generator)])
    mu = torch.repeat_interleave(mean, counts)[:, None]
    return mu, (2 * torch.repeat_interleave(sd, counts).log())[:, None]


def linear_gaussian_channel(
    n: int, mixing: Tensor, sigma: float = 0.5, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Factorised Gaussian posteriors N(A u_n, sigma^2 I) with correlated factors and known MIs.

    ``mixing`` A is (d, k); u_n ~ N(0, I_k). The aggregate is N(0, A A^T + sigma^2 I), so
    I(x; z) = 1/2 log det(I + A A^T / sigma^2), I(x; z_j) = 1/2 log(1 + |A_j|^2 / sigma^2) and
    the total correlation TC(q(z)) = sum_j I(x; z_j) - I(x; z), all in nats.

    Returns (mu, logvar) of shape (n, d) and ``{"factor": (d,), "joint": scalar, "tc": scalar}``.
    """
    a = torch.as_tensor(mixing, dtype=torch.float64)
    u = torch.randn(n, a.shape[1], generator=generator, dtype=torch.float64)
    mu = u @ a.T
    logvar = torch.full_like(mu, 2 * math.log(sigma))
    factor = 0.5 * torch.log1p(a.pow(2).sum(1) / sigma**2)
    joint = 0.5 * torch.logdet(torch.eye(a.shape[0], dtype=torch.float64) + a @ a.T / sigma**2)
    return mu.float(), logvar.float(), {"factor": factor, "joint": joint, "tc": factor.sum() - joint}


def gaussian_data(
    n: int, dim: int = 20, scales=(2.0, 1.5, 1.0, 0.5), noise: float = 0.1, *, seed: int = 0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, float]:
    """Samples x = W s + noise e in ``dim`` dimensions with known differential entropy.

    s ~ N(0, diag(scales^2)), W a fixed (seeded) matrix with orthonormal columns, e ~ N(0, I).
    Returns (x (n, dim) float32, h(x) in nats) with h(x) = 1/2 log det(2 pi e Sigma).
    """
    scales = torch.as_tensor(scales, dtype=torch.float64)
    w, _ = torch.linalg.qr(torch.randn(dim, len(scales), generator=torch.Generator().manual_seed(seed),
                                       dtype=torch.float64))
    cov = w @ torch.diag(scales**2) @ w.T + noise**2 * torch.eye(dim, dtype=torch.float64)
    s = torch.randn(n, len(scales), generator=generator, dtype=torch.float64) * scales
    x = s @ w.T + noise * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    h = 0.5 * torch.logdet(2 * math.pi * math.e * cov).item()
    return x.float(), h


def noisy_code_data(
    n: int, dim: int = 12, bits: int = 3, flip: float = 0.05, *, seed: int = 0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, float]:
    """Binary vectors with known entropy: a random codeword of ``bits`` fair bits, bits flipped.

    2^bits fixed (seeded) codewords in {0, 1}^dim; each sample picks one uniformly and flips each
    coordinate with probability ``flip``. Returns (x (n, dim) float32 in {0, 1}, H(x) in nats),
    H(x) computed exactly by enumerating all 2^dim binary vectors (dim <= 16).
    """
    if dim > 16:
        raise ValueError(f"dim must be <= 16 for exact enumeration, got {dim}")
    codes = torch.randint(0, 2, (2**bits, dim), generator=torch.Generator().manual_seed(seed)).double()
    pick = torch.randint(0, 2**bits, (n,), generator=generator)
    flips = (torch.rand(n, dim, generator=generator, dtype=torch.float64) < flip).double()
    x = (codes[pick] + flips) % 2
    states = ((torch.arange(2**dim)[:, None] >> torch.arange(dim)) & 1).double()  # (2^dim, dim)
    dist = (states[:, None, :] != codes[None]).double().sum(-1)  # Hamming distances
    p = (flip**dist * (1 - flip) ** (dim - dist)).mean(1)  # (2^dim,)
    return x.float(), float(-(p * p.log()).sum())


def factor_grid(levels: tuple[int, ...], repeats: int = 1) -> Tensor:
    """Every combination of factor classes, ``repeats`` times each: (repeats * prod(levels), K) int64,
    a balanced grid like dSprites'."""
    grid = torch.cartesian_prod(*[torch.arange(n) for n in levels]).reshape(-1, len(levels))
    return grid.repeat(repeats, 1)


def known_factor_encoder(
    levels: tuple[int, ...] = (3, 4, 5), repeats: int = 6, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Posteriors of an encoder with known structure over a balanced factor grid (K >= 3 factors).

    Returns (mu, logvar, factors): (N, 6), (N, 6) float64 and (N, K) int64, N = repeats * prod(levels).
    Latents: 0 disentangled (factor 0, well separated: I(z_0; v_0) close to H(v_0)); 1 disentangled
    and heteroscedastic (factor 1, sd from 0.05 to 0.8 varying with the point); 2 entangled (factor 0
    plus factor 2, overlapping); 3 collapsed (mu 0, sd 1: I = 0 with every factor); 4 nuisance (spread
    by noise independent of the factors, sd 0.3); 5 weak (factor 2 through a channel with SNR ~ 0.1).
    """
    r = lambda *s: torch.randn(*s, generator=generator, dtype=torch.float64)  # noqa: E731
    u = lambda *s: torch.rand(*s, generator=generator, dtype=torch.float64)  # noqa: E731
    f = factor_grid(levels, repeats)
    n = len(f)
    v = f.double() / torch.tensor([max(lv - 1, 1) for lv in levels], dtype=torch.float64)  # in [0, 1]
    mu = torch.stack([
        8 * v[:, 0] + 0.05 * r(n),
        4 * v[:, 1] + 0.1 * r(n),
        v[:, 0] + v[:, 2] + 0.3 * r(n),
        torch.zeros(n, dtype=torch.float64),
        r(n),
        0.1 * v[:, 2] + 0.1 * r(n),
    ], 1)
    sd = torch.stack([
        torch.full((n,), 0.1, dtype=torch.float64),
        0.05 * torch.exp(u(n) * math.log(16)),
        torch.full((n,), 0.4, dtype=torch.float64),
        torch.ones(n, dtype=torch.float64),
        torch.full((n,), 0.3, dtype=torch.float64),
        torch.full((n,), 0.3, dtype=torch.float64),
    ], 1)
    return mu, 2 * sd.log(), f
