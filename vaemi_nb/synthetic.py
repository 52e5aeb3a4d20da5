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
