"""Benchmark of the per-factor MI estimators: time, error and peak memory in one run.

    python -m vaemi_nb.bench                      # full sizes: N in {1k, 10k, 60k}, d in {10, 128}
    python -m vaemi_nb.bench --sizes quick        # small sizes, seconds
    python -m vaemi_nb.bench --device cuda        # writes benchmarks/mi_bench_cuda.csv
    python -m vaemi_nb.bench --streaming 10000000 # factor_report(streaming=True), N = 10^7, d = 32
    python -m vaemi_nb.bench --mig                # MIG on dSprites: writes benchmarks/mig_bench_cpu.csv

Methods: a straightforward pairwise reference (one unchunked N x N float64 matrix per factor,
one sample per point), the chunked mixture estimator, the subsampled marginal-entropy estimator
of Chen et al. (2018; 10,000 points against all N), the Gaussian closed form and fast. Errors are
max |estimate - exact| over the first ``--ref-factors`` factors, the exact empirical-mixture value
coming from brute-force quadrature (``mi.quadrature_mi``). A cell whose predicted time passes the
cap (from the method's cost model and its last timing) is skipped and marked so.

``--mig`` times the three MIG estimators on the posteriors of a trained dSprites model (the
quick profile's beta-VAE of the dSprites chapter, ``experiments.dsprites_vae``, trained or
loaded from the checkpoint cache) over N grid points, up to the whole grid: the exact
``metrics.mig``, beta-TCVAE's 10,000-sample estimator and disentanglement_lib's 20-bin histogram
(``mig_peers``), seconds and values side by side, one row per (estimator, N).
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import platform
import threading
import time
from pathlib import Path

import pandas as pd
import torch

from . import metrics, mi, mig_peers, synthetic

SIZES = {
    "quick": [(500, 10), (1000, 10), (2000, 10), (4000, 10)],
    "full": [(1000, 10), (1000, 128), (10_000, 10), (10_000, 32), (10_000, 128), (60_000, 10),
             (60_000, 128)],
}
COLUMNS = ["method", "N", "d", "seconds", "max_abs_error", "peak_extra_MiB", "status", "machine"]


def pairwise_mi(mu, logvar, generator=None):
    """Straightforward O(N^2) Monte Carlo: the full N x N log-density matrix per factor, float64."""
    mu, logvar = mu.double(), logvar.double()
    n, d = mu.shape
    sd = (0.5 * logvar).exp()
    eps = torch.randn(n, d, generator=generator, dtype=torch.float64).to(mu.device)
    out = torch.empty(d, dtype=torch.float64, device=mu.device)
    for j in range(d):
        z = mu[:, j] + sd[:, j] * eps[:, j]
        logp = (-0.5 * ((z[:, None] - mu[None, :, j]) / sd[None, :, j]) ** 2 - sd[None, :, j].log()
                - 0.5 * math.log(2 * math.pi))
        out[j] = (logp.diagonal() - (torch.logsumexp(logp, 1) - math.log(n))).mean()
    return out


def _methods(generator_seed: int = 0):
    g = lambda: torch.Generator().manual_seed(generator_seed)  # noqa: E731
    return {
        "pairwise": (lambda mu, lv: pairwise_mi(mu, lv, g()), lambda n, d: n * n * d),
        "mixture": (lambda mu, lv: mi.mixture_mi(mu, lv, generator=g()), lambda n, d: n * n * d),
        "subsampled": (lambda mu, lv: mi.subsampled_mi(mu, lv, generator=g()), lambda n, d: 10_000 * n * d),
        "gaussian": (mi.gaussian_mi, lambda n, d: n * d),
        "fast": (lambda mu, lv: mi.factor_mi(mu, lv, method="fast"), lambda n, d: n * d),
    }


def machine(device: torch.device) -> str:
    """One line describing the machine: CPU model and cores, torch, and the GPU if used."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    desc = f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"
    if device.type == "cuda":
        desc += f", GPU {torch.cuda.get_device_name(device)}"
    return desc


class PeakMemory:
    """Peak extra memory during a block: CUDA allocator peak, or sampled resident set size (Linux)."""

    def __init__(self, device: torch.device):
        self.device, self.peak = device, 0

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
            return self
        _trim_heap()  # hand freed heap back to the OS so reused memory counts again
        self.base, self.peak, self._stop = self._rss(), self._rss(), threading.Event()

        def sample():
            while not self._stop.wait(0.002):
                self.peak = max(self.peak, self._rss())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.extra = torch.cuda.max_memory_allocated(self.device) - self.base
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self._rss())
            self.extra = self.peak - self.base
        return False


