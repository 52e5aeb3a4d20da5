"""Data of known intrinsic dimension (vaemi_nb.manifold): shapes, determinism, dimension, errors."""
import pytest
import torch

from vaemi_nb import manifold as M
from vaemi_nb import mi


@pytest.mark.parametrize("k,dim", [(1, 20), (3, 20), (5, 32)])
def test_shapes_and_dtype(k, dim):
    x = M.intrinsic_data(100, k, dim=dim)
    assert x.shape == (100, dim) and x.dtype == torch.float32
    assert M.sources(100, k).shape == (100, k)
    assert M.jacobian_singular_values(M.sources(7, k), dim).shape == (7, k)


def test_same_seed_same_data_and_map_independent_of_n():
    a = M.intrinsic_data(300, 3, seed=4)
    assert torch.equal(a, M.intrinsic_data(300, 3, seed=4))
    assert torch.allclose(a[:50], M.intrinsic_data(50, 3, seed=4), rtol=0, atol=1e-6)  # not on n
    assert not torch.allclose(a, M.intrinsic_data(300, 3, seed=5))
    s = M.sources(40, 3, seed=9)
    assert torch.allclose(M.embed(s, seed=4)[:10], M.embed(s[:10], seed=4), rtol=0, atol=1e-12)  # pointwise


def test_outputs_standardised_and_noise_level():
    clean = M.intrinsic_data(20_000, 2, noise=0.0, seed=1).double()
    assert (clean.mean(0).abs() < 0.05).all() and ((clean.std(0) - 1).abs() < 0.05).all()
    noisy = M.intrinsic_data(20_000, 2, noise=0.3, seed=1).double()
    assert abs((noisy - clean).std().item() - 0.3) < 0.01


def test_noiseless_sources_range():
    s = M.sources(5000, 4, seed=2)
    assert s.min() >= -1 and s.max() <= 1 and abs(s.mean().item()) < 0.03


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_local_pca_of_noiseless_data_has_rank_k(k):
    """Points from a small ball of sources span exactly k directions of the 20-d space."""
    g = torch.Generator().manual_seed(k)
    for centre in M.sources(3, k, seed=k) * 0.9:
        s = centre + 1e-4 * (torch.rand(400, k, generator=g, dtype=torch.float64) * 2 - 1)
        x = M.embed(s, 20, seed=k)
        ev = torch.linalg.eigvalsh(torch.cov(x.T)).flip(0)
        assert (ev[:k] > 1e-3 * ev[0]).all(), "fewer than k local directions"
        if k < 20:
            assert ev[k] < 1e-6 * ev[k - 1], "more than k local directions"


def test_jacobian_matches_finite_differences_and_is_full_rank():
    k, h = 3, 1e-6
    s = M.sources(5, k, seed=3)
    sv = M.jacobian_singular_values(s, 20, seed=3)
    for i in range(len(s)):
        cols = [(M.embed(s[i : i + 1] + h * e, 20, 3) - M.embed(s[i : i + 1] - h * e, 20, 3))[0] / (2 * h)
                for e in torch.eye(k, dtype=torch.float64)]
        fd = torch.linalg.svdvals(torch.stack(cols, 1))
        assert torch.allclose(fd, sv[i], rtol=1e-5)
    assert (sv > 1e-2).all()


def test_global_pca_needs_more_than_k_components():
    """The map is genuinely nonlinear: linear PCA of the noiseless data sees more than k dims."""
    x = M.intrinsic_data(4000, 2, noise=0.0, seed=0).double()
    ev = torch.linalg.eigvalsh(torch.cov(x.T)).flip(0)
    assert ev[2] > 0.05 * ev[0]


@pytest.mark.parametrize("kwargs,name", [
    (dict(n=10, k=0), "k"), (dict(n=10, k=3, dim=2), "dim"), (dict(n=0, k=1), "n"),
    (dict(n=10, k=1, noise=-0.1), "noise"),
])
def test_argument_errors_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        M.intrinsic_data(**kwargs)


def test_embed_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        M.embed(torch.zeros(5))
    with pytest.raises(ValueError, match="dim"):
        M.embed(torch.zeros(5, 3), dim=2)
    with pytest.raises(ValueError, match="shape"):
        M.jacobian_singular_values(torch.zeros(5))


def test_count_influential():
    values = torch.tensor([3.1, 0.002, 0.6, 0.5, -0.001, 1.2])
    assert M.count_influential(values, 0.5) == 3  # strictly above the threshold
    assert M.count_influential(values, 0.1) == 4
    assert M.count_influential(values, 0.0) == 5
    assert M.count_influential([0.7, 0.2], 0.5) == 1
    with pytest.raises(ValueError, match="threshold"):
        M.count_influential(values, -1.0)


def test_factor_stats_decomposition_and_active_units():
    torch.manual_seed(0)
    x = M.intrinsic_data(400, 2, seed=0)
    model = M.fit_vae(x, 4, epochs=3, seed=0)
    st = M.factor_stats(model, x)
    assert set(st) == {"mi", "kl", "marginal_kl", "var_mu"}
    assert all(v.shape == (4,) for v in st.values())
    assert torch.allclose(st["kl"], st["mi"] + st["marginal_kl"])
    mu, _ = mi.encode_dataset(model, x)
    assert int((st["var_mu"] > 0.01).sum()) == mi.active_units(mu)
    assert (st["marginal_kl"] > -0.02).all()  # a KL, up to the estimator's tolerance
    assert M.negative_elbo(model, x, n_samples=3) == M.negative_elbo(model, x, n_samples=3)
