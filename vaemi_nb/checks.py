"""Assertion cells that say what they checked: quantity, value, bound, seed, margin.

A chapter states a claim as ``check("name", value, "<", bound)``. On failure it raises an
``AssertionError`` naming the quantity, its value, the bound and the seed. On success it
returns the margin (how far the value sits inside the bound, in the quantity's units) and, when
``$VAEMI_CHECKS_LOG`` names a file, appends one JSON line per check to it, so that
``tools/seed_sweep.py`` can tabulate each check's worst margin over seeds.
"""
from __future__ import annotations

import json
import math
import operator
import os
import time
from collections.abc import Iterable

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


def current_seed() -> int:
    """The chapter seed, $VAEMI_SEED (default 0)."""
    return int(os.environ.get("VAEMI_SEED", 0))


def _num(value) -> float:
    if hasattr(value, "item"):  # torch / numpy scalars
        value = value.item()
    return float(value)


def _record(entry: dict) -> None:
    path = os.environ.get("VAEMI_CHECKS_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def check(name: str, value, op: str, bound, *, seed: int | None = None, where: str = "") -> float:
    """Assert ``value <op> bound`` and return the margin (>= 0 when it holds).

    ``name`` says what the quantity is and its unit, e.g. "mixture error, worst factor [nats]".
    ``where`` optionally names the worst element (e.g. "factor 17"). The margin is
    ``bound - value`` for ``<``/``<=``, ``value - bound`` for ``>``/``>=`` and ``0`` for ``==``.
    """
    if op not in _OPS:
        raise ValueError(f"check {name!r}: op must be one of {', '.join(_OPS)}, got {op!r}")
    seed = current_seed() if seed is None else seed
    v, b = _num(value), _num(bound)
    ok = (not math.isnan(v)) and _OPS[op](v, b)
    margin = {"<": b - v, "<=": b - v, ">": v - b, ">=": v - b, "==": 0.0 if ok else -abs(v - b)}[op]
    at = f" at {where}" if where else ""
    _record({"name": name, "value": v, "op": op, "bound": b, "margin": margin, "seed": seed,
             "ok": bool(ok), "where": where})
    if not ok:
        raise AssertionError(f"{name} = {v:.6g}{at}, expected {op} {b:.6g} (seed {seed})")
    return margin


def check_all(name: str, values: Iterable, op: str, bound, *, labels: Iterable | None = None,
              seed: int | None = None) -> float:
    """Check every element of ``values`` against ``bound``; records and reports the worst one.

    ``labels`` names the elements (default: their index), so a failure says which one broke it.
    """
    vals = [_num(v) for v in values]
    if not vals:
        raise ValueError(f"check_all {name!r}: no values to check")
    names = [str(label) for label in labels] if labels is not None else [str(i) for i in range(len(vals))]
    if op in ("<", "<="):
        i = max(range(len(vals)), key=lambda k: (math.isnan(vals[k]), vals[k]))
    elif op in (">", ">="):
        i = min(range(len(vals)), key=lambda k: (not math.isnan(vals[k]), vals[k]))
    else:
        bad = [k for k, v in enumerate(vals) if v != _num(bound)]
        i = bad[0] if bad else 0
    return check(name, vals[i], op, bound, seed=seed, where=f"{names[i]}, worst of {len(vals)}")


def record_runtime(key: str = "runtime") -> float:
    """Seconds since this process first imported ``vaemi_nb`` (a chapter's run time, from its
    imports cell on); printed, and glued under ``key`` for the chapter's opening line when the book
    is built (MyST-NB's ``glue``; elsewhere, e.g. in Colab, only printed)."""
    import vaemi_nb

    seconds = time.perf_counter() - vaemi_nb.STARTED
    text = f"{seconds / 60:.1f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"
    try:
        from myst_nb import glue
    except ImportError:  # not building the book
        pass
    else:
        glue(key, text, display=False)
    print(f"This chapter ran in {text} (from its imports to here).")
    return seconds