def _trim_heap() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(sizes, *, device="cpu", cap: float = 120.0, ref_factors: int = 10, seed: int = 0,
        verbose: bool = True) -> list[dict]:
    """Time every method on every (N, d) in ``sizes``; returns one row per (method, N, d)."""
    device = torch.device(device)
    desc = machine(device)
    last: dict[str, tuple[float, float]] = {}  # method -> (seconds, cost) of its last run
    rows = []
    mem_free = _available_bytes(device)
    for n, d in sizes:
        mu, logvar = synthetic.vae_like(n, d, generator=torch.Generator().manual_seed(seed))
        mu, logvar = mu.to(device), logvar.to(device)
        k = min(d, ref_factors)
        t0 = time.perf_counter()
        ref = mi.quadrature_mi(mu[:, :k], logvar[:, :k])
        if verbose:
            print(f"N={n:,} d={d}: reference for {k} factors in {time.perf_counter() - t0:.1f} s", flush=True)
        for name, (fn, cost) in _methods(seed).items():
            row = {"method": name, "N": n, "d": d, "seconds": "", "max_abs_error": "",
                   "peak_extra_MiB": "", "status": "ok", "machine": desc}
            pred = last[name][0] * cost(n, d) / last[name][1] if name in last else 0.0
            if name == "pairwise" and 3 * n * n * 8 > mem_free / 2:
                row["status"] = f"skipped: needs {3 * n * n * 8 / 2**30:.0f} GiB"
            elif pred > cap:
                row["status"] = f"skipped: predicted {pred:.0f} s > cap {cap:.0f} s"
            else:
                fn(mu[:50, :2], logvar[:50, :2])  # warm-up
                with PeakMemory(device) as pm:
                    _sync(device)
                    t0 = time.perf_counter()
                    est = fn(mu, logvar)
                    _sync(device)
                    secs = time.perf_counter() - t0
                last[name] = (secs, cost(n, d))
                err = (est[:k].double() - ref).abs().max().item()
                row.update(seconds=f"{secs:.4g}", max_abs_error=f"{err:.3g}",
                           peak_extra_MiB=f"{pm.extra / 2**20:.1f}")
            rows.append(row)
            if verbose:
                print(f"  {name:10s} {row['seconds'] or '-':>9} s  err {row['max_abs_error'] or '-':>8}  "
                      f"mem {row['peak_extra_MiB'] or '-':>8} MiB  {row['status']}", flush=True)
    return rows


def alternated_times(fns: dict, repeats: int = 3, *, warmup: bool = True, device="cpu") -> dict[str, list[float]]:
    """Seconds of each zero-argument callable in ``fns``, timed ``repeats`` times in alternation.

    Round r times every callable once, in turn, so that all of them see the same machine load
    (other processes slow them alike); compare methods by ratios of the medians. With ``warmup``
    each callable first runs once untimed. Returns name -> list of ``repeats`` timings.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    device = torch.device(device)
    for fn in fns.values() if warmup else ():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - t0)
    return times


def _available_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 8 * 2**30


def table(rows: list[dict]) -> pd.DataFrame:
    """The rows as a DataFrame (blank cells: not run); the machine is in ``.attrs["machine"]``."""
    cols = {"method": "method", "N": "N", "d": "d", "seconds": "seconds", "max_abs_error": "max abs error [nats]",
            "peak_extra_MiB": "peak extra MiB", "status": "status"}
    df = pd.DataFrame([{cols[k]: r[k] for k in cols} for r in rows], columns=list(cols.values()))
    for c in ("seconds", "max abs error [nats]", "peak extra MiB"):
        df[c] = pd.to_numeric(df[c].replace("", None), errors="coerce")
    df.attrs["machine"] = rows[0]["machine"] if rows else ""
    return df


def write_csv(rows: list[dict], path: str | Path, columns: list[str] = COLUMNS) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


def read_csv(path: str | Path) -> list[dict]:
    with open(path, newline="") as f:
        return parse_csv(f.read())


def parse_csv(text: str) -> list[dict]:
    """Rows of a benchmark CSV written by :func:`write_csv`."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for r in rows:
        r["N"], r["d"] = int(r["N"]), int(r["d"])
    return rows


MIG_SIZES = {"quick": [1000, 5000], "full": [10_000, 50_000, 200_000, 737_280]}
MIG_COLUMNS = ["estimator", "N", "d", "seconds", "mig", "status", "encode_seconds", "model", "machine"]


