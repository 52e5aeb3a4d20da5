"""Fast, deterministic per-factor MI: the aggregate's entropy on an FFT grid.

For the empirical mixture q(z_j) = (1/N) sum_n N(z; mu_n, sigma_n^2) of one factor,

    I_j = (1/N) sum_n KL(q(z|x_n) || q(z_j)) = H(q(z_j)) - (1/N) sum_n 1/2 log(2 pi e sigma_n^2),

so only the entropy of a one-dimensional Gaussian mixture is needed. We evaluate q(z_j) on a
uniform grid of spacing h <= c * min_n sigma_n and integrate -q log q with the trapezoid rule.

Evaluating q on the grid in O(N + B G log G) (G grid points, B sigma-bins):

* Each component's variance is split as sigma^2 = s_b^2 + v with 0 <= v < H^2, where
  H = h 2^l is the coarsest power-of-two multiple of h with H <= c sigma, and s_b^2 = b H^2 for
  the integer b = floor(sigma^2 / H^2). Components sharing (l, b) form a bin.
* A component is deposited on the lattice of spacing H as three point masses around its mean,
  at the nearest lattice node and its two neighbours, with weights chosen so that the deposit's
  mass, mean and variance are exactly 1, mu and v (weights (m2 +- delta)/2 and 1 - m2 with
  delta the offset in units of H and m2 = delta^2 + v/H^2).
* Convolving a bin's deposit with N(0, s_b^2) (a product with exp(-omega^2 s_b^2 / 2) after an
  FFT) then reproduces every component's mass, mean and variance exactly.

Error model (derived in the chapter "How fast can we measure MI?"). A deposit matches the
mass, mean and variance of N(mu, v), so its characteristic function differs at third order:
|dphi(omega)| <= 1.4 (|omega| H)^3 exp(-omega^2 s_b^2 / 2). The perturbation is made of Hermite
terms of order >= 3, orthogonal to the quadratic log-density of an isolated Gaussian, so the
entropy error scales as c^p with p >= 3. Trapezoid rule and kernel aliasing add about
exp(-2 pi^2 / c^2); padding by 9 widest sds leaves wrapped mass below exp(-40). A worst-case
constant from these steps is far too loose, so it is calibrated: on
``synthetic.validation_cases`` (sigma from 5e-4 to 5, |mu| up to 20, sigma ratios up to 1e4
within a factor; collapsed, heteroscedastic and multimodal aggregates) the worst error at the
default c = 1/2 is about 1e-4 nats, and the documented bound ``FAST_TOLERANCE`` = 0.01 nats is
tested to hold there with a margin of at least 10 (tests/unit/test_fastmi.py, N = 400, and a
grid of 0.95 ``MAX_GRID``; the benchmark, ``python -m vaemi_nb.bench``, measures it again at N up
to 60,000). :func:`in_regime` checks a data set against it, and :func:`fast_mi` refuses factors
outside it.

Known limit: this is a measured tolerance, not a certified bound. The error model covers
isolated components; when many posteriors are duplicated with means near lattice mid-points,
their third-cumulant errors add up instead of averaging out, and the error can reach the
tolerance (``tools/fast_adversary.py`` searches for such configurations).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

FAST_TOLERANCE = 0.01  # nats: the validated bound on |fast - exact empirical-mixture value|
DEFAULT_C = 0.5  # grid spacing / narrowest posterior sd, and deposit spacing / sd
MAX_GRID = 2**21  # grid points per factor (range / (c * sigma_min)); beyond: not validated
MAX_SD_RATIO = 1e4  # largest sigma_max / sigma_min validated per factor
PAD_SD = 9.0  # grid padding beyond the outermost means, in units of the widest sd
MAX_BLOCK = 2**23  # grid values per batched FFT: scratch memory <= about 48 bytes each (400 MB)
HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def grid_size(mu: Tensor, logvar: Tensor, c: float = DEFAULT_C) -> Tensor:
    """Grid points needed for each factor, computed in float64 whatever the input dtype; (d,)."""
    mu, logvar = mu.double(), logvar.double()
    sd = (0.5 * logvar).exp()
    span = (mu.amax(0) - mu.amin(0)) + 2 * PAD_SD * sd.amax(0)
    return (span / (c * sd.amin(0))).ceil()


def in_regime(mu: Tensor, logvar: Tensor, c: float = DEFAULT_C) -> Tensor:
    """Boolean (d,): factors where the fast estimator's error bound is validated.

    Exactly two conditions, both evaluated in float64 (so float32 and float64 copies of the same
    posteriors get the same answer): the grid, (max mu - min mu + 2 PAD_SD max sd) / (c min sd)
    points, has at most ``MAX_GRID`` points, and max sd / min sd <= ``MAX_SD_RATIO``. Nothing
    else (no range of sd or mu) is checked: the estimator is invariant to shifting and scaling a
    factor, so only these two ratios matter.
    """
    logvar = logvar.double()
    sd_ratio = (0.5 * (logvar.amax(0) - logvar.amin(0))).exp()
    return (grid_size(mu, logvar, c) <= MAX_GRID) & (sd_ratio <= MAX_SD_RATIO)


def _entropy_1d(mu: Tensor, sd: Tensor, c: float) -> Tensor:
    """Entropy (nats) of the mixture (1/N) sum_n N(mu_n, sd_n^2); float64 tensors of shape (N,)."""
    n = mu.numel()
    h = c * sd.min()
    level = torch.floor(torch.log2(c * sd / h) + 1e-9).clamp_min(0).long()
    big_h = h * torch.pow(2.0, level.double())
    b = torch.floor(sd.pow(2) / big_h.pow(2)).clamp_min(1)
    v = sd.pow(2) - b * big_h.pow(2)
    step_max = int(2 ** int(level.max()))
    pad = PAD_SD * float(sd.max()) + 2 * float(big_h.max())
    lo = float(mu.min()) - pad
    g = int(math.ceil((float(mu.max()) + pad - lo) / float(h))) + 1
    g = -(-g // step_max) * step_max  # a multiple of every lattice step
    # deposit: nearest lattice node of spacing H, offset delta in units of H
    x = (mu - lo) / big_h
    k = torch.round(x)
    delta = x - k
    m2 = delta.pow(2) + v / big_h.pow(2)
    weights = torch.stack([(m2 - delta) / 2, 1 - m2, (m2 + delta) / 2], dim=1)  # (N, 3)
    step = torch.pow(2, level)  # lattice step in grid cells
    idx = (k.long() * step)[:, None] + step[:, None] * torch.tensor([-1, 0, 1], device=mu.device)
    # bins: one per distinct (level, b)
    key = level * (int(b.max()) + 1) + b.long()
    keys, bin_of = torch.unique(key, return_inverse=True)
    kern_sd = torch.zeros(len(keys), dtype=mu.dtype, device=mu.device)
    kern_sd.scatter_(0, bin_of, (b * big_h.pow(2)).sqrt())
    omega = 2 * math.pi * torch.fft.rfftfreq(g, d=float(h), device=mu.device, dtype=mu.dtype)
    spectrum = torch.zeros(g // 2 + 1, dtype=torch.complex128, device=mu.device)
    per_block = max(1, MAX_BLOCK // g)
    for b0 in range(0, len(keys), per_block):
        nb = min(per_block, len(keys) - b0)
        sel = (bin_of >= b0) & (bin_of < b0 + nb)
        dep = torch.zeros(nb * g, dtype=mu.dtype, device=mu.device)
        flat = ((bin_of[sel] - b0)[:, None] * g + idx[sel]).reshape(-1)
        dep.index_add_(0, flat, weights[sel].reshape(-1))
        kern = torch.exp(-0.5 * (omega[None, :] * kern_sd[b0 : b0 + nb, None]).pow(2))
        spectrum += (torch.fft.rfft(dep.view(nb, g), dim=1) * kern).sum(0)
    q = torch.fft.irfft(spectrum, n=g) / (n * h)
    q = q.clamp_min(0)
    nz = q > 0
    return -(q[nz] * q[nz].log()).sum() * h


def fast_mi(mu: Tensor, logvar: Tensor, *, c: float = DEFAULT_C) -> Tensor:
    """Deterministic estimate of the exact empirical-mixture MI of each factor; (d,), nats.

    Computes in float64 on the tensors' device and returns the input dtype, capped at log N.
    Inputs are
    validated by ``vaemi_nb.mi.factor_mi``. Factors outside the validated regime
    (:func:`in_regime`) raise ValueError naming them: use ``method="auto"``, which sends them to
    the mixture estimator.
    """
    out_dtype = mu.dtype if mu.is_floating_point() else torch.float32
    mu, logvar = mu.double(), logvar.double()
    ok = in_regime(mu, logvar, c)
    if not ok.all():
        bad = (~ok).nonzero().flatten().tolist()
        raise ValueError(
            f"factors {bad[:10]}{' ...' if len(bad) > 10 else ''} are outside the fast "
            f"estimator's validated regime (more than {MAX_GRID:,} grid points, or sd ratio "
            f"above {MAX_SD_RATIO:g}); use method='auto' or method='mixture' for them"
        )
    sd = (0.5 * logvar).exp()
    cond = HALF_LOG_2PI_E + 0.5 * logvar.mean(0)  # mean conditional entropy, (d,)
    ent = torch.stack([_entropy_1d(mu[:, j], sd[:, j], c) for j in range(mu.shape[1])])
    # the exact empirical-mixture MI never exceeds log N, so the cap only moves an estimate towards it
    return (ent - cond).clamp_max(math.log(mu.shape[0])).to(out_dtype)
