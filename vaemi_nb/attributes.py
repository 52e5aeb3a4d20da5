"""Latent factors against labelled attributes: correlations, logistic regression, ROC AUC.

Used by the CelebA chapter (40 binary face attributes) and the DEAP chapter (high/low
valence and arousal). The classifier, the AUC and the folds are scikit-learn's; the
permutation tests are our own (see max_permutation_test for why).
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


def permutation_test(features: Tensor, target: Tensor, *, groups: Tensor | None = None, n_perm: int = 2000,
                     seed: int = 0) -> tuple[Tensor, Tensor]:
    """Pearson r of each feature (N, d) with ``target`` (N,), and its two-sided permutation p-value.

    The null shuffles ``target`` — within each group when ``groups`` (N,) is given, e.g. trials
    within a participant, so that between-group differences are kept. p = (1 + #{|r_perm| >= |r|})
    / (1 + n_perm), never 0; the same permutations as max_permutation_test with the same seed
    (why not scipy or scikit-learn: see there). Returns (r (d,), p (d,)).
    """
    r, null = _null_correlations(features, target[:, None], groups, n_perm, seed)
    exceed = (null.abs() >= r.abs() - 1e-12).double().sum(0)
    return r[:, 0], ((1 + exceed) / (1 + n_perm))[:, 0]


def max_permutation_test(features: Tensor, targets: Tensor, *, groups: Tensor | None = None,
                         n_perm: int = 2000, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Pearson r of every feature (N, d) with every target (N, a), and p-values corrected for
    having tested all d * a pairs: the max-statistic permutation test.

    Each permutation shuffles the rows of ``targets`` (all columns together; within each group
    when ``groups`` (N,) is given) and records the largest |r| over all d * a pairs. A pair's
    p-value is (1 + #{permutations whose largest |r| >= its |r|}) / (1 + n_perm): the chance
    that the *best* of all the tests, under the null, looks at least as strong. It holds the
    family-wise error rate, so the strongest pair may be picked after looking. Returns
    (r (d, a), p (d, a)).

    Hand-written because neither library does this: ``scipy.stats.permutation_test`` shuffles
    across all N rows (it has no groups/strata argument), and scikit-learn's
    ``permutation_test_score``, which does shuffle within ``groups``, scores one estimator's
    cross-validated prediction per call, not the in-sample r of every pair nor their maximum.
    """
    r, null = _null_correlations(features, targets, groups, n_perm, seed)
    null_max = null.abs().flatten(1).max(1).values
    exceed = (null_max[None, None, :] >= r.abs()[..., None] - 1e-12).double().sum(-1)
    return r, (1 + exceed) / (1 + n_perm)


def group_folds(groups: Tensor, n_folds: int) -> list[Tensor]:
    """Test indices of the ``n_folds`` folds of sklearn's ``GroupKFold``: every group (e.g.
    participant) sits in one fold, and the folds hold about equally many rows."""
    g = torch.as_tensor(groups).cpu().numpy()
    n_groups = len(np.unique(g))
    if not 2 <= n_folds <= n_groups:
        raise ValueError(f"n_folds must be between 2 and the number of groups ({n_groups}), got {n_folds}")
    return [torch.from_numpy(test) for _, test in GroupKFold(n_folds).split(g, groups=g)]


def cross_validated(features: Tensor, targets: Tensor, groups: Tensor, *, n_folds: int = 4,
                    l2: float = 1e-3) -> dict[str, Tensor]:
    """Logistic regression scored on held-out groups (``group_folds``): fold-averaged test
    ``accuracy``, ``auc`` and ``majority`` (accuracy of always answering the training folds'
    majority class), each (a,). An AUC is NaN if some test fold has a single class."""
    _check(features, targets)
    out = {"accuracy": [], "auc": [], "majority": []}
    for test in group_folds(groups, n_folds):
        train = torch.ones(len(features), dtype=torch.bool)
        train[test] = False
        w, b = fit_logistic(features[train], targets[train], l2=l2)
        logits = logistic_scores(features[test], w, b)
        y = targets[test].double()
        out["accuracy"].append(((logits > 0).double() == y).double().mean(0))
        out["auc"].append(auc(logits, targets[test]))
        majority = (targets[train].double().mean(0) > 0.5).double()
        out["majority"].append((y == majority).double().mean(0))
    return {k: torch.stack(v).mean(0) for k, v in out.items()}


def cv_table(results: dict[str, dict], names: tuple[str, ...] = ("valence", "arousal")) -> pd.DataFrame:
    """:func:`cross_validated` results {feature set: result} as a table: a row per feature set after
    a first row for always answering the majority class, columns '<target> accuracy' and
    '<target> AUC' for each of ``names``. Takes tensors or the lists of a recorded summary."""
    majority = next(iter(results.values()))["majority"]
    rows = {"always the majority class": {c: v for k, name in enumerate(names)
                                          for c, v in ((f"{name} accuracy", float(majority[k])), (f"{name} AUC", 0.5))}}
    for feature_set, res in results.items():
        rows[feature_set] = {c: v for k, name in enumerate(names)
                             for c, v in ((f"{name} accuracy", float(res["accuracy"][k])),
                                          (f"{name} AUC", float(res["auc"][k])))}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("features")
