"""Latent factors against labelled attributes: correlations, logistic regression, ROC AUC.

Used by the CelebA chapter (40 binary face attributes) and the DEAP chapter (high/low
valence and arousal).
"""
from __future__ import annotations

import torch
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
    """ROC AUC of each column of ``scores`` (N, a) for binary ``labels`` (N, a), shape (a,).

    Computed as the Mann-Whitney statistic with tied scores given their average rank; NaN for
    a column whose labels are all equal.
    """
    scores, labels = scores.double(), labels.bool()
    out = torch.full((scores.shape[1],), float("nan"), dtype=torch.float64)
    for a in range(scores.shape[1]):
        pos, n = labels[:, a], len(labels)
        n_pos = int(pos.sum())
        if n_pos in (0, n):
            continue
        s = scores[:, a]
        order = torch.argsort(s)
        # tied scores share the mean of their ranks
        _, inverse, counts = torch.unique_consecutive(s[order], return_inverse=True, return_counts=True)
        mean_rank = counts.cumsum(0).double() - (counts.double() - 1) / 2
        ranks = torch.empty(n, dtype=torch.float64)
        ranks[order] = mean_rank[inverse]
        out[a] = (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (n - n_pos))
    return out


def fit_logistic(features: Tensor, targets: Tensor, *, l2: float = 1e-3, steps: int = 200) -> tuple[Tensor, Tensor]:
    """One L2-regularised logistic regression per target column, fitted jointly by L-BFGS.

    ``features`` (N, d) are standardised inside (the returned weights act on raw features);
    ``targets`` (N, a) in {0, 1}. The loss is the mean log-loss (nats) plus
    ``l2 * ||w||^2 / 2``. Returns (weights (d, a), bias (a,)).
    """
    _check(features, targets)
    x = features.double()
    mean, sd = x.mean(0), x.std(0).clamp_min(1e-8)
    xs = (x - mean) / sd
    y = targets.double()
    w = torch.zeros(x.shape[1], y.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(y.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xs @ w + b, y) + 0.5 * l2 * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    w_raw = (w / sd[:, None]).detach()
    return w_raw, (b - mean @ w_raw).detach()


def logistic_scores(features: Tensor, weights: Tensor, bias: Tensor) -> Tensor:
    """Logits (N, a) of the fitted regressions."""
    return features.double() @ weights + bias


def permutation_test(features: Tensor, target: Tensor, *, groups: Tensor | None = None, n_perm: int = 2000,
                     seed: int = 0) -> tuple[Tensor, Tensor]:
    """Pearson r of each feature (N, d) with ``target`` (N,), and its two-sided permutation p-value.

    The null shuffles ``target`` — within each group when ``groups`` (N,) is given, e.g. trials
    within a participant, so that between-group differences are kept. p = (1 + #{|r_perm| >= |r|})
    / (1 + n_perm), never 0. Returns (r (d,), p (d,)).
    """
    _check(features, target[:, None])
    g = torch.Generator().manual_seed(seed)
    f = features.double() - features.double().mean(0)
    f = f / f.pow(2).sum(0).sqrt().clamp_min(1e-300)
    groups = torch.zeros(len(target), dtype=torch.long) if groups is None else torch.as_tensor(groups)
    members = [torch.where(groups == u)[0] for u in torch.unique(groups)]

    def corr(t: Tensor) -> Tensor:
        t = t - t.mean()
        return f.T @ t / t.pow(2).sum().sqrt().clamp_min(1e-300)

    y = target.double()
    r = corr(y)
    exceed = torch.zeros_like(r)
    for _ in range(n_perm):
        y_perm = y.clone()
        for idx in members:
            y_perm[idx] = y[idx[torch.randperm(len(idx), generator=g)]]
        exceed += (corr(y_perm).abs() >= r.abs() - 1e-12).double()
    return r, (1 + exceed) / (1 + n_perm)


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
    """
    _check(features, targets)
    g = torch.Generator().manual_seed(seed)
    f = features.double() - features.double().mean(0)
    f = f / f.pow(2).sum(0).sqrt().clamp_min(1e-300)
    groups = torch.zeros(len(targets), dtype=torch.long) if groups is None else torch.as_tensor(groups)
    base = torch.argsort(groups, stable=True)  # positions of each group's members, group by group

    def corr(t: Tensor) -> Tensor:  # (..., N, a) -> (..., d, a)
        t = t - t.mean(-2, keepdim=True)
        return f.T @ t / t.pow(2).sum(-2, keepdim=True).sqrt().clamp_min(1e-300)

    y = targets.double()
    r = corr(y)
    rank = torch.unique(groups, return_inverse=True)[1].double()
    null_max = []
    for start in range(0, n_perm, 256):  # permutations in chunks of 256
        m = min(256, n_perm - start)
        # sorting group + U(0, 1) keys orders every group's members at random, in the group's slots
        perm = torch.argsort(rank + torch.rand(m, len(y), generator=g, dtype=torch.float64), dim=1)
        y_perm = torch.empty(m, *y.shape, dtype=torch.float64)
        y_perm[:, base] = y[perm]
        null_max.append(corr(y_perm).abs().flatten(1).max(1).values)
    null_max = torch.cat(null_max)
    exceed = (null_max[None, None, :] >= r.abs()[..., None] - 1e-12).double().sum(-1)
    return r, (1 + exceed) / (1 + n_perm)


def group_folds(groups: Tensor, n_folds: int) -> list[Tensor]:
    """Test indices of ``n_folds`` folds in which every group (e.g. participant) sits in one fold;
    the sorted groups are dealt to the folds in turn."""
    uniq = torch.unique(torch.as_tensor(groups))
    if not 2 <= n_folds <= len(uniq):
        raise ValueError(f"n_folds must be between 2 and the number of groups ({len(uniq)}), got {n_folds}")
    return [torch.where(torch.isin(torch.as_tensor(groups), uniq[f::n_folds]))[0] for f in range(n_folds)]


def cross_validated(features: Tensor, targets: Tensor, groups: Tensor, *, n_folds: int = 4,
                    l2: float = 1e-3) -> dict[str, Tensor]:
    """Logistic regression scored on held-out groups: fold-averaged test ``accuracy``, ``auc``
    and ``majority`` (accuracy of always answering the training folds' majority class), each (a,)."""
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
