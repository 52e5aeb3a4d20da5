"""Correlations, ROC AUC, logistic regression and permutation tests against independent computations."""
import numpy as np
import pytest
import scipy.stats
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


def test_auc_equals_the_rank_formula_and_keeps_nan_columns_apart():
    g = torch.Generator().manual_seed(7)
    y = torch.randint(0, 2, (300, 4), generator=g)
    y[:, 2] = 0  # a column with one class: NaN, the others unaffected
    s = torch.randn(300, 4, generator=g) + y  # informative scores
    s[:, 3] = s[:, 3].round()  # ties
    got = attributes.auc(s, y)
    assert got.shape == (4,) and got.dtype == torch.float64
    assert torch.isnan(got[2]) and not torch.isnan(got[[0, 1, 3]]).any()
    for a in [0, 1, 3]:
        pos = y[:, a].bool().numpy()
        ranks = scipy.stats.rankdata(s[:, a].numpy())  # ties get their mean rank
        n1, n0 = pos.sum(), (~pos).sum()
        assert got[a].item() == pytest.approx((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0), abs=1e-12)


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


def _penalised_loss(x, y, w, b, l2):
    """Mean log-loss of each column (a,) plus a * l2 * |w|^2 / 2 on standardised features: the
    objective fit_logistic states."""
    sd = x.double().std(0)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(x.double() @ w + b, y.double(), reduction="none")
    return loss.mean(0) + 0.5 * y.shape[1] * l2 * (w * sd[:, None]).pow(2).sum(0)


def test_logistic_regression_minimises_the_stated_penalised_loss():
    """The gradient of the stated objective vanishes at the fit (this pins sklearn's C)."""
    g = torch.Generator().manual_seed(8)
    x = torch.randn(1000, 4, generator=g) * torch.tensor([1.0, 2.0, 0.5, 3.0]) + 1.0
    y = torch.bernoulli(torch.sigmoid(x[:, :2] @ torch.tensor([[2.0, 0.0], [0.0, -1.0]])), generator=g)
    for l2 in (0.0, 1e-3, 0.3):
        w, b = attributes.fit_logistic(x, y, l2=l2)
        w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
        _penalised_loss(x, y, w, b, l2).sum().backward()
        grad_std = w.grad / x.double().std(0)[:, None]  # gradient with respect to standardised weights
        assert grad_std.abs().max() < 1e-5 and b.grad.abs().max() < 1e-5, l2
    w0, _ = attributes.fit_logistic(x, y, l2=0.0)
    w1, _ = attributes.fit_logistic(x, y, l2=0.3)
    assert (w1.abs().sum(0) < 0.8 * w0.abs().sum(0)).all()  # the penalty shrinks


def test_logistic_regression_columns_are_fitted_one_by_one():
    g = torch.Generator().manual_seed(9)
    x = torch.randn(500, 3, generator=g)
    y = torch.stack([(x[:, 0] + torch.randn(500, generator=g) > 0).float(),
                     (x[:, 1] + torch.randn(500, generator=g) > 0).float(), torch.zeros(500)], 1)
    w, b = attributes.fit_logistic(x, y, l2=0.0)  # no penalty: no dependence on the number of columns
    assert w.shape == (3, 3) and b.shape == (3,) and w.dtype == b.dtype == torch.float64
    for k in range(2):
        wk, bk = attributes.fit_logistic(x, y[:, [k]], l2=0.0)
        assert torch.allclose(w[:, k], wk[:, 0], atol=1e-5) and abs(b[k] - bk[0]) < 1e-5
    # a single-class column: no weights, a finite bias that predicts its class
    assert (w[:, 2] == 0).all() and torch.isfinite(b[2]) and b[2] < -5
    logits = attributes.logistic_scores(x, w, b)
    assert torch.isnan(attributes.auc(logits, y)[2])


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


