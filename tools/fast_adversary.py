"""Adversarial search for the fast estimator's worst error against the exact empirical-mixture MI.

Random restarts and hill climbing over one factor made of K distinct posteriors (K = 2..5), each
duplicated many times (counts 1..2,000), with a narrowest sd of 1 (so the grid spacing is c/1)
and the others between 1 and ``--max-ratio``; means move freely, so the search finds the
lattice-aligned configurations where the deposit errors of duplicated components add up. The
reference is ``mi.quadrature_mi`` (float64 brute force) on the same posteriors.

    python tools/fast_adversary.py --restarts 6 --steps 150 --seed 0

Prints each restart's worst configuration and the worst |fast - exact| found, in nats.
"""
from __future__ import annotations

import argparse
import math
import random

import torch

from vaemi_nb import fastmi, mi


def posteriors(means: list[float], sds: list[float], counts: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """One factor: (N, 1) float64 mu and logvar with ``counts[k]`` copies of component k."""
    rep = torch.tensor(counts)
    mu = torch.repeat_interleave(torch.tensor(means, dtype=torch.float64), rep)[:, None]
    sd = torch.repeat_interleave(torch.tensor(sds, dtype=torch.float64), rep)[:, None]
    return mu, 2 * sd.log()


def error(config: tuple[list[float], list[float], list[int]], c: float = fastmi.DEFAULT_C) -> float:
    """|fast - exact| in nats for one configuration (means, sds, counts)."""
    mu, logvar = posteriors(*config)
    fast = fastmi.fast_mi(mu, logvar, c=c)
    return abs(float(fast - mi.quadrature_mi(mu, logvar, points_per_sd=20)))


def random_config(rng: random.Random, max_ratio: float) -> tuple[list[float], list[float], list[int]]:
    k = rng.randint(2, 5)
    sds = [1.0] + [math.exp(rng.uniform(0, math.log(max_ratio))) for _ in range(k - 1)]
    return [rng.gauss(0, 3) for _ in range(k)], sds, [rng.randint(1, 2000) for _ in range(k)]


def step(config, rng: random.Random, scale: float, max_ratio: float):
    means, sds, counts = (list(x) for x in config)
    i = rng.randrange(len(means))
    r = rng.random()
    if r < 0.4:
        means[i] += scale * rng.gauss(0, 1)
    elif r < 0.8 and i > 0:  # component 0 keeps sd 1, the narrowest
        sds[i] = min(max_ratio, max(1.0, sds[i] * math.exp(0.3 * scale * rng.gauss(0, 1))))
    else:
        counts[i] = max(1, min(2000, round(counts[i] * math.exp(rng.gauss(0, 0.5)))))
    return means, sds, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--restarts", type=int, default=6)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-ratio", type=float, default=3.0, help="largest sd / smallest sd searched")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    worst = (0.0, None)
    for restart in range(args.restarts):
        config = random_config(rng, args.max_ratio)
        err = error(config)
        for i in range(args.steps):
            cand = step(config, rng, 0.5 if i < args.steps // 2 else 0.05, args.max_ratio)
            cand_err = error(cand)
            if cand_err > err:
                config, err = cand, cand_err
        means, sds, counts = config
        print(f"restart {restart}: |error| {err:.3e} nats; means {[round(m, 4) for m in means]}, "
              f"sds {[round(s, 4) for s in sds]}, counts {counts}", flush=True)
        worst = max(worst, (err, config), key=lambda t: t[0])
    print(f"worst |fast - exact| found: {worst[0]:.3e} nats "
          f"(FAST_TOLERANCE {fastmi.FAST_TOLERANCE} nats)")


if __name__ == "__main__":
    main()
