"""What each latent knows about each known factor: I(z_j; v_k) and MIG, exact on the empirical mixture, in nats.

For data whose generating factors v_1..v_K are known (dSprites), the encoder's posteriors
q(z_j | x_n) = N(mu_nj, sigma_nj^2) define, for every latent j, the aggregate q(z_j) (the mixture
of all N posteriors) and, for every value v of factor k, the group aggregate q(z_j | v_k = v)
(the mixture of the posteriors of the points with v_k = v). Then

    I(z_j; v_k) = H(q(z_j)) - sum_v p(v_k = v) H(q(z_j | v_k = v)).

Every entropy is that of an empirical Gaussian mixture, which ``mi.factor_mi`` gives exactly:
``factor_mi(S)_j = H(q_S(z_j)) - mean_{n in S} 1/2 log(2 pi e sigma_nj^2)`` for any set of points S.
The subtracted means of the groups, weighted by p(v), add up to that of all points, so

    I(z_j; v_k) = factor_mi(all)_j - sum_v p(v_k = v) factor_mi(group v)_j,

one ``factor_mi`` call per factor value (the FFT grid where valid, else the Monte-Carlo
mixture, as ``factor_mi`` decides; a group of one point has I = 0: its mixture is its own
component). Cost O(K N + sum of grid sizes) per latent, against O(S N d) per factor for the
sampling estimator of Chen et al. (2018).

MIG (Chen et al. 2018): for each factor, the gap between the two largest I(z_j; v_k) over latents,
divided by H(v_k) (the empirical entropy of the factor's values, log L for a balanced grid of L
values), averaged over factors; in [0, 1] up to estimation error.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from . import mi


def _check(mu: Tensor, logvar: Tensor, factors: Tensor) -> Tensor:
    if not isinstance(factors, Tensor):
        factors = torch.as_tensor(factors)
    factors = factors[:, None] if factors.dim() == 1 else factors
    if factors.dim() != 2 or factors.is_floating_point() or factors.dtype == torch.bool:
        raise ValueError(f"factors must be an (N, K) integer tensor of class indices, got shape "
                         f"{tuple(factors.shape)} and dtype {factors.dtype}")
    if not isinstance(mu, Tensor) or mu.dim() != 2 or len(factors) != len(mu):
        raise ValueError(f"factors has {len(factors)} rows but mu has shape {tuple(getattr(mu, 'shape', ()))}: "
                         "one row of factors per data point")
    return factors.to(mu.device)


def factor_entropy(factors: Tensor) -> Tensor:
    """Empirical entropy H(v_k) of each factor's values; (K,) float64, nats."""
    factors = torch.as_tensor(factors)
    factors = factors[:, None] if factors.dim() == 1 else factors
    out = torch.empty(factors.shape[1], dtype=torch.float64)
    for k in range(factors.shape[1]):
        p = torch.unique(factors[:, k], return_counts=True)[1].double() / len(factors)
        out[k] = -(p * p.log()).sum()
    return out


def factor_latent_mi(mu: Tensor, logvar: Tensor, factors: Tensor, *, generator: torch.Generator | None = None
                     ) -> Tensor:
    """I(z_j; v_k) for every latent j and factor k; shape (d, K), nats.

    Args:
        mu, logvar: encoder outputs over the data set, each (N, d), N >= 2, finite.
        factors: (N, K) or (N,) integer class indices of the known factors of each point.
        generator: for the Monte-Carlo mixture, where ``factor_mi`` falls back to it.

    Returns ``factor_mi``'s dtype (the input's floating dtype); the sums are formed in float64.
    """
    factors = _check(mu, logvar, factors)
    n = len(mu)
    whole = mi.factor_mi(mu, logvar, generator=generator)
    out = torch.empty(mu.shape[1], factors.shape[1], dtype=torch.float64, device=mu.device)
    for k in range(factors.shape[1]):
        values, inverse, counts = torch.unique(factors[:, k], return_inverse=True, return_counts=True)
        order = inverse.argsort(stable=True)
        cond = torch.zeros(mu.shape[1], dtype=torch.float64, device=mu.device)
        for rows, count in zip(order.split(counts.tolist()), counts.tolist()):
            if count >= 2:  # a single point's mixture is its own component: I = 0
                cond += (count / n) * mi.factor_mi(mu[rows], logvar[rows], generator=generator).double()
        out[:, k] = whole.double() - cond
    return out.to(whole.dtype)


def shuffled_factor_latent_mi(mu: Tensor, logvar: Tensor, factors: Tensor, *, generator: torch.Generator | None = None
                              ) -> Tensor:
    """:func:`factor_latent_mi` with each factor's values randomly permuted over the points; (d, K), nats.

    The permutation makes every latent independent of the factor while keeping the group sizes, so
    the result is what the empirical-mixture estimate reads where the true value is 0: its
    finite-sample bias at this N for these posteriors (one draw; it is positive, because groups of
    finitely many points never have exactly the same mixture).
    """
    factors = _check(mu, logvar, factors)
    perm = torch.stack([torch.randperm(len(factors), generator=generator) for _ in range(factors.shape[1])], 1)
    return factor_latent_mi(mu, logvar, factors.gather(0, perm.to(factors.device)), generator=generator)


def normalized_gaps(matrix: Tensor, factors: Tensor) -> Tensor:
    """Per factor: (largest - second largest I(z_j; v_k) over latents) / H(v_k); shape (K,).

    ``matrix`` is :func:`factor_latent_mi`'s (d, K) output for the same ``factors``; with one latent the
    second largest is 0.
    """
    h = factor_entropy(factors).to(matrix.device)
    top = matrix.double().sort(0, descending=True).values
    second = top[1] if len(top) > 1 else torch.zeros_like(top[0])
    return torch.where(h > 0, (top[0] - second) / h.clamp_min(1e-300), torch.zeros_like(h))


def mig(mu: Tensor, logvar: Tensor, factors: Tensor, *, generator: torch.Generator | None = None) -> float:
    """Mutual information gap (Chen et al. 2018), exact on the empirical mixture: the mean over factors
    of the gap between the two latents that know most about the factor, over H(v_k)."""
    return float(normalized_gaps(factor_latent_mi(mu, logvar, factors, generator=generator), factors).mean())


def quadrature_factor_latent_mi(mu: Tensor, logvar: Tensor, factors: Tensor, *, points_per_sd: int = 10) -> Tensor:
    """Reference for tests: :func:`factor_latent_mi` with every entropy by brute-force quadrature
    (``mi.aggregate_quadrature``), float64, O(N G) per latent; (d, K), nats."""
    factors = _check(mu, logvar, factors)
    n = len(mu)

    def entropy(rows):
        if len(rows) == 1:  # one Gaussian component: its own entropy
            return 0.5 * (math.log(2 * math.pi) + 1) + 0.5 * logvar[rows[0]].double()
        return mi.aggregate_quadrature(mu[rows], logvar[rows], points_per_sd=points_per_sd)["entropy"]

    whole = entropy(torch.arange(n))
    out = torch.empty(mu.shape[1], factors.shape[1], dtype=torch.float64)
    for k in range(factors.shape[1]):
        cond = torch.zeros(mu.shape[1], dtype=torch.float64)
        for v in torch.unique(factors[:, k]):
            rows = (factors[:, k] == v).nonzero()[:, 0]
            cond += len(rows) / n * entropy(rows).cpu()
        out[:, k] = whole.cpu() - cond
    return out
