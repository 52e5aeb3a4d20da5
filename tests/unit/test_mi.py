"""The per-factor MI estimators against analytic ground truth, their ceiling and their errors."""
import math
import warnings

import pytest
import torch

from vaemi_nb import fastmi, mi, synthetic


@pytest.fixture(scope="module")
def channel():
    """N = 20,000 points, true MI from 0 to 3 nats, plus a collapsed factor (a = 0, sigma = 1)."""
    target = torch.tensor([0.1, 0.5, 1.0, 2.0, 3.0])
    a = torch.cat([synthetic.amplitude_for_mi(target, 0.7), torch.zeros(1)])
    sigma = torch.tensor([0.7] * 5 + [1.0])
    return synthetic.gaussian_channel(20_000, a, sigma, generator=torch.Generator().manual_seed(0))


def test_analytic_mi_of_amplitude_roundtrip():
    target = torch.tensor([0.0, 0.5, 3.0], dtype=torch.float64)
    a = synthetic.amplitude_for_mi(target, 2.0)
    assert torch.allclose(synthetic.gaussian_channel_mi(a, 2.0), target, atol=1e-12)


def test_mixture_matches_analytic_truth(channel):
    mu, logvar, truth = channel
    est = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(1))
    assert est.shape == (6,)
    err = (est.double() - truth).abs()
    assert err[:5].max() < 0.03, f"errors {err.tolist()}"
    assert est[5].abs() < 0.01  # collapsed factor


def test_mixture_is_deterministic_with_generator(channel):
    mu, logvar, _ = channel
    mu, logvar = mu[:2000], logvar[:2000]
    a = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(3))
    b = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(3),
                     chunk_size=7)
    assert torch.allclose(a, b, atol=1e-5)  # chunking changes nothing but summation order


def test_mixture_memory_bound_changes_nothing(channel):
    mu, logvar, _ = channel
    mu, logvar = mu[:3000], logvar[:3000]
    small = mi.mixture_mi(mu, logvar, generator=torch.Generator().manual_seed(2), max_bytes=40_000)
    big = mi.mixture_mi(mu, logvar, generator=torch.Generator().manual_seed(2), max_bytes=2**28)
    assert torch.allclose(small, big, atol=1e-5)


def test_float64_path(channel):
    mu, logvar, truth = channel
    est = mi.factor_mi(mu[:4000].double(), logvar[:4000].double(), method="mixture",
                       generator=torch.Generator().manual_seed(4))
    assert est.dtype == torch.float64
    assert (est - truth).abs().max() < 0.08


@pytest.mark.parametrize("method", ["mixture", "fast", "auto"])
@pytest.mark.parametrize("n", [50, 400])
def test_log_n_ceiling(n, method):
    """A near-deterministic encoder (true MI ~ 9 nats) is capped at log N by any N-point mixture."""
    mu, logvar, truth = synthetic.gaussian_channel(n, torch.tensor([1.0]), 1e-4,
                                                   generator=torch.Generator().manual_seed(5),
                                                   dtype=torch.float64)
    assert truth.item() > math.log(n) + 2
    est = mi.factor_mi(mu, logvar, method=method, generator=torch.Generator().manual_seed(6)).item()
    assert est <= math.log(n) + 1e-6
    assert est > math.log(n) - 0.05  # and it sits right at the ceiling


def test_gaussian_closed_form_agrees_on_gaussian_aggregate(channel):
    mu, logvar, truth = channel
    gauss = mi.factor_mi(mu, logvar, method="gaussian")
    mix = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(1))
    assert (gauss - mix).abs().max() < 0.04
    assert (gauss.double() - truth).abs().max() < 0.03


def test_gaussian_closed_form_overestimates_bimodal():
    mu, logvar, limit = synthetic.bimodal_channel(5000, separation=6.0, sigma=0.5,
                                                  generator=torch.Generator().manual_seed(7))
    mix = mi.factor_mi(mu, logvar, method="mixture", generator=torch.Generator().manual_seed(8)).item()
    gauss = mi.factor_mi(mu, logvar, method="gaussian").item()
    assert abs(mix - limit) < 0.02  # one bit, log 2 nats
    assert gauss > mix + 0.5  # 1/2 log(1 + 9 / 0.25) = 1.8 nats: a large overestimate


def test_gaussian_closed_form_formula():
    mu = torch.tensor([[1.0], [-1.0], [3.0]])
    logvar = torch.tensor([[0.0], [math.log(0.25)], [math.log(4.0)]])
    s2 = (1 + 1 + 1 + 0.25 + 9 + 4) / 3
    expect = 0.5 * math.log(s2) - 0.5 * (0 + math.log(0.25) + math.log(4.0)) / 3
    assert mi.factor_mi(mu, logvar, method="gaussian").item() == pytest.approx(expect, rel=1e-6)


