"""The fast estimator against the exact empirical-mixture value (brute-force quadrature)."""
import math
import resource

import pytest
import torch

from vaemi_nb import fastmi, mi, synthetic

TOL = fastmi.FAST_TOLERANCE  # 0.01 nats


CASES = synthetic.validation_cases()


@pytest.mark.parametrize("name", list(CASES))
def test_fast_within_tolerance_of_quadrature(name):
    mu, logvar = CASES[name]
    assert fastmi.in_regime(mu, logvar).all()
    ref = mi.quadrature_mi(mu, logvar)
    fast = mi.factor_mi(mu, logvar, method="fast")
    assert fast.dtype == torch.float64
    assert (fast - ref).abs().max() < TOL, (name, fast.item(), ref.item())
    # the validated bound holds with a wide margin; the derived error model predicts ~1e-4
    assert (fast - ref).abs().max() < 1e-3


def test_fast_agrees_with_mixture_monte_carlo():
    mu, logvar, truth = synthetic.gaussian_channel(
        20_000, synthetic.amplitude_for_mi(torch.tensor([0.0, 0.5, 1.0, 2.0, 3.0]), 0.3), 0.3,
        generator=torch.Generator().manual_seed(1))
    fast = mi.factor_mi(mu, logvar, method="fast")
    mix = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(2))
    assert fast.dtype == torch.float32
    assert (fast - mix).abs().max() < 0.03  # Monte-Carlo noise of the mixture estimate
    assert (fast.double() - truth).abs().max() < 0.03
    assert fast[0].abs() < 1e-6  # collapsed factor


def test_fast_is_deterministic_and_shape_invariant():
    mu, logvar = CASES["heteroscedastic, sd 0.005-5"]
    mu2, lv2 = torch.cat([mu, mu.flip(0)], 1), torch.cat([logvar, logvar.flip(0)], 1)
    a = mi.factor_mi(mu2, lv2, method="fast")
    b = mi.factor_mi(mu2, lv2, method="fast")
    assert torch.equal(a, b)
    assert abs(a[0] - a[1]) < 1e-9  # the order of the data points does not matter


def test_outside_regime_raises_and_auto_falls_back():
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(300, 2, generator=g, dtype=torch.float64) * 20
    logvar = torch.zeros(300, 2, dtype=torch.float64)
    logvar[:, 1] = 2 * math.log(1e-7)  # sd 1e-7 over a span of ~100: 1e9 grid points
    assert fastmi.in_regime(mu, logvar).tolist() == [True, False]
    with pytest.raises(ValueError, match=r"factors \[1\] are outside the fast estimator.s regime"):
        mi.factor_mi(mu, logvar, method="fast")
    auto = mi.factor_mi(mu, logvar, method="auto", generator=torch.Generator().manual_seed(4))
    mix = mi.factor_mi(mu[:, 1:], logvar[:, 1:], method="mixture",
                       generator=torch.Generator().manual_seed(4))
    fast = mi.factor_mi(mu[:, :1], logvar[:, :1], method="fast")
    assert auto[1].item() == pytest.approx(mix[0].item(), abs=1e-9)  # the fallback is the mixture
    assert auto[0].item() == pytest.approx(fast[0].item(), abs=1e-12)
    assert auto[1] <= math.log(300) + 1e-6


def test_sd_ratio_outside_regime():
    mu = torch.zeros(10, 1, dtype=torch.float64)
    logvar = torch.zeros(10, 1, dtype=torch.float64)
    logvar[0] = 2 * math.log(1e-5)  # sd ratio 1e5
    assert not fastmi.in_regime(mu, logvar).any()


def test_large_n_runs_in_bounded_memory():
    """N = 200,000, d = 64 on CPU: the peak resident memory grows by well under 24 GB."""
    g = torch.Generator().manual_seed(5)
    n, d = 200_000, 64
    mu = torch.randn(n, d, generator=g) * torch.linspace(0.01, 3, d)
    logvar = 2 * torch.log(0.05 + torch.rand(n, d, generator=g))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    est = mi.factor_mi(mu, logvar)  # auto: all factors are in the fast regime
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert est.shape == (d,) and torch.isfinite(est).all()
    assert grown < 4 * 2**20, f"peak memory grew by {grown / 2**20:.1f} GiB"
    assert (est[1:] >= est[:-1] - 0.05).float().mean() > 0.9  # more spread, more information


def test_regime_is_decided_in_float64_for_float32_inputs():
    """Float32 posteriors whose grid sits at MAX_GRID: the default factor_mi never raises, and the
    regime of a float32 tensor is that of its float64 copy."""
    g = torch.Generator().manual_seed(9)
    mu = torch.rand(200, 1, generator=g)
    mu[0], mu[1] = 0.0, 1.0  # span exactly 1 + padding
    for k in range(-40, 41):
        # sd such that the grid has MAX_GRID + k points, give or take rounding
        sd = (1.0 + 2 * fastmi.PAD_SD * 1e-6) / (fastmi.DEFAULT_C * (fastmi.MAX_GRID + k))
        logvar = torch.full_like(mu, 2 * math.log(sd))
        assert torch.equal(fastmi.in_regime(mu, logvar), fastmi.in_regime(mu.double(), logvar.double()))
        est = mi.factor_mi(mu, logvar, generator=torch.Generator().manual_seed(k + 100))
        assert est.item() <= math.log(200) + 1e-6


