"""Fast, deterministic per-factor MI: the aggregate's entropy on an FFT grid, with an error estimate.

For the empirical mixture q(z_j) = (1/N) sum_n N(z; mu_n, sigma_n^2) of one factor,

    I_j = (1/N) sum_n KL(q(z|x_n) || q(z_j)) = H(q(z_j)) - (1/N) sum_n 1/2 log(2 pi e sigma_n^2),

so only the entropy of a one-dimensional Gaussian mixture is needed. We evaluate q(z_j) on a
uniform grid of spacing h = c * min_n sigma_n and integrate -q log q with the trapezoid rule.

Evaluating q on the grid in O(N P + B G log G) (G grid points, B kernel bins, P deposit nodes):

* Each component's variance is split as sigma^2 = s^2 + v with 0 <= v < L^2, where
  L = h 2^l is the coarsest power-of-two multiple of h with L <= c sigma (its *lattice*), and
  s^2 = b L^2 for the integer b = floor(sigma^2 / L^2). Components sharing (l, b) form a bin.
* A component is deposited on its lattice as P point masses on the nodes nearest its mean, with
  weights that match the first P raw moments (orders 0 .. P-1) of N(mu, v) exactly (a P x P
  Vandermonde system with a closed-form inverse; weights may be negative).
* Convolving a bin's deposit with the sampled Gaussian N(0, s^2) (exactly: the discrete Fourier
  transform of the sampled kernel, aliases included) gives q on the grid. The result reproduces
  every component's moments up to order P - 1 exactly; the first error is a cumulant of order P,
  of relative size about (L / sigma)^P <= c^P.

**Error estimate.** The same pass deposits every component twice, with ``ORDER`` = 5 nodes and with
``CHECK_ORDER`` = 3 nodes, and returns the 5-node entropy together with |H_5 - H_3| as its
a-posteriori error estimate (an embedded pair, as in adaptive ODE solvers: the lower order's error
is much larger than the higher order's, so their difference over-estimates the error of the
value returned). A factor whose estimate exceeds ``FAST_TOLERANCE`` is refused by
:func:`fast_mi` and sent to the Monte-Carlo mixture estimator by ``mi.factor_mi(method="auto")``.
The 3-node deposit alone (the previous version of this module) errs by up to 0.012 nats when many
posteriors are duplicated at lattice mid-points: their third-cumulant errors add up. The 5-node
deposit removes the third and fourth cumulant errors, and the estimate catches what is left.
The estimate is a measured certificate, not a proof: ``tools/fast_adversary.py`` searches for
configurations where it fails (duplicated, lattice-aligned posteriors, sd ratios, N from 2 to
10^5, grids up to ``MAX_GRID``), and the fast-MI chapter reports the worst case found.

Other error sources, all far below the tolerance: the trapezoid rule on a smooth density sampled
at h <= sigma_min / 2 (spectrally small), wrap-around of the periodic grid (padding of ``PAD_SD``
widest sds leaves mass below exp(-40)), and float64 rounding.

The work is split so that it can be accumulated over batches and processes: :func:`ranges` gives
each factor's mean and sd extremes, :class:`Accumulator` builds each factor's grid from them and
sums the deposits' spectra batch by batch (memory O(d G), not O(N d)); spectra and counts add up,
so ``torch.distributed.all_reduce`` of them gives the spectrum of the union of shards.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

FAST_TOLERANCE = 0.01  # nats: the error estimate a returned value must pass
DEFAULT_C = 0.5  # grid spacing / narrowest posterior sd, and lattice spacing / sd
MAX_GRID = 2**21  # grid points per factor (range / (c * sigma_min)); beyond: refused
MAX_SD_RATIO = 1e4  # largest sigma_max / sigma_min admitted per factor
PAD_SD = 9.0  # grid padding beyond the outermost means, in units of the widest sd
MAX_BLOCK = 2**23  # deposit values per batched FFT: scratch memory about 48 bytes each (400 MB)
ORDER = 5  # deposit nodes of the returned value: matches raw moments 0 .. ORDER-1
CHECK_ORDER = 3  # deposit nodes of the embedded check
HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def grid_size_from_ranges(mu_min: Tensor, mu_max: Tensor, sd_min: Tensor, sd_max: Tensor,
                          c: float = DEFAULT_C) -> Tensor:
    """(max mu - min mu + 2 PAD_SD max sd) / (c min sd), rounded up; float64, shape (d,)."""
    span = (mu_max.double() - mu_min.double()) + 2 * PAD_SD * sd_max.double()
    return (span / (c * sd_min.double())).ceil()


def ranges(mu: Tensor, logvar: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-factor (min mu, max mu, min sd, max sd), each (d,) float64: what fixes the grids."""
    # extremes first, in the input dtype (exact), then float64: sd = exp(logvar / 2) is monotone
    sd_lo, sd_hi = ((0.5 * t.double()).exp() for t in logvar.aminmax(dim=0))
    mu_lo, mu_hi = (t.double() for t in mu.aminmax(dim=0))
    return mu_lo, mu_hi, sd_lo, sd_hi


