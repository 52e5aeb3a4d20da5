"""Adversarial search for the fast estimator's worst error against the exact empirical-mixture MI.

Random restarts and hill climbing over one factor made of K distinct posteriors (K = 2..6), each
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

Prints each restart's best configuration (the error and estimate where its climb ended), then the
worst error among returned values, the worst error overall (refused values included), and the
largest error whose estimate fell short of it; writes one row per restart (with the climb's
evaluations, refusals and worst returned error) to benchmarks/fast_adversary.csv.
"""
from __future__ import annotations

import argparse
import csv
import math
import random
from pathlib import Path

import torch

from vaemi_nb import bench, fastmi, synthetic

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


def random_config(rng: random.Random, scenario: str, max_ratio: float):
    k = rng.randint(2, 6)  # at least two distinct posteriors: one alone has MI 0 exactly
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
    if scenario == "aligned":  # means at deposit-lattice mid-points, duplicated
        mu, logvar = synthetic.aligned_duplicates(k, max_count=20_000, sd_ratio=ratio,
                                                  generator=torch.Generator().manual_seed(rng.randrange(2**31)))
        pairs = torch.cat([mu, (0.5 * logvar).exp()], 1).unique(dim=0, return_counts=True)
        means, sds, counts = pairs[0][:, 0].tolist(), pairs[0][:, 1].tolist(), pairs[1].tolist()
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
    ap.add_argument("--csv", default="benchmarks/fast_adversary.csv", help="where to write the results")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    machine = bench.machine(torch.device("cpu"))
    rows, stats = [], {"evaluated": 0, "refused": 0, "worst_returned": 0.0, "worst_any": 0.0, "missed": 0.0}
    for restart in range(args.restarts):
        scenario = SCENARIOS[restart % len(SCENARIOS)]
        config = random_config(rng, scenario, args.max_ratio)
        best = evaluate(config)
        mine = {"evaluated": 0, "refused": 0, "worst_returned": 0.0}  # this restart's climb
        steps = args.steps if scenario != "many" else max(1, args.steps // 20)
        for i in range(steps):
            cand = step(config, rng, 0.5 if i < steps // 2 else 0.05, scenario, args.max_ratio)
            res = evaluate(cand)
            stats["evaluated"] += 1
            mine["evaluated"] += 1
            if res["in_regime"]:
                stats["worst_any"] = max(stats["worst_any"], res["error"])
                if res["estimate"] > fastmi.FAST_TOLERANCE:
                    stats["refused"] += 1
                    mine["refused"] += 1
                else:
                    stats["worst_returned"] = max(stats["worst_returned"], res["error"])
                    mine["worst_returned"] = max(mine["worst_returned"], res["error"])
                    if res["error"] > res["estimate"]:  # the estimate fell short of the error
                        stats["missed"] = max(stats["missed"], res["error"])
            if res["objective"] > best["objective"]:
                config, best = cand, res
        means, sds, counts = config
        rows.append({"restart": restart, "scenario": scenario, "distinct": len(means), "N": sum(counts),
                     "sd_ratio": f"{max(sds) / min(sds):.4g}", "error": f"{best['error']:.3e}",
                     "estimate": f"{best['estimate']:.3e}", "evaluated": mine["evaluated"],
                     "refused": mine["refused"], "worst_returned": f"{mine['worst_returned']:.3e}",
                     "machine": machine})
        shown = (f"{len(means)} distinct posteriors" if len(means) > 8 else
                 f"means {[round(m, 4) for m in means]}, sds {[round(s, 4) for s in sds]}, counts {counts}")
        print(f"restart {restart} ({scenario}): |error| {best['error']:.3e}, estimate {best['estimate']:.3e} "
              f"nats; {shown}", flush=True)
    summary = (f"evaluated {stats['evaluated']} configurations; {stats['refused']} refused (estimate > "
               f"{fastmi.FAST_TOLERANCE} nats); worst |fast - exact| among returned values "
               f"{stats['worst_returned']:.3e} nats, overall {stats['worst_any']:.3e} nats; largest error "
               f"its estimate fell short of {stats['missed']:.3e} nats")
    print(summary)
    out = Path(args.csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        f.write(f"# python tools/fast_adversary.py --restarts {args.restarts} --steps {args.steps} "
                f"--seed {args.seed}: {summary}\n")
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
