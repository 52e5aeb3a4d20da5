"""The two MIG estimators peers use, written from their formulas, to compare with ``metrics.mig``.

* :func:`tcvae_mig`, the estimator of beta-TCVAE (Chen et al. 2018; disentangling-vae uses the
  same one): every entropy of I(z_j; v_k) = H(z_j) - sum_v p(v) H(z_j | v_k = v) is estimated by
  Monte Carlo, from S = min(10,000, group size) points z ~ q(z_j | x_n), each scored against the
  mixture of all posteriors of its group: H ~ -mean_s log (1/N_g) sum_{m in group} q(z_s | x_m).
  Cost O(S N d) per factor (K + 1 passes over the data); unbiased for each log-density, but the
  log of a mixture of few components is noisy, and the estimate is random.
* :func:`histogram_mig`, the estimator of disentanglement_lib (Locatello et al. 2019): the
  posterior *means* of each latent are discretised into 20 equal-width bins over their range,
  I(bin_j; v_k) is the plug-in mutual information of the two discrete labels
  (``sklearn.metrics.mutual_info_score``, nats), and the gaps are divided by the plug-in H(v_k).
  It ignores the posterior variances (a latent whose means spread but whose posteriors overlap
  still scores), and its value depends on the number of bins.

Both return MIG as ``metrics.mig`` does: the mean over factors of the normalised gap between the
two largest I(z_j; v_k).
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import mutual_info_score
from torch import Tensor

from . import metrics, mi

TCVAE_SAMPLES = 10_000
HISTOGRAM_BINS = 20


def tcvae_factor_latent_mi(mu: Tensor, logvar: Tensor, factors: Tensor, *, n_samples: int = TCVAE_SAMPLES,
                           generator: torch.Generator | None = None) -> Tensor:
    """I(z_j; v_k) by beta-TCVAE's sampling estimator; (d, K) float64, nats.

    Each entropy uses ``mi.subsampled_mi`` (S = min(n_samples, group size) sampled points against
    the group's posteriors; it returns H minus the group's exact mean conditional entropy, and those
    terms cancel in the weighted difference, as in ``metrics.factor_latent_mi``).
    """
    factors = metrics._check(mu, logvar, factors)
    n = len(mu)
    whole = mi.subsampled_mi(mu, logvar, n_points=min(n_samples, n), generator=generator).double()
    out = torch.empty(mu.shape[1], factors.shape[1], dtype=torch.float64, device=mu.device)
    for k in range(factors.shape[1]):
        cond = torch.zeros(mu.shape[1], dtype=torch.float64, device=mu.device)
        for v in torch.unique(factors[:, k]):
            rows = (factors[:, k] == v).nonzero()[:, 0]
            if len(rows) >= 2:  # one point: its entropy is its component's, so the term is 0
                part = mi.subsampled_mi(mu[rows], logvar[rows], n_points=min(n_samples, len(rows)),
                                        generator=generator)
                cond += len(rows) / n * part.double()
        out[:, k] = whole - cond
    return out


def tcvae_mig(mu: Tensor, logvar: Tensor, factors: Tensor, *, n_samples: int = TCVAE_SAMPLES,
              generator: torch.Generator | None = None) -> float:
    """MIG from :func:`tcvae_factor_latent_mi` (beta-TCVAE's estimator)."""
    matrix = tcvae_factor_latent_mi(mu, logvar, factors, n_samples=n_samples, generator=generator)
    return float(metrics.normalized_gaps(matrix, factors).mean())


def histogram_factor_latent_mi(mu: Tensor, factors: Tensor, *, bins: int = HISTOGRAM_BINS) -> Tensor:
    """Plug-in I(bin_j; v_k) of the posterior means binned into ``bins`` equal-width bins; (d, K), nats."""
    means = mu.detach().double().cpu().numpy()
    f = torch.as_tensor(factors)
    f = (f[:, None] if f.dim() == 1 else f).cpu().numpy()
    binned = [np.digitize(m, np.histogram_bin_edges(m, bins=bins)[:-1]) for m in means.T]
    return torch.tensor([[mutual_info_score(f[:, k], b) for k in range(f.shape[1])] for b in binned],
                        dtype=torch.float64)


def histogram_mig(mu: Tensor, factors: Tensor, *, bins: int = HISTOGRAM_BINS) -> float:
    """MIG from :func:`histogram_factor_latent_mi` (disentanglement_lib's estimator)."""
    matrix = histogram_factor_latent_mi(mu, factors, bins=bins)
    return float(metrics.normalized_gaps(matrix, factors).mean())