def grid_size(mu: Tensor, logvar: Tensor, c: float = DEFAULT_C) -> Tensor:
    """Grid points each factor needs, computed in float64 whatever the input dtype; (d,)."""
    return grid_size_from_ranges(*ranges(mu, logvar), c)


def in_regime_from_ranges(mu_min: Tensor, mu_max: Tensor, sd_min: Tensor, sd_max: Tensor,
                          c: float = DEFAULT_C) -> Tensor:
    """Boolean (d,): the two conditions of :func:`in_regime`, from the factors' ranges."""
    ratio = sd_max.double() / sd_min.double()
    return (grid_size_from_ranges(mu_min, mu_max, sd_min, sd_max, c) <= MAX_GRID) & (ratio <= MAX_SD_RATIO)


def in_regime(mu: Tensor, logvar: Tensor, c: float = DEFAULT_C) -> Tensor:
    """Boolean (d,): factors the fast estimator accepts.

    Exactly two conditions, both evaluated in float64 (so float32 and float64 copies of the same
    posteriors get the same answer): the grid, (max mu - min mu + 2 PAD_SD max sd) / (c min sd)
    points, has at most ``MAX_GRID`` points, and max sd / min sd <= ``MAX_SD_RATIO``. Nothing
    else (no range of sd or mu) is checked: the estimator is invariant to shifting and scaling a
    factor, so only these two ratios matter. Inside the regime a value is still returned only if
    its error estimate passes (see the module docstring).
    """
    return in_regime_from_ranges(*ranges(mu, logvar), c)


def _nodes_and_inverse(order: int) -> tuple[Tensor, Tensor]:
    """Deposit node offsets (order,) centred on the nearest node, and the inverse of their
    Vandermonde matrix V[m, i] = t_i^m: weights = moments @ inverse.T."""
    nodes = torch.arange(order, dtype=torch.float64) - (order - 1) // 2
    vander = nodes[None, :] ** torch.arange(order, dtype=torch.float64)[:, None]
    return nodes, torch.linalg.inv(vander)


_NODES = {p: _nodes_and_inverse(p) for p in (CHECK_ORDER, ORDER)}


def _gaussian_moments(delta: Tensor, u: Tensor, order: int) -> Tensor:
    """Raw moments E[X^m], m = 0 .. order-1, of X ~ N(delta, u); shape (N, order)."""
    m = [torch.ones_like(delta), delta]
    for k in range(2, order):  # E X^k = delta E X^(k-1) + (k-1) u E X^(k-2)
        m.append(delta * m[-1] + (k - 1) * u * m[-2])
    return torch.stack(m[:order], dim=1)