def _mig_estimators(seed: int):
    """name -> (fn(mu, logvar, factors) -> MIG, cost(N, d, K) in log-density evaluations)."""
    return {
        "exact (metrics.mig)": (lambda mu, lv, f: metrics.mig(mu, lv, f), lambda n, d, k: (k + 1) * n * d),
        "beta-TCVAE, 10,000 samples": (
            lambda mu, lv, f: mig_peers.tcvae_mig(mu, lv, f, generator=torch.Generator().manual_seed(seed)),
            lambda n, d, k: (k + 1) * min(n, mig_peers.TCVAE_SAMPLES) * n * d),
        "histogram, 20 bins (disentanglement_lib)": (lambda mu, lv, f: mig_peers.histogram_mig(mu, f),
                                                     lambda n, d, k: n * d * k),
    }


def mig_run(sizes, *, device="cpu", cap: float = 600.0, seed: int = 0, epochs: int | None = None,
            n_train: int | None = None, verbose: bool = True) -> list[dict]:
    """Exact MIG against the two peer estimators on a trained dSprites model's posteriors over N grid
    points for each N in ``sizes`` (737,280: the whole grid). The model is the dSprites chapter's
    quick conv beta-VAE (``n_train`` points, ``epochs``; defaults: the chapter's) from ``seed``."""
    from . import experiments
    from .data import load_dsprites

    cfg = DSPRITES_QUICK
    n_train, epochs = n_train or cfg["n_train"], epochs or cfg["epochs"]
    device = torch.device(device)
    desc = machine(device)
    train_set = load_dsprites(n_train, seed=seed)
    model, _ = experiments.dsprites_vae(train_set.images, epochs=epochs, beta=cfg["beta"], arch=cfg["arch"], seed=seed,
                                        device=device)
    name = (f"{cfg['arch']} beta-VAE (beta {model.beta:g}, d {model.latent_dim}, {train_set.source.split(':')[0]}), "
            f"{n_train:,} training points x {epochs} epochs, seed {seed}")
    last: dict[str, tuple[float, float]] = {}
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        # another draw of grid points, as the chapter's evaluation points (n >= 737,280: the whole grid)
        data = load_dsprites(None if n >= 737_280 else n, seed=seed + 1)
        mu, logvar = experiments.encode_images(model, data.images, device=device)
        enc = time.perf_counter() - t0
        mu, logvar, f = mu.double().cpu(), logvar.double().cpu(), data.factors
        d, k = mu.shape[1], f.shape[1]
        if verbose:
            print(f"N={n:,}: rendered and encoded in {enc:.0f} s", flush=True)
        for est, (fn, cost) in _mig_estimators(seed).items():
            row = {"estimator": est, "N": n, "d": d, "seconds": "", "mig": "", "status": "ok",
                   "encode_seconds": f"{enc:.4g}", "model": name, "machine": desc}
            pred = last[est][0] * cost(n, d, k) / last[est][1] if est in last else 0.0
            if pred > cap:
                row["status"] = f"skipped: predicted {pred:.0f} s > cap {cap:.0f} s"
            else:
                t0 = time.perf_counter()
                value = fn(mu, logvar, f)
                secs = time.perf_counter() - t0
                last[est] = (secs, cost(n, d, k))
                row.update(seconds=f"{secs:.4g}", mig=f"{value:.4f}")
            rows.append(row)
            if verbose:
                print(f"  {est:42s} {row['seconds'] or '-':>9} s  MIG {row['mig'] or '-':>7}  {row['status']}",
                      flush=True)
    return rows


#: The dSprites chapter's quick main model (chapter seed 0), which the MIG benchmark measures.
DSPRITES_QUICK = {"n_train": 16_000, "epochs": 4, "arch": "mlp", "beta": 4.0}


#: Devices whose full-size benchmark may be recorded, as benchmarks/mi_bench_<device>.csv.
RECORDED_DEVICES = ("cpu", "cuda")


def _recorded(records, stem: str) -> dict[str, list[dict]]:
    """The recorded benchmarks/<stem>_<device>.csv files: {file name: rows}."""
    out = {}
    for device in RECORDED_DEVICES:
        name = f"{stem}_{device}.csv"
        text = records.text(f"benchmarks/{name}")
        if text is not None:
            out[name] = parse_csv(text)
    return out


def recorded(records) -> dict[str, list[dict]]:
    """The full-size benchmarks recorded in the repository: {file name: rows}, read through a
    :class:`vaemi_nb.results.Records` (a checkout, or the repository online)."""
    return _recorded(records, "mi_bench")


