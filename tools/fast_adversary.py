"""Adversarial search for the fast estimator's worst error against the exact empirical-mixture MI.

Random restarts and hill climbing over one factor made of K distinct posteriors (K = 1..6), each
duplicated many times, in five scenarios:

* ``aligned``: sd ratio <= 3, means snapped near the mid-points of their deposit lattice, where the
  errors of duplicated posteriors add up (the configuration that broke the previous 3-node deposit);
* ``ratio``: sd ratios up to 10^4 (the regime's limit);
* ``wide``: means spread so that the grid has up to ``MAX_GRID`` points;
* ``small``: N from 2 to 10;
* ``many``: up to 10^5 distinct posteriors (no duplicates).

The objective is the error of what the estimator *returns*: |fast - exact| when its error estimate
passes ``FAST_TOLERANCE``, and that error scaled down by tolerance / estimate when it does not (a
refused factor goes to the mixture estimator, so its error does not count). The reference is the
exact mixture's MI by brute-force float64 quadrature over the distinct components with their
counts as weights (``exact_mi``), which equals ``mi.quadrature_mi`` on the expanded data.

    python tools/fast_adversary.py --restarts 25 --steps 120 --seed 0

Prints each restart's worst configuration, then the worst error among returned values, the worst
error overall (refused values included), the smallest margin (estimate - error) among returned
values, and how many evaluated configurations were refused.
"""
from __future__ import annotations

import argparse
import math
import random

import torch

from vaemi_nb import fastmi

SCENARIOS = ("aligned", "ratio", "wide", "small", "many")
LOG_2PI = math.log(2 * math.pi)


def posteriors(means, sds, counts) -> tuple[torch.Tensor, torch.Tensor]:
    """One factor: (N, 1) float64 mu and logvar with ``counts[k]`` copies of component k."""
    rep = torch.tensor(counts)
    mu = torch.repeat_interleave(torch.tensor(means, dtype=torch.float64), rep)[:, None]
    sd = torch.repeat_interleave(torch.tensor(sds, dtype=torch.float64), rep)[:, None]
    return mu, 2 * sd.log()


