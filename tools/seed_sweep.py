"""Run every chapter under nbval for several seeds and tabulate each check's worst margin.

    python tools/seed_sweep.py                      # all chapters, seeds 0-4, then the table
    python tools/seed_sweep.py --notebooks 03 09    # some chapters (file-name prefixes)
    python tools/seed_sweep.py --table-only         # rebuild the table from the logs

Each run sets VAEMI_SEED, VAEMI_STATIC=1 (as ``make book`` does) and VAEMI_CHECKS_LOG, so every
``vaemi_nb.checks.check`` in the chapter appends its value, bound and margin to a log in
``data/seed_sweep/`` (git-ignored). The CelebA chapter runs on its procedural stand-in and, when
``--celeba PATH`` or $VAEMI_CELEBA names a CelebA folder, once more on those real faces (variant
``real``). The DEAP chapter likewise runs on its synthetic stand-in and, when ``--deap-features
PATH`` or $VAEMI_DEAP_FEATURES names a folder of DEAP's per-trial features, once more on them
(variant ``real``; with ``--deap-ratings`` or $VAEMI_DEAP_RATINGS, joined with the real ratings).
The stand-in runs see none of these variables. The
table (default ``tests/seed_margins.md``) gives, per chapter and check, the bound, the worst
value and margin over the seeds, and names the machine it was measured on. The logs stay on the
machine that ran them: a chapter with no logs here keeps its rows from the table as it was
(``--table-only`` on a fresh checkout rewrites nothing), with the date of its runs.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "data" / "seed_sweep"


def machine() -> str:
    """CPU model, cores, OS, Python and torch of this machine."""
    import torch

    from vaemi_nb.bench import machine as describe

    return f"{describe(torch.device('cpu'))}, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def digest(nb: Path) -> str:
    """Short hash of the notebook's code cells: a log is current while they are unchanged."""
    import nbformat

    cells = nbformat.read(nb, as_version=4).cells
    code = "\n\0".join(c.source for c in cells if c.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()[:12]


def _stem(nb: Path, seed: int, variant: str) -> str:
    return f"{nb.stem}{'' if variant == 'default' else '-' + variant}-seed{seed}"


def is_current(nb: Path, seed: int, variant: str) -> bool:
    """Whether a passing log of this chapter, seed and data exists for the chapter's current code."""
    path = LOGS / f"{_stem(nb, seed, variant)}.run.json"
    if not path.is_file():
        return False
    record = json.loads(path.read_text())
    return record["rc"] == 0 and record.get("code") == digest(nb)


#: The chapters with a ``real`` variant, and the environment variables that variant sets.
REAL_DATA = {"celeba": ("VAEMI_CELEBA",), "deap": ("VAEMI_DEAP_FEATURES", "VAEMI_DEAP_RATINGS")}


def _real_env(nb: Path, real: dict[str, str | None]) -> dict[str, str] | None:
    """The variables of this chapter's ``real`` variant, or None if it has none (or no data)."""
    for key, names in REAL_DATA.items():
        if key in nb.stem:
            values = {n: real.get(n) for n in names}
            return {n: v for n, v in values.items() if v} if values[names[0]] else None
    return None


def run_one(nb: Path, seed: int, variant: str, real: dict[str, str | None]) -> dict:
    """Run one chapter under nbval with VAEMI_SEED=seed; returns the run record. The default
    variant sees no real-data variable; ``real`` sets the chapter's (see REAL_DATA)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    stem = _stem(nb, seed, variant)
    log = LOGS / f"{stem}.jsonl"
    log.unlink(missing_ok=True)
    env = {**os.environ, "VAEMI_SEED": str(seed), "VAEMI_STATIC": "1", "VAEMI_CHECKS_LOG": str(log),
           "VAEMI_PROFILE": os.environ.get("VAEMI_PROFILE", "quick")}
    env.setdefault("VAEMI_DATA", str(ROOT / "data"))  # the checkout's cache, as `make` sets it
    for names in REAL_DATA.values():
        for name in names:
            env.pop(name, None)
    if variant == "real":
        env.update(_real_env(nb, real) or {})
    sha = digest(nb)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(nb)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    record = {"notebook": nb.stem, "variant": variant, "seed": seed, "rc": proc.returncode,
              "seconds": round(time.perf_counter() - t0, 1), "code": sha,
              "date": datetime.date.today().isoformat()}
    if proc.returncode:
        record["tail"] = proc.stdout[-3000:]
    (LOGS / f"{stem}.run.json").write_text(json.dumps(record))
    status = "passed" if proc.returncode == 0 else f"FAILED (rc {proc.returncode})"
    print(f"{nb.stem} [{variant}] seed {seed}: {status} in {record['seconds']:.0f} s", flush=True)
    if proc.returncode:
        print(record["tail"][-1500:], flush=True)
    return record


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"


def _code_now(chapter: str) -> str | None:
    """The digest of the chapter's code cells as they are now (None if it no longer exists)."""
    path = ROOT / "notebooks" / f"{chapter}.ipynb"
    return digest(path) if path.is_file() else None


def _split(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


def previous_rows(out: Path) -> tuple[dict, dict, str, str]:
    """The table already at ``out``: its Runs rows and Checks rows by (chapter, data), the machine
    its header names and the date it gives ("" if none)."""
    if not out.is_file():
        return {}, {}, "", ""
    text = out.read_text()
    found = re.search(r"^Measured (?:([0-9-]+) )?on (.*?), quick profile", text, re.M)
    runs, checks = defaultdict(list), defaultdict(list)
    for section, into in (("Runs", runs), ("Checks", checks)):
        part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0] if f"## {section}" in text else ""
        rows = [r for r in part.splitlines() if r.startswith("| ") and not r.startswith("|---")]
        for row in rows[1:]:
            into[tuple(_split(row)[:2])].append(row)
    return runs, checks, found.group(2) if found else "", (found.group(1) or "") if found else ""


def table(out: Path, seeds: list[int], note: str = "") -> str:
    """Markdown table of every check's worst margin over the logged runs; a chapter with no logs on
    this machine keeps its rows from the table already at ``out``."""
    runs = [{"date": datetime.date.fromtimestamp(p.stat().st_mtime).isoformat(), **json.loads(p.read_text())}
            for p in sorted(LOGS.glob("*.run.json"))]  # the date of the run: recorded, else the log's
    runs = [r for r in runs if r["seed"] in seeds]
    old_runs, old_checks, old_machine, old_date = previous_rows(out)
    logged = {(r["notebook"], r["variant"]) for r in runs}
    kept = sorted(k for k in old_runs if k not in logged)
    here = machine()
    checks: dict[tuple, dict] = {}
    for p in sorted(LOGS.glob("*.jsonl")):
        stem = p.stem
        base, seed = stem.rsplit("-seed", 1)
        if int(seed) not in seeds:
            continue
        variant = "real" if base.endswith("-real") else "default"
        chapter = base.removesuffix("-real")
        for line in p.read_text().splitlines():
            e = json.loads(line)
            key = (chapter, variant, e["name"], e["op"])
            c = checks.setdefault(key, {"bounds": set(), "worst": None, "seeds": set(), "failed": set()})
            c["bounds"].add(e["bound"])
            c["seeds"].add(int(seed))
            if not e["ok"]:
                c["failed"].add(int(seed))
            if c["worst"] is None or e["margin"] < c["worst"]["margin"]:
                c["worst"] = {**e, "seed": int(seed)}
    lines = [f"# Seed sweep: worst margin of every check over seeds {', '.join(map(str, seeds))}", "",
             f"Measured on {here}, quick profile, "
             f"by `python tools/seed_sweep.py` (every chapter under nbval, VAEMI_SEED = each seed). "
             "Margin: how far the worst value over the seeds sits inside its bound, in the quantity's "
             "units (`bound - value` for `<`, `value - bound` for `>`); relative: margin / |bound|."
             + (f" Rows measured earlier ({', '.join(f'{c} {v}' for c, v in kept)}) were measured on "
                f"{old_machine}." if kept and old_machine and old_machine != here else "")
             + (f" {note}" if note else ""), "",
             "## Runs", "", "Current: whether the chapter's code cells are still those that were swept; code: the "
             "hash of those code cells (`tests/book/test_seed_margins.py` compares it with the chapter's); "
             "measured: the date of the runs.", "",
             "| chapter | data | seeds passed | seconds per run (min–max) | current | code | measured |",
             "|---|---|---|---|---|---|---|"]
    rows = {}
    by_nb = defaultdict(list)
    for r in runs:
        by_nb[(r["notebook"], r["variant"])].append(r)
    for (nb, variant), rs in sorted(by_nb.items()):
        ok = sorted(r["seed"] for r in rs if r["rc"] == 0)
        secs = [r["seconds"] for r in rs]
        now = _code_now(nb)
        current = "yes" if all(r.get("code") == now for r in rs) else "NO: re-run"
        codes = sorted({r.get("code") or "?" for r in rs})
        dates = sorted({r["date"] for r in rs})
        dated = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        rows[(nb, variant)] = [
            f"| {nb} | {variant} | {len(ok)} of {len(rs)} ({', '.join(map(str, ok)) or 'none'}) | "
            f"{min(secs):.0f}–{max(secs):.0f} | {current} | {', '.join(codes)} | {dated} |"]
    for key in kept:  # no logs here: the earlier rows, with "current" checked against the code now
        for row in old_runs[key]:
            cells = _split(row) + [""] * 7
            cells[4] = "yes" if cells[5] == _code_now(cells[0]) else "NO: re-run"
            rows[key] = rows.get(key, []) + ["| " + " | ".join(cells[:6] + [cells[6] or old_date or "?"]) + " |"]
    lines += [row for _, rs in sorted(rows.items()) for row in rs]
    lines += ["", "## Checks", "",
              "| chapter | data | check | op | bound | worst value | at | worst margin | relative | seed | seeds |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    check_rows = {key: list(old_checks[key]) for key in kept}
    for (chapter, variant, name, op), c in sorted(checks.items()):
        w = c["worst"]
        bound = ", ".join(_fmt(b) for b in sorted(c["bounds"]))
        rel = f"{w['margin'] / abs(w['bound']):.2f}" if w["bound"] else "–"
        seeds_ok = f"{len(c['seeds']) - len(c['failed'])}/{len(c['seeds'])}"
        cell = name.replace("|", "\\|")
        check_rows.setdefault((chapter, variant), []).append(
            f"| {chapter} | {variant} | {cell} | {op.replace('<', '&lt;').replace('>', '&gt;')} | {bound} | "
            f"{_fmt(w['value'])} | {w.get('where', '').replace('|', '/')} | {_fmt(w['margin'])} | {rel} | "
            f"{w['seed']} | {seeds_ok} |")
    lines += [row for _, rs in sorted(check_rows.items()) for row in rs]
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--notebooks", nargs="+", default=None, help="file-name prefixes, e.g. 01 09")
    ap.add_argument("--celeba", default=os.environ.get("VAEMI_CELEBA"),
                    help="a CelebA folder: the CelebA chapter also runs on these real faces")
    ap.add_argument("--deap-features", default=os.environ.get("VAEMI_DEAP_FEATURES"),
                    help="a folder of DEAP's per-trial features: the DEAP chapter also runs on them")
    ap.add_argument("--deap-ratings", default=os.environ.get("VAEMI_DEAP_RATINGS"),
                    help="DEAP's participant_ratings.csv, for the DEAP chapter's real variant")
    ap.add_argument("--variants", nargs="+", default=["default", "real"], choices=["default", "real"],
                    help="which data to run the CelebA and DEAP chapters on (default: both, real only with "
                         "--celeba / --deap-features)")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "seed_margins.md")
    ap.add_argument("--note", default="", help="a sentence for the table's header (e.g. the load)")
    ap.add_argument("--stale", action="store_true",
                    help="run only the chapter/seed pairs whose log is missing, failed or older than the code")
    ap.add_argument("--table-only", action="store_true", help="only rebuild the table from the logs")
    args = ap.parse_args(argv)
    failed = 0
    real = {"VAEMI_CELEBA": args.celeba, "VAEMI_DEAP_FEATURES": args.deap_features,
            "VAEMI_DEAP_RATINGS": args.deap_ratings}
    if not args.table_only:
        nbs = sorted((ROOT / "notebooks").glob("*.ipynb"))
        if args.notebooks:
            nbs = [nb for nb in nbs if nb.name.startswith(tuple(args.notebooks))]
        for seed in args.seeds:
            for nb in nbs:
                variants = ["default"] + (["real"] if _real_env(nb, real) else [])
                for variant in [v for v in variants if v in args.variants]:
                    if args.stale and is_current(nb, seed, variant):
                        continue
                    failed += run_one(nb, seed, variant, real)["rc"] != 0
    table(args.out, args.seeds, args.note)
    print(f"wrote {args.out}; {failed} failed runs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
