"""Keeping only some factors: rankings, masks, and a classifier probe on the encoder means."""
from __future__ import annotations

import torch
from torch import Tensor, nn

ORDERS = ("top", "bottom", "random")


def select(scores: Tensor, k: int, order: str = "top", *, seed: int = 0) -> Tensor:
    """Indices of k factors: the k highest ("top") or lowest ("bottom") scores, or k at random.

    ``scores`` is (d,), e.g. each factor's MI in nats; ties are broken by factor index.
    """
    d = scores.numel()
    if not 0 <= k <= d:
        raise ValueError(f"k must be between 0 and d = {d}, got {k}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if order == "random":
        return torch.randperm(d, generator=torch.Generator().manual_seed(seed))[:k].sort().values
    ranked = torch.argsort(scores.detach().cpu().double(), descending=(order == "top"), stable=True)
    return ranked[:k].sort().values


def keep_only(z: Tensor, keep: Tensor, fill: float = 0.0) -> Tensor:
    """Copy of z (N, d) with every factor not in ``keep`` set to ``fill`` (the prior mean, 0)."""
    out = torch.full_like(z, fill)
    keep = torch.as_tensor(keep, dtype=torch.long, device=z.device)
    out[:, keep] = z[:, keep]
    return out


def fit_probe(features: Tensor, labels: Tensor, *, n_classes: int | None = None, hidden: int = 256,
              epochs: int = 20, batch_size: int = 100, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """Classifier probe (dense ``hidden`` -> classes, ReLU) on fixed features, as in the authors' code."""
    if features.shape[0] != labels.shape[0]:
        raise ValueError(f"features have {features.shape[0]} rows but labels {labels.shape[0]}")
    torch.manual_seed(seed)
    n_classes = n_classes or int(labels.max()) + 1
    probe = nn.Sequential(nn.Linear(features.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
    opt = torch.optim.Adam(probe.parameters(), lr=lr)
    order_rng = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(features), generator=order_rng).split(batch_size):
            loss = nn.functional.cross_entropy(probe(features[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return probe.eval()


@torch.no_grad()
def accuracy(probe: nn.Module, features: Tensor, labels: Tensor, keep: Tensor | None = None) -> float:
    """Fraction correct; with ``keep``, the other factors are zeroed first (no retraining)."""
    if keep is not None:
        features = keep_only(features, keep)
    return (probe(features).argmax(1) == labels).float().mean().item()


def accuracy_ci(acc: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of an accuracy measured on n test items (binomial sampling error)."""
    from scipy.stats import binomtest

    ci = binomtest(round(acc * n), n).proportion_ci(confidence_level=level, method="wilson")
    return ci.low, ci.high


@torch.no_grad()
def recon_nll(model, x: Tensor, keep: Tensor | None = None, *, shift: Tensor | None = None,
              n_samples: int = 8, seed: int = 0) -> Tensor:
    """E_{z ~ q(z|x)}[-log p(x | z)] per example, nats, shape (N,); factors not in ``keep`` at 0.

    The decoder sees z with only the kept coordinates sampled, the others at the prior mean:
    a valid decoder of z_S, so the reconstruction bound of the theory chapter applies to it.
    ``shift`` (d,) moves every posterior by a constant before decoding.
    """
    g = torch.Generator().manual_seed(seed)
    x = x.to(next(model.parameters()).device)
    mu, logvar = model.encode(x)
    if shift is not None:
        mu = mu + shift.to(mu.device, mu.dtype)
    total = torch.zeros(x.shape[0], dtype=torch.float64, device=mu.device)
    for _ in range(n_samples):
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=g).to(mu.device)
        if keep is not None:
            z = keep_only(z, keep)
        total += model.neg_log_lik(x, model.decoder_output(z)).double()
    return (total / n_samples).cpu()


def sample_posterior(mu: Tensor, logvar: Tensor, labels: Tensor, n_samples: int = 1, *, seed: int = 0):
    """Draws z ~ q(z|x): returns (z (N * n_samples, d), labels (N, ...) repeated to match)."""
    g = torch.Generator().manual_seed(seed)
    mu_r, lv_r = mu.repeat(n_samples, 1), logvar.repeat(n_samples, 1)
    z = mu_r + (0.5 * lv_r).exp() * torch.randn(mu_r.shape, generator=g, dtype=mu_r.dtype)
    return z, labels.repeat(n_samples, *([1] * (labels.ndim - 1)))
