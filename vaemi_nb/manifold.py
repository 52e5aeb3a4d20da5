"""Data of known intrinsic dimension, and per-factor statistics of VAEs trained on it.

``intrinsic_data(n, k)`` draws k independent sources s ~ U[-1, 1]^k, pushes them through a
fixed (seeded) injective nonlinear map into ``dim`` dimensions and adds Gaussian noise:

    x = standardise(W2 tanh(W1 s + b1)) + noise * e,    e ~ N(0, I_dim).

W1 (dim, k) and b1 (dim,) are Gaussian; W2 (dim, dim) is a random rotation, so the map is
injective (tanh is monotone and W1 has rank k) and its Jacobian has rank exactly k everywhere:
the noiseless data lie on a k-dimensional manifold. Standardisation uses the mean and sd of a
fixed reference sample of the map, so the map does not depend on n. A seed s uses the random
streams s (the map), s + 1 (the sources) and s + 2 (the noise).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from . import ablation, train
from . import mi as _mi
from .models import VAE

SOURCE_SCALE = 1.5  # sd of W1's entries: tanh units are visibly nonlinear on s in [-1, 1]
REFERENCE_POINTS = 20_000  # fixed sample used to standardise the map's outputs


def _params(k: int, dim: int, seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """(W1, b1, W2, mean, sd) of the map for (k, dim, seed), float64; independent of n."""
    g = torch.Generator().manual_seed(seed)
    w1 = torch.randn(dim, k, generator=g, dtype=torch.float64) * SOURCE_SCALE
    b1 = torch.randn(dim, generator=g, dtype=torch.float64) * 0.5
    w2, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))
    ref = torch.rand(REFERENCE_POINTS, k, generator=g, dtype=torch.float64) * 2 - 1
    h = torch.tanh(ref @ w1.T + b1) @ w2.T
    return w1, b1, w2, h.mean(0), h.std(0)


def _check(n: int, k: int, dim: int, noise: float) -> None:
    if k < 1:
        raise ValueError(f"k (intrinsic dimension) must be >= 1, got {k}")
    if dim < k:
        raise ValueError(f"dim must be >= k = {k}, got dim = {dim}")
    if n < 1:
        raise ValueError(f"n (number of points) must be >= 1, got {n}")
    if noise < 0:
        raise ValueError(f"noise (standard deviation) must be >= 0, got {noise}")


def embed(s: Tensor, dim: int = 20, seed: int = 0) -> Tensor:
    """The noiseless map of sources s (n, k) in [-1, 1]^k to (n, dim), float64, standardised."""
    if s.dim() != 2:
        raise ValueError(f"s must have shape (n, k), got {tuple(s.shape)}")
    _check(1, s.shape[1], dim, 0.0)
    w1, b1, w2, mean, sd = _params(s.shape[1], dim, seed)
    return (torch.tanh(s.double() @ w1.T + b1) @ w2.T - mean) / sd


def sources(n: int, k: int, seed: int = 0) -> Tensor:
    """n independent draws of s ~ U[-1, 1]^k, float64, shape (n, k); row i does not depend on n."""
    _check(n, k, k, 0.0)
    g = torch.Generator().manual_seed(seed + 1)  # not the map's stream
    return torch.rand(n, k, generator=g, dtype=torch.float64) * 2 - 1


def intrinsic_data(n: int, k: int, dim: int = 20, noise: float = 0.05, seed: int = 0) -> Tensor:
    """n points of intrinsic dimension k in ``dim`` dimensions, float32, shape (n, dim).

    ``embed(sources(n, k, seed), dim, seed)`` plus N(0, noise^2) noise in every coordinate.
    The same arguments give the same data, and the first m points do not depend on n (the
    noise is drawn by Box-Muller from torch.rand, whose first rows, unlike torch.randn's, do not
    depend on the tensor's size).
    """
    _check(n, k, dim, noise)
    s = sources(n, k, seed)
    u = torch.rand(n, dim, 2, generator=torch.Generator().manual_seed(seed + 2), dtype=torch.float64)
    e = (-2 * torch.log1p(-u[..., 0])).sqrt() * torch.cos(2 * math.pi * u[..., 1])
    return (embed(s, dim, seed) + noise * e).float()


def jacobian_singular_values(s: Tensor, dim: int = 20, seed: int = 0) -> Tensor:
    """Singular values of the noiseless map's Jacobian at each source point s (n, k); (n, k).

    The Jacobian diag(1/sd) W2 diag(1 - tanh^2(W1 s + b1)) W1 is (dim, k); all k singular
    values are positive iff the map is locally k-dimensional at s.
    """
    if s.dim() != 2:
        raise ValueError(f"s must have shape (n, k), got {tuple(s.shape)}")
    _check(1, s.shape[1], dim, 0.0)
    w1, b1, w2, _, sd = _params(s.shape[1], dim, seed)
    slope = 1 - torch.tanh(s.double() @ w1.T + b1).pow(2)  # (n, dim)
    jac = (w2 / sd[:, None]) @ (slope[:, :, None] * w1)  # (n, dim, k)
    return torch.linalg.svdvals(jac)


def count_influential(mi: Tensor, threshold: float) -> int:
    """Number of factors whose MI (nats, shape (d,)) exceeds ``threshold`` nats."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0 nats, got {threshold}")
    return int((torch.as_tensor(mi) > threshold).sum())


