"""Factor-latent MI and MIG against brute-force quadrature, and the peer MIG estimators."""
import math

import pytest
import torch

from vaemi_nb import metrics, mig_peers, synthetic


@pytest.fixture(scope="module")
def encoder():
    return synthetic.known_factor_encoder((3, 4, 5), repeats=6, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def exact(encoder):
    mu, logvar, f = encoder
    return metrics.factor_latent_mi(mu, logvar, f, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def reference(encoder):
    return metrics.quadrature_factor_latent_mi(*encoder)


def test_matches_quadrature_within_a_hundredth_of_a_nat(exact, reference):
    assert exact.shape == reference.shape == (6, 3)
    err = (exact.double() - reference).abs()
    assert err.max() < 0.01, f"worst error {err.max():.2e} nats at (latent, factor) {divmod(int(err.argmax()), 3)}"


def test_float32_inputs_match_quadrature_too(encoder, reference):
    mu, logvar, f = encoder
    est = metrics.factor_latent_mi(mu.float(), logvar.float(), f, generator=torch.Generator().manual_seed(1))
    assert est.dtype == torch.float32
    assert (est.double() - reference).abs().max() < 0.01


def test_known_structure(exact):
    h = metrics.factor_entropy(synthetic.factor_grid((3, 4, 5)))
    assert torch.allclose(h, torch.tensor([3.0, 4.0, 5.0], dtype=torch.float64).log())
    assert exact[0, 0] > 0.97 * h[0] and exact[0, 1:].abs().max() < 0.05  # disentangled on factor 0 only
    assert exact[1, 1] > 0.8 * h[1] and exact[1, [0, 2]].abs().max() < 0.05  # heteroscedastic, factor 1 only
    assert exact[2, 0] > 0.1 and exact[2, 2] > 0.1  # entangled: knows about both factors
    assert exact[3].abs().max() < 1e-3  # collapsed: nothing about any factor
    assert (exact <= h + 0.01).all() and (exact >= -0.01).all()  # 0 <= I(z; v) <= H(v)


def test_groups_of_one_point_and_one_factor_vector():
    mu = torch.tensor([[0.0], [3.0], [6.0]])
    logvar = torch.full((3, 1), math.log(0.01))
    f = torch.tensor([0, 1, 2])  # every group a single point: I(z; v) = H(z) - H(z | v) = I(x; z)
    est = metrics.factor_latent_mi(mu, logvar, f)
    ref = metrics.quadrature_factor_latent_mi(mu, logvar, f)
    assert est.shape == (1, 1)
    assert abs(est.item() - ref.item()) < 0.01 and abs(est.item() - math.log(3)) < 0.01


def test_bad_factors_are_named():
    mu, logvar = torch.zeros(4, 2), torch.zeros(4, 2)
    with pytest.raises(ValueError, match="one row of factors per data point"):
        metrics.factor_latent_mi(mu, logvar, torch.zeros(5, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="integer tensor"):
        metrics.factor_latent_mi(mu, logvar, torch.zeros(4, 1))


def test_mig_of_a_perfectly_disentangled_code_is_near_one():
    f = synthetic.factor_grid((3, 4, 5), repeats=4)
    mu = 10 * f.double()  # latent k is factor k, the posteriors of different values far apart
    logvar = torch.full_like(mu, 2 * math.log(0.05))
    value = metrics.mig(mu, logvar, f)
    assert abs(value - 1.0) < 0.01, value


def test_mig_of_a_collapsed_code_is_near_zero():
    f = synthetic.factor_grid((3, 4, 5), repeats=4)
    mu, logvar = torch.zeros(len(f), 4), torch.zeros(len(f), 4)
    assert abs(metrics.mig(mu, logvar, f)) < 1e-3


def test_peer_estimators_agree_on_a_disentangled_code():
    f = synthetic.factor_grid((3, 4, 5), repeats=20)
    mu = 10 * f.double()
    logvar = torch.full_like(mu, 2 * math.log(0.05))
    exact = metrics.mig(mu, logvar, f)
    tcvae = mig_peers.tcvae_mig(mu, logvar, f, generator=torch.Generator().manual_seed(1))
    hist = mig_peers.histogram_mig(mu, f)
    assert abs(tcvae - exact) < 0.05, (tcvae, exact)  # its Monte-Carlo error at N = 1,200
    assert abs(hist - 1.0) < 1e-6, hist  # 20 equal bins separate 3, 4 or 5 clusters exactly


def test_tcvae_estimator_scatters_around_the_exact_value(encoder, exact):
    """The sampling estimator is random; averaged over 8 draws it approaches the exact value."""
    mu, logvar, f = encoder
    draws = torch.stack([mig_peers.tcvae_factor_latent_mi(mu, logvar, f, generator=torch.Generator().manual_seed(s))
                         for s in range(8)])
    assert draws.shape[1:] == exact.shape
    assert draws.std(0).max() > 1e-3  # it is random
    assert (draws.mean(0) - exact.double()).abs().max() < 0.05


def test_shuffled_factors_read_the_bias_only(encoder, exact):
    mu, logvar, f = encoder
    null = metrics.shuffled_factor_latent_mi(mu, logvar, f, generator=torch.Generator().manual_seed(0))
    assert null.shape == exact.shape
    assert null[0, 0] < 0.1 * exact[0, 0]  # the disentangled latent's information is gone
    assert null.abs().max() < 0.15  # what remains is the finite-sample bias of 360 points in 3-5 groups
    assert null[3].abs().max() < 1e-3  # a collapsed latent reads 0 either way
