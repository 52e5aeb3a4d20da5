"""Correlations, ROC AUC and logistic regression against independent computations."""
import numpy as np
import pytest
import torch

from vaemi_nb import attributes


def test_correlations_match_numpy():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(500, 4, generator=g)
    t = torch.stack([f[:, 0] + torch.randn(500, generator=g), (f[:, 2] > 0).float()], 1)
    r = attributes.correlations(f, t)
    ref = np.corrcoef(np.concatenate([f.numpy(), t.numpy()], 1).T)[:4, 4:]
    assert r.shape == (4, 2)
    assert np.allclose(r.numpy(), ref, atol=1e-10)


def test_constant_target_gives_nan():
    r = attributes.correlations(torch.randn(50, 3), torch.zeros(50, 1))
    assert torch.isnan(r).all()


def test_auc_matches_pairwise_count_with_ties():
    g = torch.Generator().manual_seed(1)
    s = torch.randint(0, 5, (200, 3), generator=g).double()  # many ties
    y = torch.randint(0, 2, (200, 3), generator=g)
    got = attributes.auc(s, y)
    for a in range(3):
        pos, neg = s[y[:, a] == 1, a], s[y[:, a] == 0, a]
        diff = pos[:, None] - neg[None, :]
        ref = ((diff > 0).double() + 0.5 * (diff == 0).double()).mean()
        assert abs(got[a] - ref) < 1e-12


def test_auc_extremes_and_constant_labels():
    s = torch.arange(10.0)[:, None]
    assert attributes.auc(s, (s > 4.5).long())[0] == 1.0
    assert attributes.auc(-s, (s > 4.5).long())[0] == 0.0
    assert torch.isnan(attributes.auc(s, torch.ones(10, 1)))[0]


def test_logistic_regression_recovers_known_weights():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(20_000, 3, generator=g) * torch.tensor([1.0, 3.0, 0.5]) + 2.0
    w_true = torch.tensor([[1.5], [-0.5], [0.0]], dtype=torch.float64)
    b_true = torch.tensor([-1.0], dtype=torch.float64)
    p = torch.sigmoid(x.double() @ w_true + b_true)
    y = torch.bernoulli(p, generator=g)
    w, b = attributes.fit_logistic(x, y, l2=0.0)
    assert torch.allclose(w, w_true, atol=0.06)
    assert abs(float(b - b_true)) < 0.15
    logits = attributes.logistic_scores(x, w, b)
    assert torch.allclose(torch.sigmoid(logits), p, atol=0.03)


def test_bad_shapes_and_nan_are_refused():
    with pytest.raises(ValueError, match="same N"):
        attributes.correlations(torch.randn(5, 2), torch.randn(4, 1))
    with pytest.raises(ValueError, match="NaN"):
        attributes.fit_logistic(torch.full((5, 2), float("nan")), torch.zeros(5, 1))


def test_permutation_test_detects_a_real_effect_and_not_noise():
    g = torch.Generator().manual_seed(3)
    y = torch.randn(200, generator=g)
    f = torch.stack([y + torch.randn(200, generator=g), torch.randn(200, generator=g)], 1)
    r, p = attributes.permutation_test(f, y, n_perm=500)
    assert np.allclose(r.numpy(), attributes.correlations(f, y[:, None])[:, 0].numpy(), atol=1e-10)
    assert p[0] == 1 / 501  # never exceeded: the smallest possible p
    assert p[1] > 0.05


def test_permutation_p_values_are_uniform_under_the_null():
    g = torch.Generator().manual_seed(4)
    f = torch.randn(60, 300, generator=g)  # 300 independent null features
    y = torch.randn(60, generator=g)
    _, p = attributes.permutation_test(f, y, n_perm=200, seed=1)
    assert abs((p < 0.1).double().mean().item() - 0.1) < 0.06