def test_fast_within_tolerance_near_max_grid():
    """The largest grids the regime admits: 16 posteriors, sd 1 to 100, grid ~0.95 MAX_GRID."""
    g = torch.Generator().manual_seed(10)
    n = 16
    sd = torch.exp(torch.rand(n, 1, generator=g, dtype=torch.float64) * math.log(100))
    sd[0] = 1.0
    span = 0.95 * fastmi.MAX_GRID * fastmi.DEFAULT_C - 2 * fastmi.PAD_SD * float(sd.max())
    mu = torch.rand(n, 1, generator=g, dtype=torch.float64) * span
    mu[-2], mu[-1] = 0.0, span  # the grid spans exactly 0.95 MAX_GRID
    mu[:3] = mu[3] + torch.tensor([[0.0], [0.7], [2.1]])  # some overlap, so that MI < log N
    logvar = 2 * sd.log()
    size = fastmi.grid_size(mu, logvar).item()
    assert 0.9 * fastmi.MAX_GRID < size <= fastmi.MAX_GRID and fastmi.in_regime(mu, logvar).all()
    ref = mi.quadrature_mi(mu, logvar, points_per_sd=8)
    fast = mi.factor_mi(mu, logvar, method="fast")
    assert abs(fast.item() - ref.item()) < 1e-3, (fast.item(), ref.item())


def test_deposit_matches_gaussian_moments():
    """The 5- and 3-node weights reproduce the raw moments of N(delta, u) up to orders 4 and 2."""
    g = torch.Generator().manual_seed(12)
    delta = torch.rand(200, generator=g, dtype=torch.float64) - 0.5
    u = torch.rand(200, generator=g, dtype=torch.float64)
    for order in (fastmi.CHECK_ORDER, fastmi.ORDER):
        nodes, inv = fastmi._NODES[order]
        target = fastmi._gaussian_moments(delta, u, order)
        w = target @ inv.T
        got = torch.stack([(w * nodes**m).sum(1) for m in range(order)], 1)
        assert torch.allclose(got, target, atol=1e-12)
    x = delta + u.sqrt() * torch.randn(200, 20_000, generator=g, dtype=torch.float64).T  # Monte-Carlo check
    assert torch.allclose(fastmi._gaussian_moments(delta, u, 5)[:, 4], x.pow(4).mean(0), atol=0.4)  # 5 MC sds


def test_grid_values_are_the_sampled_gaussian():
    """A component on a lattice node with no leftover variance is deposited exactly, so the grid
    holds its density sampled at the grid points (the kernel's DFT is exact, aliases included)."""
    grid = fastmi.Grid.from_ranges(0.0, 0.0, 1.0, 1.0)
    mu = torch.zeros(1, dtype=torch.float64)  # a node (the grid starts 21 h to its left); sd 1 = 2 h: v = 0
    q = torch.fft.irfft(grid.spectrum(mu, torch.ones(1, dtype=torch.float64))[0], n=grid.size) / grid.h
    z = grid.lo + grid.h * torch.arange(grid.size, dtype=torch.float64)
    exact = torch.exp(-0.5 * (z - mu) ** 2) / math.sqrt(2 * math.pi)
    assert (q - exact).abs().max() < 1e-14


def test_batches_and_one_pass_agree():
    mu, logvar = CASES["heteroscedastic, sd 0.005-5"]
    whole = fastmi.Accumulator(*fastmi.ranges(mu, logvar)).add(mu, logvar).result()
    acc = fastmi.Accumulator(*fastmi.ranges(mu, logvar))
    for part in torch.tensor_split(torch.arange(len(mu)), 3):
        acc.add(mu[part], logvar[part])
    for a, b in zip(whole, acc.result()):
        assert torch.allclose(a, b, atol=1e-12)


def test_aligned_duplicates_within_tolerance():
    """The family that defeated the 3-node deposit: the 5-node value stays far inside the tolerance."""
    g = torch.Generator().manual_seed(13)
    worst5 = worst3 = 0.0
    for _ in range(8):
        mu, logvar = synthetic.aligned_duplicates(5, max_count=1000, generator=g)
        ref = mi.quadrature_mi(mu, logvar).item()
        five, three = fastmi.fast_mi_orders(mu, logvar)[:, 0].tolist()
        worst5, worst3 = max(worst5, abs(five - ref)), max(worst3, abs(three - ref))
    assert worst5 < TOL / 10 and worst5 < worst3, (worst5, worst3)


def test_refused_by_the_error_estimate(monkeypatch):
    """A factor whose error estimate exceeds the tolerance: fast raises, auto computes the mixture."""
    mu, logvar = CASES["bimodal, wide"]
    monkeypatch.setattr(fastmi, "FAST_TOLERANCE", 1e-12)  # every estimate now exceeds it
    with pytest.raises(ValueError, match="error estimate exceeds"):
        mi.factor_mi(mu, logvar, method="fast")
    auto = mi.factor_mi(mu, logvar, generator=torch.Generator().manual_seed(14))
    mix = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(14))
    assert auto.item() == pytest.approx(mix.item(), abs=1e-12)