def test_group_permutations_keep_every_group_label_multiset():
    g = torch.Generator().manual_seed(10)
    groups = torch.tensor([3, 1, 2, 1, 4, 3, 2, 4, 5, 1, 1, 3])
    idx = attributes._group_permutations(groups, 500, g)
    assert idx.shape == (500, 12)
    assert (idx.sort(1).values == torch.arange(12)).all()  # each row is a permutation
    assert (groups[idx] == groups).all()  # each slot receives a member of its own group
    y = torch.arange(12.0)
    for k in range(5):
        for u in groups.unique():
            assert sorted(y[idx[k]][groups == u].tolist()) == sorted(y[groups == u].tolist())
    assert (idx != torch.arange(12)).any(1).double().mean() > 0.9  # and it does shuffle
    # all 4! = 24 orders of group 1's four members come up
    orders = {tuple(row) for row in idx[:, groups == 1].tolist()}
    assert len(orders) == 24


def test_permutation_test_is_the_single_pair_max_test_and_is_reproducible():
    g = torch.Generator().manual_seed(11)
    groups = torch.arange(120) // 12
    y = torch.randn(120, generator=g)
    f = torch.stack([0.2 * y + torch.randn(120, generator=g), torch.randn(120, generator=g)], 1)
    r, p = attributes.permutation_test(f, y, groups=groups, n_perm=300, seed=4)
    for j in range(2):
        r1, p1 = attributes.max_permutation_test(f[:, [j]], y[:, None], groups=groups, n_perm=300, seed=4)
        assert r1.item() == pytest.approx(r[j].item(), abs=1e-12) and p1.item() == p[j].item()
    assert torch.equal(attributes.permutation_test(f, y, groups=groups, n_perm=300, seed=4)[1], p)
    assert not torch.equal(attributes.permutation_test(f, y, groups=groups, n_perm=300, seed=5)[1], p)


def test_permutation_test_agrees_with_scipy_without_groups():
    """Without groups the test is scipy's permutation test of |r| (up to Monte Carlo error)."""
    g = torch.Generator().manual_seed(12)
    y = torch.randn(100, generator=g)
    f = torch.stack([0.2 * y + torch.randn(100, generator=g), 0.1 * y + torch.randn(100, generator=g)], 1)
    _, p = attributes.permutation_test(f, y, n_perm=4000, seed=0)
    yc = (y - y.mean()).double().numpy()

    def abs_r(x, axis=-1):  # |r| of each row of x with y
        xc = x - x.mean(axis, keepdims=True)
        return np.abs(xc @ yc) / np.sqrt((xc ** 2).sum(axis) * (yc ** 2).sum())

    for j in range(2):
        ref = scipy.stats.permutation_test((f[:, j].double().numpy(),), abs_r, permutation_type="pairings",
                                           alternative="greater", n_resamples=4000, vectorized=True,
                                           random_state=np.random.default_rng(0)).pvalue
        assert 0.01 < ref < 0.9  # a p-value that Monte Carlo error could move
        se = (ref * (1 - ref) * 2 / 4000) ** 0.5  # of the difference of two independent estimates
        assert abs(p[j].item() - ref) < 4 * se, (j, p[j].item(), ref)


def test_group_folds_keep_groups_together_and_cover_everything():
    groups = torch.tensor([3, 1, 2, 1, 4, 3, 2, 4, 5])
    folds = attributes.group_folds(groups, 2)
    assert sorted(torch.cat(folds).tolist()) == list(range(9))
    for f in folds:
        others = torch.cat([g for g in folds if g is not f])
        assert not set(groups[f].tolist()) & set(groups[others].tolist())
    with pytest.raises(ValueError, match="n_folds must be between 2 and the number of groups \\(5\\)"):
        attributes.group_folds(groups, 6)


def test_group_folds_balance_unequal_groups():
    groups = torch.tensor([0] * 40 + [1] * 30 + [2] * 20 + [3] * 10 + [4] * 10 + [5] * 10)
    sizes = sorted(len(f) for f in attributes.group_folds(groups, 2))
    assert sizes == [60, 60]  # dealing the sorted groups in turn would give 70 / 50


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


# --- within participants: correlations, intervals, calibration -------------------------------