def test_permutation_within_groups_keeps_group_means():
    # a target that differs only between groups: shuffling within groups cannot break the
    # group-level correlation, so a feature equal to the group mean is not significant
    groups = torch.arange(100) // 10
    y = groups.double() + 0.01 * torch.randn(100, generator=torch.Generator().manual_seed(5))
    f = groups.double()[:, None]
    _, p_within = attributes.permutation_test(f, y, groups=groups, n_perm=200)
    _, p_free = attributes.permutation_test(f, y, n_perm=200)
    assert p_free[0] < 0.01 < 0.2 < p_within[0]


def test_group_folds_keep_groups_together_and_cover_everything():
    groups = torch.tensor([3, 1, 2, 1, 4, 3, 2, 4, 5])
    folds = attributes.group_folds(groups, 2)
    assert sorted(torch.cat(folds).tolist()) == list(range(9))
    for f in folds:
        others = torch.cat([g for g in folds if g is not f])
        assert not set(groups[f].tolist()) & set(groups[others].tolist())
    with pytest.raises(ValueError, match="n_folds must be between 2 and the number of groups \\(5\\)"):
        attributes.group_folds(groups, 6)


def test_cross_validated_separable_and_uninformative_targets():
    g = torch.Generator().manual_seed(6)
    x = torch.randn(400, 2, generator=g)
    groups = torch.arange(400) // 50
    y = torch.stack([(x[:, 0] > 0).float(), torch.randint(0, 2, (400,), generator=g).float()], 1)
    res = attributes.cross_validated(x, y, groups, n_folds=4)
    assert res["accuracy"][0] > 0.95 and res["auc"][0] > 0.99
    assert abs(res["auc"][1] - 0.5) < 0.1
    assert 0.3 < res["majority"][1] < 0.7


def test_max_permutation_test_r_and_planted_effect():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 6, generator=g)
    y = torch.stack([x[:, 2] + 0.5 * torch.randn(300, generator=g), torch.randn(300, generator=g)], 1)
    r, p = attributes.max_permutation_test(x, y, n_perm=500, seed=1)
    assert r.shape == p.shape == (6, 2)
    ref = np.corrcoef(x.numpy().T, y.numpy().T)[:6, 6:]
    assert np.allclose(r.numpy(), ref, atol=1e-10)
    assert p[2, 0] == pytest.approx(1 / 501)  # the planted pair beats every permutation's best pair
    assert (p >= 1 / 501).all() and (p <= 1).all()


def test_max_permutation_test_holds_the_familywise_rate():
    """On null data the smallest corrected p of 8 x 2 pairs is below 0.1 in about 10 % of data sets."""
    g = torch.Generator().manual_seed(2)
    hits = 0
    n_sets = 200
    for s in range(n_sets):
        x, y = torch.randn(60, 8, generator=g), torch.randn(60, 2, generator=g)
        hits += bool(attributes.max_permutation_test(x, y, n_perm=199, seed=s)[1].min() <= 0.1)
    se = (0.1 * 0.9 / n_sets) ** 0.5
    assert hits / n_sets < 0.1 + 3 * se, f"family-wise rate {hits / n_sets:.3f}, expected about 0.1"
    assert hits / n_sets > 0.1 - 3 * se, f"family-wise rate {hits / n_sets:.3f}: the test is too conservative"


def test_max_permutation_test_shuffles_within_groups():
    """A purely between-group association survives no within-group shuffle: p = 1."""
    groups = torch.arange(10).repeat_interleave(20)
    x = groups.double()[:, None] + 0.01 * torch.randn(200, 1, generator=torch.Generator().manual_seed(3))
    y = (groups.double() ** 2)[:, None]  # constant within each group
    _, p = attributes.max_permutation_test(x, y, groups=groups, n_perm=99, seed=0)
    assert p.item() == 1.0
    _, p_pooled = attributes.max_permutation_test(x, y, n_perm=99, seed=0)
    assert p_pooled.item() == pytest.approx(1 / 100)
