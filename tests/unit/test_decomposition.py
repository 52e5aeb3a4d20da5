"""The KL decomposition and the total-correlation gap, checked numerically."""
import math

import torch

from vaemi_nb import mi, synthetic


def test_kl_equals_mi_plus_marginal_kl_per_factor():
    mu, logvar = synthetic.vae_like(1500, 5, generator=torch.Generator().manual_seed(0))
    lhs = mi.kl_per_dim(mu, logvar).double()
    rhs = mi.factor_mi(mu, logvar).double() + mi.aggregate_quadrature(mu, logvar)["kl_prior"]
    assert (lhs - rhs).abs().max() < 1e-3  # fast grid vs brute-force quadrature: two routes


def test_marginal_kl_of_standard_normal_aggregate_is_zero():
    mu, logvar, _ = synthetic.gaussian_channel(
        20_000, torch.tensor([0.8]), 0.6, generator=torch.Generator().manual_seed(1))  # var 1
    assert mi.aggregate_quadrature(mu, logvar)["kl_prior"].abs().item() < 0.01


def test_joint_mi_and_total_correlation_against_analytic():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.5], [0.0, 1.5], [0.3, 0.3]])
    mu, logvar, truth = synthetic.linear_gaussian_channel(5000, a, 0.5, generator=torch.Generator().manual_seed(2))
    joint = mi.joint_mi(mu, logvar, generator=torch.Generator().manual_seed(3))
    assert abs(joint.item() - truth["joint"].item()) < 0.05
    factors = mi.factor_mi(mu, logvar).double()
    assert (factors - truth["factor"]).abs().max() < 0.03
    assert abs((factors.sum() - joint).item() - truth["tc"].item()) < 0.06
    assert truth["tc"] > 0.5  # correlated factors: a real gap


def test_joint_mi_capped_at_log_n():
    mu, logvar, _ = synthetic.linear_gaussian_channel(200, torch.eye(3) * 50, 0.01,
                                                      generator=torch.Generator().manual_seed(4))
    mu, logvar = mu.double(), logvar.double()
    assert mi.joint_mi(mu, logvar, generator=torch.Generator().manual_seed(5)).item() <= math.log(200) + 1e-9


def test_gaussian_data_entropy_matches_sample_covariance():
    x, h = synthetic.gaussian_data(50_000, generator=torch.Generator().manual_seed(0))
    cov = torch.cov(x.double().T)
    h_sample = 0.5 * torch.logdet(2 * math.pi * math.e * cov).item()
    assert x.shape == (50_000, 20) and abs(h - h_sample) < 0.05


def test_noisy_code_entropy_exact_and_bounded():
    x, h = synthetic.noisy_code_data(500, dim=10, bits=2, flip=0.1, generator=torch.Generator().manual_seed(1))
    assert set(x.unique().tolist()) <= {0.0, 1.0} and x.shape == (500, 10)
    h_bits, h_flip = 2 * math.log(2), 10 * (-0.1 * math.log(0.1) - 0.9 * math.log(0.9))
    assert max(h_bits, h_flip) <= h <= h_bits + h_flip + 1e-9  # H(x) <= H(code) + H(noise)
    _, h0 = synthetic.noisy_code_data(10, dim=10, bits=2, flip=1e-12)
    assert abs(h0 - h_bits) < 1e-6  # no noise: the entropy of the code alone
    import pytest
    with pytest.raises(ValueError, match="dim must be <= 16"):
        synthetic.noisy_code_data(10, dim=20)