def fit_vae(x: Tensor, d: int, beta: float = 1.0, *, hidden: tuple[int, ...] = (64, 64),
            epochs: int = 40, batch_size: int = 100, lr: float = 1e-3, seed: int = 0) -> VAE:
    """An MLP VAE with d latents and a Gaussian likelihood, trained on x (n, dim); eval mode."""
    torch.manual_seed(seed)  # the initial weights; fit() seeds the rest
    model = VAE((x.shape[1],), d, arch="mlp", likelihood="gaussian", beta=beta, hidden=hidden)
    train.fit(model, x, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=False)
    return model


@torch.no_grad()
def factor_stats(model: VAE, x: Tensor) -> dict[str, Tensor]:
    """Per-factor statistics of ``model`` on x; each (d,), float64.

    ``mi``: I(x; z_j) (nats, ``factor_mi``); ``kl``: E_x KL(q(z_j|x) || N(0, 1)) (nats,
    ``mi.kl_per_dim``); ``marginal_kl``: kl - mi = KL(q(z_j) || p(z_j)) (nats, by the KL
    decomposition); ``var_mu``: Var_x E[z_j | x], the statistic ``mi.active_units`` thresholds
    (``int((var_mu > 0.01).sum())`` is the active-unit count).
    """
    mu, logvar = _mi.encode_dataset(model, x)
    mi_j = _mi.factor_mi(mu, logvar).double()
    kl = _mi.kl_per_dim(mu, logvar).double()
    return {"mi": mi_j, "kl": kl, "marginal_kl": kl - mi_j, "var_mu": mu.var(0).double()}


@torch.no_grad()
def negative_elbo(model: VAE, x: Tensor, *, n_samples: int = 20, seed: int = 0) -> float:
    """The model's training loss on x (recon + beta * KL), nats per example.

    Averaged over ``n_samples`` reparameterisation draws seeded by ``seed``; the global RNG
    state is restored afterwards.
    """
    x = x.to(next(model.parameters()).device)
    with torch.random.fork_rng(devices=[] if x.device.type == "cpu" else None):
        torch.manual_seed(seed)
        return sum(model(x).loss.item() for _ in range(n_samples)) / n_samples


def shifted_recon(model: VAE, x: Tensor, shift: Tensor, *, n_samples: int = 5, seed: int = 0) -> float:
    """E_q[-log p(x | z + shift)] on x, nats per example: every posterior moved by ``shift`` (d,).

    Shows what the decoder makes of a factor whose posteriors are all displaced by a constant.
    """
    return ablation.recon_nll(model, x, shift=shift, n_samples=n_samples, seed=seed).mean().item()


def run(k: int, d: int, beta: float, *, n: int, epochs: int, seed: int, data_seed: int | None = None,
        noise: float = 0.05) -> dict:
    """Train a VAE with d latents on ``intrinsic_data(n, k, noise=noise, seed=data_seed)``.

    ``data_seed`` defaults to ``seed`` (which also seeds the weights, training and the
    posterior samples of the loss). Returns :func:`factor_stats` (each (d,), nats) plus
    ``"loss"`` (:func:`negative_elbo`, nats per example), ``"model"`` and ``"x"``.
    """
    x = intrinsic_data(n, k, noise=noise, seed=seed if data_seed is None else data_seed)
    model = fit_vae(x, d, beta, epochs=epochs, seed=seed)
    stats = {key: v.cpu() for key, v in factor_stats(model, x).items()}
    return {**stats, "loss": negative_elbo(model, x, seed=seed), "model": model, "x": x}