def exact_mi(means, sds, counts, points_per_sd: int = 24) -> float:
    """I = H(q) - mean 1/2 log(2 pi e sd^2) for q = sum_k (counts_k / N) N(means_k, sds_k^2); float64
    trapezoid quadrature over the union of [mean_k - 12 sd_k, mean_k + 12 sd_k] at spacing
    min sd / points_per_sd."""
    m, s, w = (torch.tensor(v, dtype=torch.float64) for v in (means, sds, counts))
    w = w / w.sum()
    h = float(s.min()) / points_per_sd
    lo, hi = float((m - 12 * s).min()), float((m + 12 * s).max())
    ent = 0.0
    for z in torch.arange(lo, hi + h, h, dtype=torch.float64).split(max(1, 2**23 // len(m))):
        t = (z[:, None] - m) / s
        log_q = torch.logsumexp(-0.5 * t.pow(2) - s.log() - 0.5 * LOG_2PI + w.log(), dim=1)
        ent -= float((log_q.exp() * log_q).sum()) * h
    return ent - float((w * (0.5 * (LOG_2PI + 1) + s.log())).sum())


def evaluate(config) -> dict:
    """Fast value, its error estimate and the exact value of one configuration (means, sds, counts)."""
    mu, logvar = posteriors(*config)
    if not fastmi.in_regime(mu, logvar).all():
        return {"error": 0.0, "estimate": math.inf, "objective": 0.0, "in_regime": False}
    est, err_est = fastmi.fast_mi_with_error(mu, logvar)
    err = abs(float(est) - exact_mi(*config))
    scale = min(1.0, fastmi.FAST_TOLERANCE / max(float(err_est), 1e-300))
    return {"error": err, "estimate": float(err_est), "objective": err * scale, "in_regime": True}


def lattice_midpoint(mean: float, sd: float, sd_min: float, lo: float, c: float = fastmi.DEFAULT_C) -> float:
    """The mid-point between two nodes of the deposit lattice of a component of this sd."""
    big_h = c * sd_min * 2 ** math.floor(math.log2(sd / sd_min) + 1e-9)
    return lo + (math.floor((mean - lo) / big_h) + 0.5) * big_h


def random_config(rng: random.Random, scenario: str, max_ratio: float):
    k = rng.randint(1, 6)
    ratio = {"aligned": 3.0, "ratio": max_ratio, "wide": 100.0, "small": 30.0, "many": 20.0}[scenario]
    sds = [1.0] + [math.exp(rng.uniform(0, math.log(ratio))) for _ in range(k - 1)]
    spread = 10.0 ** rng.uniform(5, math.log10(fastmi.MAX_GRID * fastmi.DEFAULT_C) - 0.05) \
        if scenario == "wide" else 3.0 * max(sds)
    means = [rng.uniform(0, spread) for _ in range(k)]
    if scenario == "small":
        counts = [1] * rng.randint(2, 10)
        means = [rng.gauss(0, 3) for _ in counts]
        sds = [1.0] + [math.exp(rng.uniform(0, math.log(ratio))) for _ in counts[1:]]
    elif scenario == "many":
        n = int(10 ** rng.uniform(3, 5))
        g = torch.Generator().manual_seed(rng.randrange(2**31))
        means = (torch.randn(n, generator=g, dtype=torch.float64) * 3).tolist()
        sds = torch.exp(torch.rand(n, generator=g, dtype=torch.float64) * math.log(ratio)).tolist()
        counts = [1] * n
    else:
        counts = [rng.choice([1, rng.randint(1, 100), rng.randint(100, 20_000)]) for _ in range(k)]
    if scenario == "aligned":
        lo = min(means) - fastmi.PAD_SD * max(sds)  # close to the grid origin; snapped below
        means = [lattice_midpoint(m, s, min(sds), lo) for m, s in zip(means, sds)]
    return means, sds, counts


def step(config, rng: random.Random, scale: float, scenario: str, max_ratio: float):
    means, sds, counts = (list(x) for x in config)
    i = rng.randrange(len(means))
    r = rng.random()
    if r < 0.5:
        means[i] += scale * rng.gauss(0, 1) * sds[i]
    elif r < 0.75 and i > 0:  # component 0 keeps sd 1, the narrowest
        ratio = {"aligned": 3.0, "ratio": max_ratio}.get(scenario, 100.0)
        sds[i] = min(ratio, max(1.0, sds[i] * math.exp(0.3 * scale * rng.gauss(0, 1))))
    elif scenario not in ("small", "many"):
        counts[i] = max(1, min(20_000, round(counts[i] * math.exp(rng.gauss(0, 0.7)))))
    return means, sds, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--restarts", type=int, default=25)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-ratio", type=float, default=fastmi.MAX_SD_RATIO, help="largest sd / smallest sd")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    worst_returned, worst_any, min_margin, refused, evaluated = 0.0, 0.0, math.inf, 0, 0
    for restart in range(args.restarts):
        scenario = SCENARIOS[restart % len(SCENARIOS)]
        config = random_config(rng, scenario, args.max_ratio)
        best = evaluate(config)
        steps = args.steps if scenario != "many" else max(1, args.steps // 20)
        for i in range(steps):
            cand = step(config, rng, 0.5 if i < steps // 2 else 0.05, scenario, args.max_ratio)
            res = evaluate(cand)
            evaluated += 1
            if res["in_regime"]:
                worst_any = max(worst_any, res["error"])
                if res["estimate"] > fastmi.FAST_TOLERANCE:
                    refused += 1
                else:
                    worst_returned = max(worst_returned, res["error"])
                    min_margin = min(min_margin, res["estimate"] - res["error"])
            if res["objective"] > best["objective"]:
                config, best = cand, res
        means, sds, counts = config
        shown = (f"{len(means)} distinct posteriors" if len(means) > 8 else
                 f"means {[round(m, 4) for m in means]}, sds {[round(s, 4) for s in sds]}, counts {counts}")
        print(f"restart {restart} ({scenario}): |error| {best['error']:.3e}, estimate {best['estimate']:.3e} "
              f"nats; {shown}", flush=True)
    print(f"evaluated {evaluated} configurations; {refused} refused (estimate > {fastmi.FAST_TOLERANCE} nats)")
    print(f"worst |fast - exact| among returned values: {worst_returned:.3e} nats "
          f"(FAST_TOLERANCE {fastmi.FAST_TOLERANCE} nats)")
    print(f"worst |fast - exact| overall, refused included: {worst_any:.3e} nats")
    print(f"smallest estimate - error among returned values: {min_margin:.3e} nats")


if __name__ == "__main__":
    main()