def _nested(seed=0, n_groups=12, per_group=30, effect=0.0, offsets=5.0):
    """Features (N, 4) and a target (N, 1) of trials nested in groups with large group offsets;
    feature 0 follows the target within groups by ``effect``."""
    g = torch.Generator().manual_seed(seed)
    groups = torch.arange(n_groups).repeat_interleave(per_group)
    level = offsets * torch.randn(n_groups, generator=g)[groups]
    y = level + torch.randn(len(groups), generator=g)
    x = level[:, None] + torch.randn(len(groups), 4, generator=g, dtype=torch.float32).double()
    x[:, 0] += effect * (y - level)
    return x, y[:, None], groups


def test_within_correlations_remove_group_means():
    x, y, groups = _nested(effect=0.0)
    pooled = attributes.correlations(x, y)
    within = attributes.within_correlations(x, y, groups)
    assert pooled.min() > 0.8  # shared group offsets: a strong pooled correlation, nothing within
    assert within.abs().max() < 0.15
    xd, yd = attributes.demean(x, groups), attributes.demean(y, groups)
    for k in groups.unique():
        assert xd[groups == k].mean(0).abs().max() < 1e-12 and abs(yd[groups == k].mean()) < 1e-12
    ref = np.corrcoef(xd.numpy().T, yd.numpy().T)[:4, 4]
    assert np.allclose(within[:, 0].numpy(), ref, atol=1e-12)


def test_permutation_pvalues_use_the_within_r_and_the_same_permutations():
    x, y, groups = _nested(effect=0.3, seed=1)
    r, p_unc, p_fw = attributes.permutation_pvalues(x, y, groups=groups, n_perm=300, seed=2)
    assert torch.allclose(r, attributes.within_correlations(x, y, groups), atol=1e-12)
    assert (p_unc <= p_fw + 1e-12).all()  # the max over pairs is at least each pair
    assert p_fw[0, 0] == pytest.approx(1 / 301)
    r2, p2 = attributes.max_permutation_test(x, y, groups=groups, n_perm=300, seed=2)
    assert torch.equal(r2, r) and torch.equal(p2, p_fw)
    r1, p1 = attributes.permutation_test(x, y[:, 0], groups=groups, n_perm=300, seed=2)
    assert torch.equal(r1, r[:, 0]) and torch.equal(p1, p_unc[:, 0])


def test_null_calibration_holds_the_familywise_rate_and_shows_the_uncorrected_one():
    x, y, groups = _nested(seed=3, n_groups=10, per_group=20)
    x = torch.cat([x, torch.randn(200, 6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)], 1)
    y = torch.cat([y, y + torch.randn(200, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)], 1)
    n_null = 200
    rates = attributes.null_calibration(x, y, groups, n_null=n_null, n_perm=49, alpha=0.1, seed=0)
    se = (0.1 * 0.9 / n_null) ** 0.5
    assert abs(rates["family-wise"] - 0.1) < 3 * se, rates
    assert rates["uncorrected"] > 0.4, rates  # the best of 20 uncorrected tests rejects far too often


def test_shuffle_within_keeps_groups():
    groups = torch.tensor([2, 2, 5, 5, 5, 1])
    idx = attributes.shuffle_within(groups, 50, seed=1)
    assert (groups[idx] == groups).all() and torch.equal(idx, attributes.shuffle_within(groups, 50, seed=1))


def test_r_interval_is_the_group_bootstrap():
    x, y, groups = _nested(effect=0.5, seed=6, n_groups=8, per_group=15)
    lo, hi = attributes.r_interval(x, y, groups, n_boot=200, seed=3)
    r = attributes.within_correlations(x, y, groups)
    assert lo.shape == hi.shape == r.shape and (lo <= r).all() and (r <= hi).all()
    # the same resampling written out: draw groups with replacement, stack their rows, correlate within
    g = torch.Generator().manual_seed(3)
    picks = torch.randint(8, (200, 8), generator=g)
    boot = []
    for b in range(200):
        rows = torch.cat([torch.nonzero(groups == k).flatten() for k in picks[b].tolist()])
        copy = torch.arange(8).repeat_interleave(15)  # every drawn copy is its own group
        boot.append(attributes.within_correlations(x[rows], y[rows], copy)[:, 0])
    ref = torch.quantile(torch.stack(boot), torch.tensor([0.025, 0.975], dtype=torch.float64), dim=0)
    assert torch.allclose(lo[:, 0], ref[0], atol=1e-10) and torch.allclose(hi[:, 0], ref[1], atol=1e-10)