@dataclass(frozen=True)
class Grid:
    """The FFT grid of one factor: ``size`` points lo, lo + h, ...; lattices of spacing h 2^l."""

    lo: float
    h: float
    size: int
    sd_min: float
    levels: int  # lattice levels 0 .. levels - 1
    c: float

    @classmethod
    def from_ranges(cls, mu_min: float, mu_max: float, sd_min: float, sd_max: float,
                    c: float = DEFAULT_C) -> Grid:
        h = c * sd_min
        levels = int(math.floor(math.log2(sd_max / sd_min) + 1e-9)) + 1
        step_max = 2 ** (levels - 1)
        pad = PAD_SD * sd_max + (ORDER // 2 + 1) * h * step_max  # deposits reach ORDER // 2 nodes out
        lo = mu_min - pad
        size = int(math.ceil((mu_max + pad - lo) / h)) + 1
        size = -(-size // step_max) * step_max  # a multiple of every lattice step
        return cls(lo, h, size, sd_min, levels, c)

    def frequencies(self, device) -> Tensor:
        return 2 * math.pi * torch.fft.rfftfreq(self.size, d=self.h, device=device, dtype=torch.float64)

    def spectrum(self, mu: Tensor, sd: Tensor) -> Tensor:
        """Fourier transform on this grid of the deposits of the components (mu, sd) (float64, (n,)),
        for the returned order and the check order; complex128, (2, size // 2 + 1), unnormalised
        (the sum over components, each of unit mass)."""
        dev = mu.device
        level = torch.floor(torch.log2(sd / self.sd_min) + 1e-9).clamp(0, self.levels - 1).long()
        big_h = self.h * torch.pow(2.0, level.double())
        ratio2 = (sd / big_h).pow(2)  # sigma^2 / L^2, in [1 / c^2, 4 / c^2)
        b = torch.floor(ratio2).clamp_min(1)
        u = (ratio2 - b).clamp_min(0)  # the deposit's variance / L^2, in [0, 1)
        x = (mu - self.lo) / big_h
        k = torch.round(x)
        moments = _gaussian_moments(x - k, u, ORDER)
        nodes5, inv5 = (t.to(dev) for t in _NODES[ORDER])
        _, inv3 = (t.to(dev) for t in _NODES[CHECK_ORDER])
        w5 = moments @ inv5.T  # (n, ORDER)
        w3 = moments[:, :CHECK_ORDER] @ inv3.T  # (n, CHECK_ORDER), on the middle nodes
        step = torch.pow(2, level)
        idx = ((k.long()[:, None] + nodes5.long()[None, :]) * step[:, None])  # (n, ORDER) grid indices
        n_b = int(round(4 / self.c**2)) + 2  # b < 4 / c^2 (+ rounding)
        key = level * n_b + b.long().clamp_max(n_b - 1)
        used = torch.bincount(key, minlength=self.levels * n_b) > 0  # occupied bins, no sort needed
        keys = used.nonzero().flatten()
        bin_of = (used.long().cumsum(0) - 1)[key]
        omega = self.frequencies(dev)
        alias = 2 * math.pi / self.h
        lo3, hi3 = (ORDER - CHECK_ORDER) // 2, (ORDER + CHECK_ORDER) // 2
        out = torch.zeros(2, self.size // 2 + 1, dtype=torch.complex128, device=dev)
        per_block = max(1, MAX_BLOCK // (2 * self.size))
        for b0 in range(0, len(keys), per_block):
            nb = min(per_block, len(keys) - b0)
            if nb == len(keys):  # one block holds every bin: no selection (the usual case)
                rows, i5, v5, v3 = bin_of, idx, w5, w3
            else:
                sel = (bin_of >= b0) & (bin_of < b0 + nb)
                rows, i5, v5, v3 = bin_of[sel] - b0, idx[sel], w5[sel], w3[sel]
            row = (rows * self.size)[:, None]
            dep = torch.zeros(2 * nb * self.size, dtype=torch.float64, device=dev)
            dep.index_add_(0, torch.cat([(row + i5).reshape(-1), (row + i5[:, lo3:hi3] + nb * self.size).reshape(-1)]),
                           torch.cat([v5.reshape(-1), v3.reshape(-1)]))
            kb = keys[b0 : b0 + nb]
            var = (kb % n_b).double() * (self.h * torch.pow(2.0, (kb // n_b).double())).pow(2)  # s^2 per bin
            # DFT of the kernel sampled at spacing h: the Gaussian's transform plus its alias at
            # omega - 2 pi / h, which matters (> 1e-30) only for kernels narrower than 4 h
            kern = torch.exp(-0.5 * omega[None, :].pow(2) * var[:, None])
            narrow = var < 16 * self.h**2
            if narrow.any():
                kern[narrow] += torch.exp(-0.5 * (omega[None, :] - alias).pow(2) * var[narrow, None])
            out += (torch.fft.rfft(dep.view(2, nb, self.size), dim=2) * kern).sum(1)
        return out

    def entropy(self, spectrum: Tensor, n: int) -> Tensor:
        """Entropies (nats) of the density whose summed spectrum over n components is given; (2,)."""
        q = (torch.fft.irfft(spectrum, n=self.size) / (n * self.h)).clamp_min(0)
        return -torch.special.xlogy(q, q).sum(-1) * self.h


class Accumulator:
    """The fast estimator's sufficient statistics for d factors, summed over batches of posteriors.

    Build it from every factor's ranges over the whole data set (:func:`ranges`, combined over
    batches or processes by min/max), :meth:`add` batches, optionally :meth:`all_reduce` over a
    ``torch.distributed`` group, then :meth:`result`. Memory: two spectra of G / 2 + 1 complex
    values per factor.
    """

    def __init__(self, mu_min: Tensor, mu_max: Tensor, sd_min: Tensor, sd_max: Tensor,
                 c: float = DEFAULT_C, device=None):
        self.grids = [Grid.from_ranges(float(a), float(b), float(s), float(t), c)
                      for a, b, s, t in zip(mu_min.tolist(), mu_max.tolist(), sd_min.tolist(), sd_max.tolist())]
        self.device = torch.device(device) if device is not None else mu_min.device
        self.spectra = [torch.zeros(2, g.size // 2 + 1, dtype=torch.complex128, device=self.device)
                        for g in self.grids]
        self.n = torch.zeros((), dtype=torch.float64, device=self.device)
        self.logvar_sum = torch.zeros(len(self.grids), dtype=torch.float64, device=self.device)

    def add(self, mu: Tensor, logvar: Tensor) -> Accumulator:
        """Deposit a batch of posteriors, (n, d) each, lying inside the ranges given."""
        mu, logvar = mu.double().to(self.device), logvar.double().to(self.device)
        sd = (0.5 * logvar).exp()
        for j, g in enumerate(self.grids):
            self.spectra[j] += g.spectrum(mu[:, j], sd[:, j])
        self.n += mu.shape[0]
        self.logvar_sum += logvar.sum(0)
        return self

    def all_reduce(self, group=None) -> Accumulator:
        """Sum the statistics over the processes of a torch.distributed group (in place)."""
        import torch.distributed as dist

        for s in self.spectra:
            dist.all_reduce(torch.view_as_real(s), group=group)
        dist.all_reduce(self.n, group=group)
        dist.all_reduce(self.logvar_sum, group=group)
        return self

    def orders(self) -> Tensor:
        """MI with the ``ORDER``-node and the ``CHECK_ORDER``-node deposits; (2, d) float64 nats,
        capped at log N (the exact value never exceeds it)."""
        n = int(round(float(self.n)))
        ent = torch.stack([g.entropy(s, n) for g, s in zip(self.grids, self.spectra)], 1)  # (2, d)
        cond = HALF_LOG_2PI_E + 0.5 * self.logvar_sum / n
        return (ent - cond).clamp_max(math.log(n))

    def result(self) -> tuple[Tensor, Tensor]:
        """(MI, error estimate |MI - MI with the check deposit|), each (d,) float64 nats."""
        both = self.orders()
        return both[0], (both[0] - both[1]).abs()


def fast_mi_orders(mu: Tensor, logvar: Tensor, *, c: float = DEFAULT_C,
                   extremes: tuple[Tensor, Tensor, Tensor, Tensor] | None = None) -> Tensor:
    """MI of every factor with the ``ORDER``- and the ``CHECK_ORDER``-node deposits; (2, d) float64
    nats; no regime check, no refusal. One factor at a time: the scratch memory is one grid's.
    ``extremes``: :func:`ranges` of these posteriors, if already computed."""
    n = mu.shape[0]
    lo, hi, sd_lo, sd_hi = (r.tolist() for r in (extremes or ranges(mu, logvar)))
    # (d, N): factors contiguous; transposed before the cast, which then copies contiguous memory
    mu_t, lv_t = mu.T.contiguous().double(), logvar.T.contiguous().double()
    sd_t = (0.5 * lv_t).exp()
    out = torch.empty(2, mu.shape[1], dtype=torch.float64, device=mu.device)
    for j in range(mu.shape[1]):  # as Accumulator(...).add(...).orders(), one factor's grid at a time
        grid = Grid.from_ranges(lo[j], hi[j], sd_lo[j], sd_hi[j], c)
        cond = HALF_LOG_2PI_E + 0.5 * lv_t[j].mean()
        out[:, j] = (grid.entropy(grid.spectrum(mu_t[j], sd_t[j]), n) - cond).clamp_max(math.log(n))
    return out


def fast_mi_with_error(mu: Tensor, logvar: Tensor, *, c: float = DEFAULT_C,
                       extremes: tuple[Tensor, Tensor, Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """(MI, error estimate) of every factor, each (d,) float64 nats; no regime check, no refusal.
    ``extremes``: :func:`ranges` of these posteriors, if already computed."""
    both = fast_mi_orders(mu, logvar, c=c, extremes=extremes)
    return both[0], (both[0] - both[1]).abs()


def fast_mi(mu: Tensor, logvar: Tensor, *, c: float = DEFAULT_C) -> Tensor:
    """Deterministic estimate of the exact empirical-mixture MI of each factor; (d,), nats.

    Computes in float64 on the tensors' device and returns the input dtype, capped at log N.
    Inputs are validated by ``vaemi_nb.mi.factor_mi``. Raises ValueError naming the factors
    outside the regime (:func:`in_regime`) or whose error estimate exceeds ``FAST_TOLERANCE``:
    use ``method="auto"``, which sends them to the mixture estimator.
    """
    out_dtype = mu.dtype if mu.is_floating_point() else torch.float32
    extremes = ranges(mu, logvar)
    ok = in_regime_from_ranges(*extremes, c)
    if not ok.all():
        bad = (~ok).nonzero().flatten().tolist()
        raise ValueError(
            f"factors {bad[:10]}{' ...' if len(bad) > 10 else ''} are outside the fast "
            f"estimator's regime (more than {MAX_GRID:,} grid points, or sd ratio "
            f"above {MAX_SD_RATIO:g}); use method='auto' or method='mixture' for them"
        )
    est, err = fast_mi_with_error(mu, logvar, c=c, extremes=extremes)
    bad = (err > FAST_TOLERANCE).nonzero().flatten().tolist()
    if bad:
        raise ValueError(
            f"factors {bad[:10]}{' ...' if len(bad) > 10 else ''}: the fast estimator's error "
            f"estimate exceeds {FAST_TOLERANCE} nats; use method='auto' or method='mixture' for them"
        )
    return est.to(out_dtype)