def synthetic_encoder(d: int = 32):
    """A deterministic stand-in encoder for the streaming benchmark: data point indices (B,) ->
    posteriors (mu, logvar), each (B, d) float32, shaped like a trained VAE's (a quarter of the
    factors collapsed, the rest with spreads up to 3 and heteroscedastic sds 0.1-0.5), computed from
    the index alone (a low-discrepancy sequence), so that two passes give the same posteriors."""
    j = torch.arange(d, dtype=torch.float64)
    amp = torch.linspace(0, 3, d, dtype=torch.float64)
    amp[: d // 4] = 0

    def encode(idx: torch.Tensor):
        t = idx.double()[:, None]
        frac = (((t + 0.5) * (0.6180339887 + 0.01 * j)) % 1).clamp(1e-12, 1 - 1e-12)  # in (0, 1): finite
        u = torch.special.ndtri(frac)  # standard normal quantiles
        sd = 0.1 + 0.4 * ((t * (0.7548776662 + 0.013 * j)) % 1)
        return (amp * u).float(), (2 * sd.log()).float()

    return encode


def streaming_run(n: int = 10_000_000, d: int = 32, batch_size: int = 100_000, device="cpu") -> dict:
    """Time and peak extra memory of ``report.factor_report(..., streaming=True)`` over n synthetic
    posteriors (two passes over the data, no posteriors kept), against what keeping them would take."""
    from .report import factor_report

    device = torch.device(device)
    data = torch.arange(n)
    with PeakMemory(device) as pm:
        t0 = time.perf_counter()
        rep = factor_report(synthetic_encoder(d), data, batch_size=batch_size, device=device, streaming=True)
        secs = time.perf_counter() - t0
    return {"N": n, "d": d, "batch_size": batch_size, "seconds": f"{secs:.4g}",
            "peak_extra_MiB": f"{pm.extra / 2**20:.1f}", "posteriors_in_memory_MiB": f"{2 * n * d * 4 / 2**20:.0f}",
            "influential": int(rep["influential"].sum()), "machine": machine(device)}


def recorded_mig(records) -> dict[str, list[dict]]:
    """The recorded MIG benchmarks (benchmarks/mig_bench_<device>.csv): {file name: rows}."""
    return _recorded(records, "mig_bench")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", choices=sorted(SIZES), default="full")
    p.add_argument("--device", default="cpu")
    p.add_argument("--cap", type=float, default=None,
                   help="skip cells predicted to take longer (s; default 120, with --mig 600)")
    p.add_argument("--ref-factors", type=int, default=10)
    p.add_argument("--mig", action="store_true", help="the MIG estimators on dSprites instead of the MI estimators")
    p.add_argument("--mig-n", type=int, nargs="+", default=None,
                   help="numbers of dSprites points (default by --sizes: quick 1,000 and 5,000; full up to 737,280)")
    p.add_argument("--csv", default=None,
                   help="output CSV (default benchmarks/mi_bench_<device>.csv or, with --mig, "
                        "benchmarks/mig_bench_<device>.csv under the current folder)")
    p.add_argument("--streaming", type=int, default=None, metavar="N",
                   help="instead: time factor_report(streaming=True) on N synthetic posteriors of 32 factors "
                        "(writes benchmarks/streaming_<device>.csv)")
    args = p.parse_args(argv)
    if args.streaming:
        row = streaming_run(args.streaming, device=args.device)
        out = args.csv or Path("benchmarks") / f"streaming_{torch.device(args.device).type}.csv"
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            w.writeheader()
            w.writerow(row)
        print(pd.DataFrame([row]).to_string(index=False))
        print(f"\nwrote {out}")
        return
    if args.mig:
        rows = mig_run(args.mig_n or MIG_SIZES[args.sizes], device=args.device,
                       cap=600.0 if args.cap is None else args.cap)
        out = args.csv or Path("benchmarks") / f"mig_bench_{torch.device(args.device).type}.csv"
        write_csv(rows, out, MIG_COLUMNS)
        print(f"\nMachine: {rows[0]['machine']}\nModel: {rows[0]['model']}\nwrote {out}" if rows else "")
        return
    args.cap = 120.0 if args.cap is None else args.cap
    rows = run(SIZES[args.sizes], device=args.device, cap=args.cap, ref_factors=args.ref_factors)
    out = args.csv or Path("benchmarks") / f"mi_bench_{torch.device(args.device).type}.csv"
    write_csv(rows, out)
    print()
    print(f"Machine: {rows[0]['machine']}\n" if rows else "")
    print(table(rows).to_string(index=False, na_rep="-"))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