def test_kl_per_dim_and_active_units():
    mu = torch.tensor([[0.0, 1.0, 0.0], [0.0, -1.0, 0.001]])
    logvar = torch.zeros(2, 3)
    assert torch.allclose(mi.kl_per_dim(mu, logvar), torch.tensor([0.0, 0.5, 2.5e-7]), atol=1e-7)
    assert mi.active_units(mu) == 1
    assert mi.active_units(mu, threshold=1e-9) == 2


@pytest.mark.parametrize("method", ["auto", "fast", "mixture", "gaussian"])
@pytest.mark.parametrize(
    "mu, logvar, message",
    [
        (torch.zeros(5, 3), torch.zeros(5, 2), "shape mismatch"),
        (torch.zeros(1, 3), torch.zeros(1, 3), "at least 2"),
        (torch.zeros(5), torch.zeros(5), "shape (N, d)"),
        (torch.zeros(0, 3), torch.zeros(0, 3), "at least 2"),
        (torch.zeros(4, 0), torch.zeros(4, 0), "no latent dimensions"),
        (torch.tensor([[0.0], [float("nan")]]), torch.zeros(2, 1), "NaN"),
        (torch.zeros(2, 1), torch.tensor([[0.0], [float("inf")]]), "Inf"),
        (torch.zeros(2, 1), torch.tensor([[0.0], [-float("inf")]]), "variance of 0"),
    ],
)
def test_bad_input_raises(method, mu, logvar, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mi.factor_mi(mu, logvar, method=method)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'exact'"):
        mi.factor_mi(torch.zeros(3, 1), torch.zeros(3, 1), method="exact")


def test_float32_mixture_is_computed_in_float64_where_float32_would_cancel():
    """max |mu| / min sigma = 1e4 in float32: the mixture estimate is the float64 one, no warning."""
    mu, logvar, _ = synthetic.gaussian_channel(50, torch.tensor([1.0]), 1e-4,
                                               generator=torch.Generator().manual_seed(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f32 = mi.factor_mi(mu.float(), logvar.float(), method="mixture",
                           generator=torch.Generator().manual_seed(6))
    f64 = mi.factor_mi(mu.double(), logvar.double(), method="mixture",
                       generator=torch.Generator().manual_seed(6))
    assert f32.dtype == torch.float32
    assert abs(f32.item() - f64.item()) < 1e-6  # the same draws, computed in float64


@pytest.mark.parametrize("sd", [1e-7, 1e-5])
def test_auto_fallback_in_float32_never_exceeds_log_n(sd):
    """The review's case: N = 300, mu ~ 20 N(0, 1), sd 1e-7 or 1e-5, float32; the exact value is
    log 300 (the components do not overlap). The fallback used to return 5.28 and 5.708."""
    g = torch.Generator().manual_seed(7)
    mu = 20 * torch.randn(300, 1, generator=g)
    logvar = torch.full_like(mu, 2 * math.log(sd))
    assert not fastmi.in_regime(mu, logvar).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = mi.factor_mi(mu, logvar, generator=torch.Generator().manual_seed(8))
    log_n = torch.tensor(math.log(300), dtype=torch.float32)  # log N as float32 represents it
    assert est.dtype == torch.float32
    assert est.item() <= log_n.item(), (est.item(), log_n.item())
    assert abs(est.item() - math.log(300)) < 1e-4, est.item()


def test_bootstrap_ci_covers_and_shrinks():
    """Percentile intervals over data points: contain the estimate, narrower with more data, seeded."""
    a = synthetic.amplitude_for_mi(torch.tensor([0.0, 1.0, 2.0]), 0.5)
    widths = []
    for n in (300, 2400):
        mu, logvar, _ = synthetic.gaussian_channel(n, a, 0.5, generator=torch.Generator().manual_seed(n))
        est = mi.factor_mi(mu, logvar)
        lo, hi, sd = mi.bootstrap_ci(mu, logvar, n_boot=60, seed=1)
        assert (lo <= est.double() + 1e-9).all() and (est.double() <= hi + 1e-9).all()
        assert torch.equal(lo, mi.bootstrap_ci(mu, logvar, n_boot=60, seed=1)[0])  # same seed, same interval
        widths.append((hi - lo)[1:])
    assert (widths[1] < 0.6 * widths[0]).all()  # sqrt(8) = 2.8 times more data: about 0.35 of the width
    with pytest.raises(ValueError, match="n_boot"):
        mi.bootstrap_ci(mu, logvar, n_boot=1)
