"""Latent factors against labelled attributes: correlations, logistic regression, ROC AUC.

Used by the CelebA chapter (40 binary face attributes) and the DEAP chapter (valence and
arousal of trials nested in participants). The classifier, the AUC and the folds are
scikit-learn's; the permutation tests, the participant bootstrap and the selection inside
cross-validation folds are our own (see max_permutation_test for why).

With ``groups`` (e.g. the participant of each trial), correlations are *within* groups: each
group's mean is subtracted from features and targets first, so that differences between
participants (in overall power, or in how generously they rate) cannot produce an association,
and permutations shuffle targets within groups, the matching null.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from torch import Tensor


def _check(features: Tensor, targets: Tensor) -> None:
    if features.ndim != 2 or targets.ndim != 2 or features.shape[0] != targets.shape[0]:
        raise ValueError(f"features must be (N, d) and targets (N, a) with the same N; got "
                         f"{tuple(features.shape)} and {tuple(targets.shape)}")
    if not (torch.isfinite(features).all() and torch.isfinite(targets.double()).all()):
        raise ValueError("features or targets contain NaN or Inf")


def correlations(features: Tensor, targets: Tensor) -> Tensor:
    """Pearson correlation of every feature with every target, shape (d, a).

    With binary targets this is the point-biserial correlation. A constant column gives NaN
    (no correlation is defined), so callers can drop attributes that never vary.
    """
    _check(features, targets)
    f = features.double() - features.double().mean(0)
    t = targets.double() - targets.double().mean(0)
    cov = f.T @ t / len(f)
    return cov / (f.pow(2).mean(0).sqrt()[:, None] * t.pow(2).mean(0).sqrt()[None, :])


def auc(scores: Tensor, labels: Tensor) -> Tensor:
    """ROC AUC (sklearn's ``roc_auc_score``) of each column of ``scores`` (N, a) for binary
    ``labels`` (N, a), shape (a,). Tied scores count one half; NaN for a column whose labels
    are all equal."""
    s = scores.detach().cpu().double().numpy()
    y = labels.detach().cpu().bool().numpy()
    out = torch.full((s.shape[1],), float("nan"), dtype=torch.float64)
    for a in range(s.shape[1]):
        if 0 < y[:, a].sum() < len(y):
            out[a] = roc_auc_score(y[:, a], s[:, a])
    return out


def fit_logistic(features: Tensor, targets: Tensor, *, l2: float = 1e-3, steps: int = 200) -> tuple[Tensor, Tensor]:
    """One L2-regularised logistic regression (sklearn's ``LogisticRegression``, L-BFGS) per
    target column.

    ``features`` (N, d) are standardised inside (the returned weights act on raw features);
    ``targets`` (N, a) in {0, 1}. The fits together minimise the log-loss (nats) averaged over
    all N * a entries plus ``l2 * ||w||^2 / 2`` on the standardised features, bias unpenalised;
    so column k minimises its mean log-loss plus ``a * l2 * ||w_k||^2 / 2``: sklearn's
    ``C = 1 / (a * l2 * N)`` (``C = inf``, no penalty, for ``l2 = 0``), at most ``steps`` L-BFGS
    iterations. A column with a single class gets w = 0 and b = its log-odds with half a
    pseudo-count. Returns (weights (d, a), bias (a,)), float64.
    """
    _check(features, targets)
    x = features.detach().cpu().double()
    mean, sd = x.mean(0), x.std(0).clamp_min(1e-8)
    xs = ((x - mean) / sd).numpy()
    y = targets.detach().cpu().double().numpy()
    n, (d, a) = len(xs), (x.shape[1], y.shape[1])
    C = 1 / (a * l2 * n) if l2 > 0 else np.inf
    w, b = np.zeros((d, a)), np.zeros(a)
    for k in range(a):
        n_pos = y[:, k].sum()
        if 0 < n_pos < n:
            clf = LogisticRegression(C=C, tol=1e-7, max_iter=steps).fit(xs, y[:, k])
            w[:, k], b[k] = clf.coef_[0], clf.intercept_[0]
        else:
            b[k] = np.log((n_pos + 0.5) / (n - n_pos + 0.5))
    w_raw = torch.from_numpy(w) / sd[:, None]
    return w_raw, torch.from_numpy(b) - mean @ w_raw


def logistic_scores(features: Tensor, weights: Tensor, bias: Tensor) -> Tensor:
    """Logits (N, a) of the fitted regressions."""
    return features.double() @ weights + bias


def _group_permutations(groups: Tensor, n: int, generator: torch.Generator) -> Tensor:
    """(n, N) row indices: ``y[idx[k]]`` is ``y`` with its rows shuffled within each group (N,)."""
    base = torch.argsort(groups, stable=True)  # positions of each group's members, group by group
    rank = torch.unique(groups, return_inverse=True)[1].double()
    # sorting group + U(0, 1) keys orders every group's members at random, in the group's slots
    perm = torch.argsort(rank + torch.rand(n, len(groups), generator=generator, dtype=torch.float64), dim=1)
    idx = torch.empty_like(perm)
    idx[:, base] = perm
    return idx


def shuffle_within(groups: Tensor, n: int, *, seed: int = 0) -> Tensor:
    """(n, N) row indices, each row a random permutation that moves rows only within their
    group (``groups`` (N,)): ``y[idx[k]]`` is ``y`` shuffled within groups."""
    return _group_permutations(torch.as_tensor(groups), n, torch.Generator().manual_seed(seed))


def _null_correlations(features: Tensor, targets: Tensor, groups: Tensor | None, n_perm: int,
                       seed: int) -> tuple[Tensor, Tensor]:
    """Pearson r (d, a) of features (N, d) with targets (N, a), and r under ``n_perm`` shuffles
    of the rows of ``targets`` within groups (n_perm, d, a)."""
    _check(features, targets)
    g = torch.Generator().manual_seed(seed)
    f = features.double() - features.double().mean(0)
    f = f / f.pow(2).sum(0).sqrt().clamp_min(1e-300)
    groups = torch.zeros(len(targets), dtype=torch.long) if groups is None else torch.as_tensor(groups)

    def corr(t: Tensor) -> Tensor:  # (..., N, a) -> (..., d, a)
        t = t - t.mean(-2, keepdim=True)
        return f.T @ t / t.pow(2).sum(-2, keepdim=True).sqrt().clamp_min(1e-300)

    y = targets.double()
    null = [corr(y[_group_permutations(groups, min(256, n_perm - start), g)])
            for start in range(0, n_perm, 256)]  # permutations in chunks of 256
    return corr(y), torch.cat(null)


def demean(x: Tensor, groups: Tensor) -> Tensor:
    """``x`` (N, k) minus the mean of its group (``groups`` (N,)), in float64."""
    x = torch.as_tensor(x).double()
    _, inverse = torch.unique(torch.as_tensor(groups), return_inverse=True)
    counts = torch.bincount(inverse).double()[:, None]
    means = torch.zeros(int(inverse.max()) + 1, x.shape[1], dtype=torch.float64).index_add_(0, inverse, x) / counts
    return x - means[inverse]


def within_correlations(features: Tensor, targets: Tensor, groups: Tensor) -> Tensor:
    """Pearson r (d, a) of features (N, d) with targets (N, a) after subtracting each group's
    mean from both: the pooled within-group correlation (NaN where a column is constant
    within every group)."""
    _check(features, targets)
    return correlations(demean(features, groups), demean(targets, groups))


def permutation_pvalues(features: Tensor, targets: Tensor, *, groups: Tensor | None = None, n_perm: int = 2000,
                        seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """Pearson r (d, a) of every feature (N, d) with every target (N, a), with two permutation
    p-values from the same permutations: each pair's own (uncorrected) and the max-statistic
    one, corrected for all d * a pairs (see :func:`max_permutation_test`).

    With ``groups`` (N,) the correlation is within groups (:func:`within_correlations`) and the
    rows of ``targets`` are shuffled within groups; without, r is pooled and the shuffle free.
    p = (1 + #{permutations at least as extreme}) / (1 + n_perm), never 0. Returns
    (r, p_uncorrected, p_familywise), each (d, a).
    """
    _check(features, targets)
    if groups is not None:
        features, targets = demean(features, groups), demean(targets, groups)
    r, null = _null_correlations(features, targets, groups, n_perm, seed)
    own = (null.abs() >= r.abs() - 1e-12).double().sum(0)
    null_max = null.abs().flatten(1).max(1).values
    exceed = (null_max[None, None, :] >= r.abs()[..., None] - 1e-12).double().sum(-1)
    return r, (1 + own) / (1 + n_perm), (1 + exceed) / (1 + n_perm)


def permutation_test(features: Tensor, target: Tensor, *, groups: Tensor | None = None, n_perm: int = 2000,
                     seed: int = 0) -> tuple[Tensor, Tensor]:
    """Pearson r of each feature (N, d) with ``target`` (N,), and its two-sided permutation p-value.

    The null shuffles ``target`` — within each group when ``groups`` (N,) is given, e.g. trials
    within a participant, and then r is the within-group correlation (group means removed), so
    that between-group differences can produce neither the statistic nor its null. p = (1 +
    #{|r_perm| >= |r|}) / (1 + n_perm), never 0; the same permutations as max_permutation_test
    with the same seed (why not scipy or scikit-learn: see there). Returns (r (d,), p (d,)).
    """
    r, p, _ = permutation_pvalues(features, target[:, None], groups=groups, n_perm=n_perm, seed=seed)
    return r[:, 0], p[:, 0]


def max_permutation_test(features: Tensor, targets: Tensor, *, groups: Tensor | None = None,
                         n_perm: int = 2000, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Pearson r of every feature (N, d) with every target (N, a), and p-values corrected for
    having tested all d * a pairs: the max-statistic permutation test.

    Each permutation shuffles the rows of ``targets`` (all columns together; within each group
    when ``groups`` (N,) is given, and then r is the within-group correlation, as in
    :func:`within_correlations`) and records the largest |r| over all d * a pairs. A pair's
    p-value is (1 + #{permutations whose largest |r| >= its |r|}) / (1 + n_perm): the chance
    that the *best* of all the tests, under the null, looks at least as strong. It holds the
    family-wise error rate, so the strongest pair may be picked after looking. Returns
    (r (d, a), p (d, a)).

    Hand-written because neither library does this: ``scipy.stats.permutation_test`` shuffles
    across all N rows (it has no groups/strata argument), and scikit-learn's
    ``permutation_test_score``, which does shuffle within ``groups``, scores one estimator's
    cross-validated prediction per call, not the in-sample r of every pair nor their maximum.
    """
    r, _, p = permutation_pvalues(features, targets, groups=groups, n_perm=n_perm, seed=seed)
    return r, p


def null_calibration(features: Tensor, targets: Tensor, groups: Tensor, *, n_null: int = 200, n_perm: int = 500,
                     alpha: float = 0.05, seed: int = 0) -> dict[str, float]:
    """How often the tests reject when there is nothing to find: ``n_null`` times, shuffle the
    rows of ``targets`` within groups (keeping ``features``, so every dependence between them is
    gone) and run :func:`permutation_pvalues` within groups. Returns the fraction of shuffles in
    which the smallest family-wise p, and the smallest uncorrected p, fall at or below ``alpha``
    (keys "family-wise", "uncorrected"): the family-wise error rate of each procedure, which a
    valid correction keeps at about ``alpha`` or below."""
    _check(features, targets)
    groups = torch.as_tensor(groups)
    shuffles = shuffle_within(groups, n_null, seed=10_000 + seed)
    hits = {"family-wise": 0, "uncorrected": 0}
    for k in range(n_null):
        _, p_unc, p_fw = permutation_pvalues(features, targets[shuffles[k]], groups=groups, n_perm=n_perm,
                                             seed=seed * n_null + k)
        hits["family-wise"] += bool(p_fw.min() <= alpha)
        hits["uncorrected"] += bool(p_unc.min() <= alpha)
    return {k: v / n_null for k, v in hits.items()}


def group_folds(groups: Tensor, n_folds: int) -> list[Tensor]:
    """Test indices of the ``n_folds`` folds of sklearn's ``GroupKFold``: every group (e.g.
    participant) sits in one fold, and the folds hold about equally many rows."""
    g = torch.as_tensor(groups).cpu().numpy()
    n_groups = len(np.unique(g))
    if not 2 <= n_folds <= n_groups:
        raise ValueError(f"n_folds must be between 2 and the number of groups ({n_groups}), got {n_folds}")
    return [torch.from_numpy(test) for _, test in GroupKFold(n_folds).split(g, groups=g)]


# ---------------------------------------------------------------------------------------------
# Held-out groups: scores, selection inside the folds, AUC with a group bootstrap interval


def _train_mask(n: int, test: Tensor) -> Tensor:
    train = torch.ones(n, dtype=torch.bool)
    train[test] = False
    return train


def held_out_logits(features: Tensor, targets: Tensor, groups: Tensor, *, n_folds: int = 4,
                    l2: float = 1e-3, steps: int = 1000) -> Tensor:
    """Logits (N, a) of :func:`fit_logistic` (at most ``steps`` L-BFGS iterations) for every
    row, each from the model fitted on the other folds of :func:`group_folds`: every group
    (participant) is scored by a model that never saw it."""
    _check(features, targets)
    out = torch.empty(targets.shape, dtype=torch.float64)
    for test in group_folds(groups, n_folds):
        train = _train_mask(len(features), test)
        w, b = fit_logistic(features[train], targets[train], l2=l2, steps=steps)
        out[test] = logistic_scores(features[test], w, b)
    return out


def best_pair(features: Tensor, targets: Tensor, groups: Tensor) -> tuple[int, int, float]:
    """(feature j, target k, r) of the largest |within-group r| between a feature column and a
    target column (NaN correlations ignored)."""
    r = within_correlations(features, targets, groups)
    j, k = divmod(int(torch.nan_to_num(r.abs(), nan=-1.0).argmax()), r.shape[1])
    return j, k, float(r[j, k])


def select_in_folds(features: Tensor, targets: Tensor, labels: Tensor, groups: Tensor, *,
                    n_folds: int = 4) -> tuple[Tensor, Tensor, list[tuple[int, int]]]:
    """Predict held-out groups from the one feature, and for the one target, that look best on
    the training groups: selection inside the cross-validation folds.

    For each fold of :func:`group_folds`, the pair (feature j, target k) with the largest
    |within-group r| on the *training* rows (:func:`best_pair`) is chosen; the held-out rows are
    scored by sign(r) * feature j and labelled by ``labels[:, k]`` (binary, (N, a) like
    ``targets``). Returns (scores (N,), labels (N,), the (j, k) chosen in each fold). Choosing
    on all rows first and only then cross-validating lets the test groups vote for the winner,
    which biases the held-out AUC upwards even on null data.
    """
    _check(features, targets)
    scores = torch.empty(len(features), dtype=torch.float64)
    y = torch.empty(len(features), dtype=torch.long)
    chosen = []
    for test in group_folds(groups, n_folds):
        train = _train_mask(len(features), test)
        j, k, r = best_pair(features[train], targets[train], torch.as_tensor(groups)[train])
        scores[test] = (1.0 if r >= 0 else -1.0) * features[test, j].double()
        y[test] = labels[test, k].long()
        chosen.append((j, k))
    return scores, y, chosen


def _group_bootstrap(groups: Tensor, n_boot: int, seed: int) -> tuple[Tensor, Tensor]:
    """Resample whole groups with replacement ``n_boot`` times: (counts (n_boot, G) float64, how
    often each group is drawn; inverse (N,), each row's group index)."""
    _, inverse = torch.unique(torch.as_tensor(groups), return_inverse=True)
    n_groups = int(inverse.max()) + 1
    picks = torch.randint(n_groups, (n_boot, n_groups), generator=torch.Generator().manual_seed(seed))
    ones = torch.ones(picks.shape, dtype=torch.float64)
    return torch.zeros(n_boot, n_groups, dtype=torch.float64).scatter_add_(1, picks, ones), inverse


def _weighted_auc(scores: Tensor, labels: Tensor, weights: Tensor) -> Tensor:
    """ROC AUC of ``scores`` (N,) for binary ``labels`` (N,) with row weights (B, N): (B,).
    Ties count one half, as in sklearn's roc_auc_score (which it equals for unit weights)."""
    values, inverse = torch.unique(scores.double(), return_inverse=True)
    pos = labels.bool()
    w_pos = torch.zeros(len(weights), len(values), dtype=torch.float64).index_add_(1, inverse[pos], weights[:, pos])
    w_neg = torch.zeros(len(weights), len(values), dtype=torch.float64).index_add_(1, inverse[~pos], weights[:, ~pos])
    below = torch.cumsum(w_neg, 1) - w_neg  # negative weight strictly below each score value
    pairs = (w_pos * (below + 0.5 * w_neg)).sum(1)
    return pairs / (w_pos.sum(1) * w_neg.sum(1))


def auc_interval(scores: Tensor, labels: Tensor, groups: Tensor, *, n_boot: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """ROC AUC of ``scores`` (N,) for binary ``labels`` (N,), pooled over all rows, with a
    percentile bootstrap interval that resamples whole groups (participants) with replacement,
    the scores held fixed (the models are not refitted). Returns (auc, low, high)."""
    scores, labels = torch.as_tensor(scores).double().flatten(), torch.as_tensor(labels).flatten()
    if len(scores) != len(labels) or not 0 < int(labels.bool().sum()) < len(labels):
        raise ValueError("auc_interval needs scores and binary labels of the same length, with both classes")
    counts, inverse = _group_bootstrap(groups, n_boot, seed)
    boot = _weighted_auc(scores, labels, counts[:, inverse])
    boot = boot[torch.isfinite(boot)]
    auc_all = _weighted_auc(scores, labels, torch.ones(1, len(scores), dtype=torch.float64))[0]
    lo, hi = torch.quantile(boot, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)).tolist()
    return float(auc_all), lo, hi


def r_interval(features: Tensor, targets: Tensor, groups: Tensor, *, n_boot: int = 2000, level: float = 0.95,
               seed: int = 0) -> tuple[Tensor, Tensor]:
    """Percentile bootstrap interval of every :func:`within_correlations` r, resampling whole
    groups (participants) with replacement. Returns (low, high), each (d, a). Not corrected for
    the number of pairs: for the family, use :func:`max_permutation_test`."""
    _check(features, targets)
    f, t = demean(features, groups), demean(targets, groups)  # a group's rows stay demeaned when it is resampled
    counts, inverse = _group_bootstrap(groups, n_boot, seed)
    n_groups = counts.shape[1]

    def per_group(v: Tensor) -> Tensor:  # (N, ...) -> (G, ...) sums over each group's rows
        return torch.zeros(n_groups, *v.shape[1:], dtype=torch.float64).index_add_(0, inverse, v)

    s_ft, s_ff, s_tt = per_group(f[:, :, None] * t[:, None, :]), per_group(f * f), per_group(t * t)
    r = torch.einsum("bg,gda->bda", counts, s_ft) / ((counts @ s_ff)[:, :, None] * (counts @ s_tt)[:, None, :]).sqrt()
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)
    lo, hi = torch.nanquantile(r, q, dim=0)
    return lo, hi


def auc_table(results: dict[str, dict[str, list]]) -> pd.DataFrame:
    """{feature set: {target: [AUC, low, high]}} (e.g. from :func:`auc_interval`) as a table: a row per
    feature set, columns '<target> AUC' and '<target> 95% CI' for each target."""
    rows = {}
    for feature_set, res in results.items():
        rows[feature_set] = {c: v for name, (a, lo, hi) in res.items()
                             for c, v in ((f"{name} AUC", round(float(a), 3)),
                                          (f"{name} 95% CI", f"[{lo:.3f}, {hi:.3f}]"))}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("features")