# --- held-out groups: logits, selection inside the folds, AUC intervals -----------------------

def test_auc_interval_matches_sklearn_and_resamples_groups():
    from sklearn.metrics import roc_auc_score

    g = torch.Generator().manual_seed(7)
    groups = torch.arange(20).repeat_interleave(25)
    labels = torch.randint(0, 2, (500,), generator=g)
    scores = (labels + 1.5 * torch.randn(500, generator=g)).round(decimals=1)  # ties
    auc, lo, hi = attributes.auc_interval(scores, labels, groups, n_boot=500, seed=1)
    assert auc == pytest.approx(roc_auc_score(labels.numpy(), scores.numpy()), abs=1e-12)
    assert lo < auc < hi and 0.02 < hi - lo < 0.2
    w = torch.randint(0, 3, (1, 500), generator=g).double()  # integer weights = repeated rows
    rows = torch.repeat_interleave(torch.arange(500), w[0].long())
    ref = roc_auc_score(labels[rows].numpy(), scores[rows].numpy())
    assert attributes._weighted_auc(scores, labels, w)[0].item() == pytest.approx(ref, abs=1e-12)
    with pytest.raises(ValueError, match="both classes"):
        attributes.auc_interval(scores, torch.zeros(500), groups)


def test_held_out_logits_never_score_a_group_with_its_own_labels():
    g = torch.Generator().manual_seed(8)
    groups = torch.arange(8).repeat_interleave(30)
    x = torch.randn(240, 3, generator=g)
    y = (x[:, :1] + torch.randn(240, 1, generator=g) > 0).double()
    logits = attributes.held_out_logits(x, y, groups, n_folds=4)
    assert logits.shape == (240, 1)
    assert attributes.auc(logits, y)[0] > 0.75
    test = attributes.group_folds(groups, 4)[0]
    flipped = y.clone()
    flipped[test] = 1 - flipped[test]  # the held-out fold's own labels cannot change its scores
    assert torch.equal(attributes.held_out_logits(x, flipped, groups, n_folds=4)[test], logits[test])


def test_select_in_folds_chooses_on_the_training_groups_only():
    g = torch.Generator().manual_seed(9)
    groups = torch.arange(8).repeat_interleave(40)
    folds = attributes.group_folds(groups, 4)
    y = torch.randn(320, 2, generator=g, dtype=torch.float64)
    x = torch.randn(320, 5, generator=g, dtype=torch.float64)
    x[:, 3] -= 0.5 * y[:, 1]  # a real effect everywhere: feature 3, target 1, negative
    x[folds[0], 1] += 20 * y[folds[0], 0]  # a huge effect only in the first fold's groups
    labels = (y > 0).long()
    scores, y_out, chosen = attributes.select_in_folds(x, y, labels, groups, n_folds=4)
    assert chosen[0] == (3, 1)  # fold 0 is held out: its own effect cannot be seen
    assert all(c == (1, 0) for c in chosen[1:])  # the others see fold 0's huge effect in training
    assert torch.equal(y_out[folds[0]], labels[folds[0], 1])
    assert torch.allclose(scores[folds[0]], -x[folds[0], 3])  # scored with the sign of r
    j, k, r = attributes.best_pair(x, y, groups)
    assert (j, k) == (1, 0) and r > 0


def test_auc_table():
    table = attributes.auc_table({"a": {"valence": [0.61, 0.55, 0.67], "arousal": [0.5, 0.45, 0.55]},
                                  "b": {"valence": [0.7, 0.6, 0.8], "arousal": [0.52, 0.5, 0.54]}})
    assert list(table.index) == ["a", "b"]
    assert list(table.columns) == ["valence AUC", "valence 95% CI", "arousal AUC", "arousal 95% CI"]
    assert table.loc["a", "valence AUC"] == 0.61 and table.loc["b", "arousal 95% CI"] == "[0.500, 0.540]"
