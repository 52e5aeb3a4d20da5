"""Which factors of *your* VAE carry information? A per-factor report for any Gaussian encoder.

    from vaemi_nb.report import factor_report, plot_report
    report = factor_report(model, data)   # pandas DataFrame, one row per factor
    plot_report(report)

and, for posteriors saved to disk, from the shell (``python -m vaemi_nb.report --help``)::

    python -m vaemi_nb.report posteriors.npz --csv report.csv --plot report.png
    python -m vaemi_nb.report mu.npy logvar.npy
    python -m vaemi_nb.report posteriors.pt --mu loc --logvar log_var --threshold 0.3

Columns, per factor j, in factor order (N data points, nats where a unit is given):

* ``mi``: I(x; z_j), ``vaemi_nb.mi.factor_mi`` (default method ``"auto"``) on all N posteriors.
* ``kl``: E_x KL(q(z_j|x) || N(0, 1)), the KL per dimension = I(x; z_j) + KL(q(z_j) || N(0, 1))
  (chapter 04 proves it), so ``kl >= mi`` up to the MI estimator's error.
* ``agg_var``: the variance of the aggregate posterior q(z_j) = (1/N) sum_n N(mu_nj, sigma_nj^2):
  mean_n sigma_nj^2 + (1/N) sum_n (mu_nj - mean mu_j)^2.
* ``mean_var``: Var_x mu_j(x) with the N - 1 denominator, the statistic Burda et al.'s active-unit
  count thresholds (``mi.active_units``: active when > 0.01). It ignores sigma.
* ``influential``: ``mi > threshold`` (default 0.5 nats, the authors' threshold).

``report.attrs`` records ``N``, ``d``, ``estimator`` and ``threshold``.

Design: the encoder runs batch by batch (no gradients, eval mode, inputs dropped after each batch),
and every column but ``mi`` is a running accumulation of per-factor statistics
(:class:`FactorStats`, mergeable as shards are merged). The MI is computed from the concatenated
posteriors, O(N d) memory, or, with ``streaming=True``, from the fast estimator's spectra
accumulated batch by batch, O(d G); ``distributed=True`` does either over ``torch.distributed``
shards.
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Independent, Normal

from . import fastmi
from .mi import factor_mi

COLUMNS = ("mi", "kl", "agg_var", "mean_var", "influential")
ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): active when Var_x mu_j(x) > 0.01


class FactorStats:
    """Running per-factor statistics of Gaussian posteriors, float64 on the CPU.

    ``update(mu, logvar)`` adds a batch; ``merge(other)`` combines two accumulations (Chan et al.'s
    pairwise update for the variance of the means), so shards or batches can be added in any order.
    """

    def __init__(self, d: int) -> None:
        self.n = 0
        self.mean_mu = torch.zeros(d, dtype=torch.float64)
        self.m2_mu = torch.zeros(d, dtype=torch.float64)  # sum of squared deviations of mu
        self.sum_var = torch.zeros(d, dtype=torch.float64)  # sum of sigma^2
        self.sum_kl = torch.zeros(d, dtype=torch.float64)  # sum of KL(q(z_j|x) || N(0, 1))

    @property
    def d(self) -> int:
        return self.mean_mu.numel()

    def update(self, mu: Tensor, logvar: Tensor) -> FactorStats:
        """Add a batch of posteriors, each (B, d); returns self."""
        mu = mu.detach().to("cpu", torch.float64)
        logvar = logvar.detach().to("cpu", torch.float64)
        batch = FactorStats(self.d)
        batch.n = mu.shape[0]
        if batch.n:
            batch.mean_mu = mu.mean(0)
            batch.m2_mu = (mu - batch.mean_mu).pow(2).sum(0)
            batch.sum_var = logvar.exp().sum(0)
            batch.sum_kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(0)
        return self.merge(batch)

    def merge(self, other: FactorStats) -> FactorStats:
        """Add another accumulation (e.g. another shard's); returns self."""
        if other.d != self.d:
            raise ValueError(f"cannot merge statistics of {other.d} factors into {self.d}")
        n = self.n + other.n
        if other.n:
            delta = other.mean_mu - self.mean_mu
            self.mean_mu = self.mean_mu + delta * (other.n / n)
            self.m2_mu = self.m2_mu + other.m2_mu + delta.pow(2) * (self.n * other.n / n)
            self.sum_var = self.sum_var + other.sum_var
            self.sum_kl = self.sum_kl + other.sum_kl
            self.n = n
        return self

    def columns(self) -> dict[str, Tensor]:
        """``kl``, ``agg_var`` and ``mean_var``, each (d,), float64."""
        if self.n < 2:
            raise ValueError(f"need at least 2 data points, got N = {self.n}")
        return {"kl": self.sum_kl / self.n,
                "agg_var": self.sum_var / self.n + self.m2_mu / self.n,
                "mean_var": self.m2_mu / (self.n - 1)}


# ----------------------------------------------------------------------------- encoders and data

def _field(out, name: str):
    """``out.name`` or ``out[name]`` (pythae's ModelOutput is both), else None."""
    value = getattr(out, name, None)
    if value is None and isinstance(out, Mapping):
        value = out.get(name)
    return value


def posterior_params(out) -> tuple[Tensor, Tensor]:
    """(mu, logvar) from an encoder's output; see :func:`factor_report` for the accepted forms."""
    if isinstance(out, Independent):
        if not isinstance(out.base_dist, Normal):
            raise TypeError(f"non-Gaussian posterior: Independent({type(out.base_dist).__name__}); the report "
                            "needs a factorised Gaussian q(z|x) = N(mu, diag sigma^2)")
        out = out.base_dist
    if isinstance(out, Normal):
        return out.loc, 2.0 * out.scale.log()
    if isinstance(out, Distribution):
        raise TypeError(f"non-Gaussian posterior: {type(out).__name__}; the report needs a factorised Gaussian "
                        "q(z|x) = N(mu, diag sigma^2): a Normal, an Independent(Normal) or (mu, logvar)")
    embedding, log_cov = _field(out, "embedding"), _field(out, "log_covariance")
    if embedding is not None or log_cov is not None:  # pythae's encoders
        if log_cov is None:
            raise TypeError("the encoder output has an `embedding` but no `log_covariance`: a deterministic "
                            "autoencoder has no posterior variance, and its MI is not defined")
        return embedding, log_cov
    if isinstance(out, (tuple, list)):
        if len(out) != 2:
            raise TypeError(f"the encoder returned a {type(out).__name__} of {len(out)} items; "
                            "expected two, (mu, logvar)")
        return out[0], out[1]
    raise TypeError(f"the encoder returned a {type(out).__name__}; expected (mu, logvar), a "
                    "torch.distributions.Normal or Independent(Normal), or an output with "
                    "`embedding` and `log_covariance` (pythae)")


def _check_batch(mu, logvar, batch_size: int | None, d: int | None, where: str) -> None:
    for name, t in (("mu", mu), ("logvar", logvar)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: {name} is a {type(t).__name__}, expected a torch.Tensor")
    if mu.shape != logvar.shape:
        raise ValueError(f"{where}: mu has shape {tuple(mu.shape)} but logvar has {tuple(logvar.shape)}")
    if mu.dim() != 2:
        raise ValueError(f"{where}: mu and logvar must be (batch, d), got shape {tuple(mu.shape)}; "
                         "flatten the latent dimensions first")
    if batch_size is not None and mu.shape[0] != batch_size:
        raise ValueError(f"{where}: {mu.shape[0]} posteriors for {batch_size} inputs")
    if d is not None and mu.shape[1] != d:
        raise ValueError(f"{where}: {mu.shape[1]} factors, earlier batches had {d}")
    for name, t in (("mu", mu), ("logvar", logvar)):
        bad = ~torch.isfinite(t)
        if bad.any():
            row, col = (int(v) for v in bad.nonzero()[0])
            kind = "NaN" if math.isnan(float(t[row, col])) else "Inf"
            raise ValueError(f"{where}: {name} contains {kind} (first at row {row} of the batch, factor {col}); "
                             "check the encoder and its inputs")


def _encoder_fn(encoder):
    """The callable mapping a batch of inputs to the encoder's output, and the module to put in eval mode."""
    if callable(getattr(encoder, "encode", None)):  # vaemi_nb.VAE (and models with an encode method)
        return encoder.encode, encoder
    if hasattr(encoder, "model_config") and callable(getattr(encoder, "encoder", None)):  # a pythae model
        return encoder.encoder, encoder
    if callable(encoder):
        return encoder, encoder if isinstance(encoder, nn.Module) else getattr(encoder, "__self__", None)
    raise TypeError(f"encoder must be a vaemi_nb.VAE, a pythae model, or a module or callable mapping inputs "
                    f"to a posterior, got {type(encoder).__name__}")


def _inputs(item):
    if isinstance(item, Tensor):
        return item
    if isinstance(item, (tuple, list)) and item:
        return _inputs(item[0])
    if isinstance(item, Mapping) and "data" in item:  # pythae's datasets yield {"data": x, ...}
        return item["data"]
    raise TypeError(f"a data batch is a {type(item).__name__}; expected a tensor of inputs or a tuple "
                    "whose first element is one")


def _batches(data, batch_size: int) -> Iterator[Tensor]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(data, Tensor):
        yield from (data.split(batch_size) if len(data) else ())
        return
    if isinstance(data, torch.utils.data.DataLoader):
        loader = data
    elif isinstance(data, torch.utils.data.Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False)
    else:
        raise TypeError(f"data must be a tensor, a Dataset or a DataLoader, got {type(data).__name__}")
    for item in loader:
        yield _inputs(item)


def _device(module, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    params = module.parameters() if isinstance(module, nn.Module) else iter(())
    first = next(params, None)
    return first.device if first is not None else torch.device("cpu")


@torch.no_grad()
def iter_posteriors(encoder, data, *, batch_size: int = 256, device=None) -> Iterator[tuple[Tensor, Tensor]]:
    """Encode ``data`` batch by batch; yields (mu, logvar), each (B, d), on ``device``.

    Inputs and forms as for :func:`factor_report`. The encoder is put in eval mode meanwhile.
    """
    fn, module = _encoder_fn(encoder)
    device = _device(module, device)
    was_training = module.training if isinstance(module, nn.Module) else None
    if was_training:
        module.eval()
    try:
        d = None
        for i, x in enumerate(_batches(data, batch_size)):
            x = x.to(device)
            mu, logvar = posterior_params(fn(x))
            _check_batch(mu, logvar, x.shape[0], d, f"encoder output (batch {i})")
            d = mu.shape[1]
            yield mu.detach(), logvar.detach()
    finally:
        if was_training:
            module.train()


def encode(encoder, data, *, batch_size: int = 256, device=None) -> tuple[Tensor, Tensor]:
    """All posteriors of ``data``: (mu, logvar), each (N, d), on ``device`` (see :func:`factor_report`)."""
    mus, logvars = [], []
    for mu, logvar in iter_posteriors(encoder, data, batch_size=batch_size, device=device):
        mus.append(mu)
        logvars.append(logvar)
    if not mus:
        raise ValueError("data yielded no batches (an empty tensor, Dataset or DataLoader)")
    return torch.cat(mus), torch.cat(logvars)


# ----------------------------------------------------------------------------- the report

def _frame(stats: FactorStats, mi: Tensor, threshold: float, method: str) -> pd.DataFrame:
    cols = {"mi": mi.detach().double().cpu(), **stats.columns()}
    df = pd.DataFrame({k: cols[k].numpy() for k in ("mi", "kl", "agg_var", "mean_var")})
    df["influential"] = df["mi"] > threshold
    df.index.name = "factor"
    df.attrs.update(N=stats.n, d=stats.d, estimator=f"vaemi_nb.mi.factor_mi(method={method!r})",
                    threshold=float(threshold))
    return df


def factor_report(encoder, data, *, batch_size: int = 256, device=None, threshold: float = 0.5,
                  method: str = "auto", streaming: bool = False, distributed: bool = False,
                  group=None) -> pd.DataFrame:
    """Each factor's MI, KL, aggregate variance and active-unit statistic for ``encoder`` on ``data``.

    Args:
        encoder: any of
            * a ``vaemi_nb.VAE`` (or any object with an ``encode(x)`` method), called as ``encode(x)``;
            * a pythae model (it has ``model_config`` and ``encoder``), called as ``model.encoder(x)``;
            * any module or callable ``f(x)``.
          Its output for a batch x of B inputs is ``(mu, logvar)`` (a tuple or list of two (B, d)
          tensors, logvar = log sigma^2), a ``torch.distributions.Normal`` (loc and scale (B, d)) or
          ``Independent(Normal)``, or an object or mapping with ``embedding`` and ``log_covariance``
          (pythae's encoders). Other distributions are refused (the report needs a factorised Gaussian).
        data: a tensor of inputs (split into batches of ``batch_size``), a ``Dataset`` (wrapped in an
            unshuffled DataLoader of ``batch_size``) or a ``DataLoader`` (used as it is), whose items
            or batches are tensors, tuples whose first element is the input (labels are ignored), or
            mappings with a ``"data"`` entry (pythae's datasets).
        batch_size: inputs per encoder call, unless ``data`` is a DataLoader.
        device: where the inputs are sent; default: the device of the encoder's parameters (else CPU).
            The encoder must be there already. The posteriors stay there for the MI estimate.
        threshold: MI above which a factor is ``influential``, nats.
        method: the ``factor_mi`` estimator (default ``"auto"``).
        streaming: keep no posteriors: memory O(batch + d G) instead of O(N d). ``data`` is encoded
            twice (the first pass fixes each factor's grid from its ranges, the second deposits the
            posteriors on it, ``fastmi.Accumulator``), so the encoder must give the same posteriors
            both times (eval mode, no sampling inside it). Only the fast estimator: a factor outside
            its regime, or whose error estimate fails, raises ValueError naming it.
        distributed: with ``torch.distributed`` initialised, each process passes its own shard of one
            data set (e.g. a DataLoader with a ``DistributedSampler``) and every process gets the
            report of the union: the running statistics are gathered and merged, the MI is
            ``factor_mi(..., distributed=True)`` (or, with ``streaming``, all-reduced spectra).
        group: the ``torch.distributed`` process group (default: the world).

    Returns:
        A DataFrame indexed by factor with columns ``mi``, ``kl``, ``agg_var``, ``mean_var``,
        ``influential`` (see the module docstring); ``.attrs`` has ``N``, ``d``, ``estimator``,
        ``threshold``. Raises TypeError or ValueError naming the problem (a non-Gaussian posterior,
        mismatched or changing shapes, an unknown output or data type, an empty data set, NaN).
    """
    posteriors = lambda: iter_posteriors(encoder, data, batch_size=batch_size, device=device)  # noqa: E731
    stats, mus, logvars, ranges = None, [], [], None
    for mu, logvar in posteriors():
        stats = (stats or FactorStats(mu.shape[1])).update(mu, logvar)
        if streaming:  # keep only each factor's extremes
            ranges = _widen(ranges, fastmi.ranges(mu, logvar))
        else:
            mus.append(mu)
            logvars.append(logvar)
    if distributed:
        stats = _merge_shards(stats, group)
    if stats is None or stats.n == 0:
        raise ValueError("data yielded no batches (an empty tensor, Dataset or DataLoader)")
    if not streaming:
        mi = factor_mi(torch.cat(mus), torch.cat(logvars), method=method, distributed=distributed, group=group)
        return _frame(stats, mi, threshold, method)
    if distributed:
        import torch.distributed as dist

        for k, t in enumerate(ranges):
            dist.all_reduce(t, op=dist.ReduceOp.MIN if k % 2 == 0 else dist.ReduceOp.MAX, group=group)
    bad = (~fastmi.in_regime_from_ranges(*ranges)).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"streaming: factors {bad[:10]} are outside the fast estimator's regime (see "
                         "vaemi_nb.fastmi.in_regime); keep the posteriors (streaming=False) for them")
    acc = fastmi.Accumulator(*ranges)
    for mu, logvar in posteriors():  # the second pass: deposit on the grids the first pass fixed
        acc.add(mu, logvar)
    if distributed:
        acc.all_reduce(group)
    mi, err = acc.result()
    bad = (err > fastmi.FAST_TOLERANCE).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"streaming: the fast estimator's error estimate exceeds {fastmi.FAST_TOLERANCE} nats "
                         f"for factors {bad[:10]}; keep the posteriors (streaming=False) for them")
    return _frame(stats, mi, threshold, "fast, streamed")


def _widen(ranges, batch):
    """(min mu, max mu, min sd, max sd) of two groups of posteriors, from those of each."""
    if ranges is None:
        return batch
    pick = (torch.minimum, torch.maximum, torch.minimum, torch.maximum)
    return tuple(f(a, b) for f, a, b in zip(pick, ranges, batch))


def _merge_shards(stats: FactorStats | None, group) -> FactorStats | None:
    """Every process's running statistics merged, on every process (all_gather_object, small)."""
    import torch.distributed as dist

    shards = [None] * dist.get_world_size(group)
    dist.all_gather_object(shards, stats, group=group)
    merged = None
    for shard in shards:
        if shard is not None:
            merged = (merged or FactorStats(shard.d)).merge(shard)
    return merged


def posterior_report(mu: Tensor, logvar: Tensor, *, threshold: float = 0.5, method: str = "auto") -> pd.DataFrame:
    """:func:`factor_report` for posteriors already computed: mu, logvar each (N, d)."""
    _check_batch(mu, logvar, None, None, "posterior_report")
    mi = factor_mi(mu, logvar, method=method)  # also checks N >= 2 and finite values
    return _frame(FactorStats(mu.shape[1]).update(mu, logvar), mi, threshold, method)


def summary(report: pd.DataFrame) -> str:
    """One line: how many factors are influential and active, total MI and KL."""
    a = report.attrs
    n_active = int((report["mean_var"] > ACTIVE_UNIT_THRESHOLD).sum())
    return (f"{int(report['influential'].sum())} of {len(report)} factors influential "
            f"(mi > {a.get('threshold', float('nan')):g} nats), {n_active} active units "
            f"(mean_var > {ACTIVE_UNIT_THRESHOLD:g}); total MI {report['mi'].sum():.2f} nats, "
            f"total KL {report['kl'].sum():.2f} nats; N = {a.get('N', '?')}, {a.get('estimator', '')}")


def posterior_variance(report: pd.DataFrame) -> pd.Series:
    """E_x sigma_j^2(x), each factor's mean posterior variance: ``agg_var`` less the means' spread."""
    n = report.attrs["N"]
    return report["agg_var"] - report["mean_var"] * (n - 1) / n


def plot_report(report: pd.DataFrame, axes=None, *, top: int | None = None, sort: bool = True, title: str = ""):
    """MI per factor with the KL per dimension beside it (top), and the active-unit statistic
    Var_x mu_j(x) with the mean posterior variance E_x sigma_j^2 beneath (log scale).

    Factors are sorted by MI (``sort``), the ``top`` first ones shown (default all); ``axes``: two
    matplotlib axes to draw on (default: a new 7 x 4.8-inch figure, 700 px wide at 100 dpi). Returns the figure.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    df = report.sort_values("mi", ascending=False, kind="stable") if sort else report
    df = df.iloc[:top] if top is not None else df
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(7, 4.8), sharex=True, height_ratios=[3, 2], layout="constrained")
    ax, bx = axes
    fig = ax.figure
    x = np.arange(len(df))
    ax.bar(x - 0.2, df["mi"], width=0.4, color="C0", label="MI  I(x; z_j)")
    ax.bar(x + 0.2, df["kl"], width=0.4, color="C1", alpha=0.7, label="KL per dimension")
    thr = report.attrs.get("threshold")
    if thr is not None:
        ax.axhline(thr, color="C3", ls="--", lw=1, label=f"threshold {thr:g} nats")
    ax.set_ylabel("nats")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    n = report.attrs.get("N")
    ax.set_title(title or f"Factors by MI{'' if n is None else f' (N = {n:,})'}", fontsize=10)
    floor = 1e-4  # variances below it are drawn at it
    mean_sigma2 = posterior_variance(df).clip(lower=floor)
    bx.bar(x, df["mean_var"].clip(lower=floor), width=0.6, color="C2", label="Var$_x$ μ$_j$ (active-unit statistic)")
    bx.plot(x, mean_sigma2, "k_", ms=8, mew=1.5, label="E$_x$ σ$_j^2$")
    bx.axhline(ACTIVE_UNIT_THRESHOLD, color="C2", ls=":", lw=1, label=f"active when > {ACTIVE_UNIT_THRESHOLD:g}")
    bx.set_yscale("log")
    bx.set_ylim(bottom=floor)
    bx.set_ylabel("variance")
    bx.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=7, frameon=False, ncol=3, borderaxespad=0.2)
    bx.set_xticks(x)
    bx.set_xticklabels([str(i) for i in df.index], rotation=90, fontsize=7 if len(df) <= 48 else 5)
    bx.set_xlabel("factor j" + (" (sorted by MI)" if sort else ""))
    return fig


# ----------------------------------------------------------------------------- command line

class InputError(Exception):
    """A problem with the command line's input files, reported in one line."""


def _load_npz(path: Path, names: tuple[str, str]):
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as f:
            have = list(f.files)
            arrays = {k: f[k] for k in names if k in have}
    except Exception as err:  # a damaged zip, a pickled object array, ...
        raise InputError(f"{path}: cannot be read as .npz ({_first_line(err)})") from None
    for name, flag in zip(names, ("--mu", "--logvar")):
        if name not in arrays:
            raise InputError(f"{path} has no array {name!r} (it has: {', '.join(have) or 'none'}); "
                             f"name it with {flag}")
    return arrays[names[0]], arrays[names[1]]


def _load_npy(path: Path):
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except Exception as err:
        raise InputError(f"{path}: cannot be read as .npy ({_first_line(err)})") from None


def _load_pt(path: Path, names: tuple[str, str]):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)  # tensors and containers only, no code
    except Exception as err:
        raise InputError(f"{path}: cannot be read as a .pt file of tensors ({_first_line(err)})") from None
    if isinstance(obj, Mapping):
        for name, flag in zip(names, ("--mu", "--logvar")):
            if name not in obj:
                keys = ", ".join(map(str, obj)) or "none"
                raise InputError(f"{path} has no entry {name!r} (it has: {keys}); name it with {flag}")
        return obj[names[0]], obj[names[1]]
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        return obj[0], obj[1]
    raise InputError(f"{path}: holds a {type(obj).__name__}; expected a dict of tensors or a (mu, logvar) tuple")


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _as_tensor(a, what: str) -> Tensor:
    import numpy as np

    if isinstance(a, Tensor):
        t = a.detach()
    else:
        arr = np.asarray(a)
        if arr.dtype.kind not in "iuf":
            raise InputError(f"{what} has dtype {arr.dtype}, expected numbers")
        t = torch.from_numpy(arr.copy())
    if t.is_complex() or t.dtype == torch.bool:
        raise InputError(f"{what} has dtype {t.dtype}, expected real numbers")
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def load_posteriors(files: list[str], mu_name: str = "mu", logvar_name: str = "logvar") -> tuple[Tensor, Tensor]:
    """(mu, logvar) from ``FILE.npz``, ``FILE.pt`` or ``MU.npy LOGVAR.npy``; InputError naming the problem."""
    paths = [Path(f) for f in files]
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file")
        if not p.is_file():
            raise InputError(f"{p}: not a file")
    suffixes = [p.suffix.lower() for p in paths]
    names = (mu_name, logvar_name)
    if suffixes == [".npy", ".npy"]:
        if names != ("mu", "logvar"):
            raise InputError("--mu/--logvar name arrays inside a .npz or .pt file; a .npy pair is given in "
                             "order: MU.npy LOGVAR.npy")
        (mu, logvar), what = (_load_npy(paths[0]), _load_npy(paths[1])), (f"{paths[0]}", f"{paths[1]}")
    elif len(paths) == 1 and suffixes[0] == ".npz":
        mu, logvar = _load_npz(paths[0], names)
        what = (f"{paths[0]}: array {mu_name!r}", f"{paths[0]}: array {logvar_name!r}")
    elif len(paths) == 1 and suffixes[0] in (".pt", ".pth"):
        mu, logvar = _load_pt(paths[0], names)
        what = (f"{paths[0]}: mu", f"{paths[0]}: logvar")
    elif suffixes == [".npy"]:
        raise InputError(f"{paths[0]}: a .npy file holds one array; give two, MU.npy LOGVAR.npy")
    else:
        raise InputError(f"cannot read {' '.join(files)}: give FILE.npz, FILE.pt or MU.npy LOGVAR.npy")
    mu, logvar = _as_tensor(mu, what[0]), _as_tensor(logvar, what[1])
    for t, w in ((mu, what[0]), (logvar, what[1])):
        if t.dim() != 2:
            raise InputError(f"{w} has shape {tuple(t.shape)}; expected (N, d): one row per data point")
    if mu.shape != logvar.shape:
        raise InputError(f"{what[0]} has shape {tuple(mu.shape)} but {what[1]} has {tuple(logvar.shape)}")
    if mu.shape[0] < 2 or mu.shape[1] < 1:
        raise InputError(f"{what[0]} has shape {tuple(mu.shape)}; need at least 2 data points and 1 factor")
    for t, w in ((mu, what[0]), (logvar, what[1])):
        bad = ~torch.isfinite(t)
        if bad.any():
            row, col = (int(v) for v in bad.nonzero()[0])
            kind = "NaN" if math.isnan(float(t[row, col])) else "Inf"
            raise InputError(f"{w} contains {kind} (first at row {row}, factor {col})")
    if mu.dtype != logvar.dtype:
        mu, logvar = mu.double(), logvar.double()
    return mu, logvar


def _write(path: str, save) -> None:
    try:
        save(path)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot write it ({_first_line(err)})") from None
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m vaemi_nb.report",
        description="Per-factor report (MI, KL, aggregate variance, active-unit statistic) of saved Gaussian "
                    "posteriors: FILE.npz, FILE.pt (a dict of tensors or a (mu, logvar) tuple) or MU.npy LOGVAR.npy, "
                    "each array (N, d) with logvar = log sigma^2.")
    ap.add_argument("files", nargs="+", metavar="FILE", help="FILE.npz, FILE.pt, or two files MU.npy LOGVAR.npy")
    ap.add_argument("--mu", default="mu", help="name of the means in a .npz or .pt dict (default: mu)")
    ap.add_argument("--logvar", default="logvar", help="name of the log-variances (default: logvar)")
    ap.add_argument("--csv", metavar="OUT", help="write the table to this CSV file")
    ap.add_argument("--plot", metavar="OUT.png", help="write the figure to this image file")
    ap.add_argument("--threshold", type=float, default=0.5, help="MI above which a factor is influential (nats)")
    ap.add_argument("--method", default="auto", choices=("auto", "fast", "mixture", "gaussian"),
                    help="the factor_mi estimator (default: auto)")
    args = ap.parse_args(argv)
    if len(args.files) > 2:
        ap.error("give one file (.npz or .pt) or two (MU.npy LOGVAR.npy)")
    try:
        mu, logvar = load_posteriors(args.files, args.mu, args.logvar)
        report = posterior_report(mu, logvar, threshold=args.threshold, method=args.method)
        print(f"{' '.join(Path(f).name for f in args.files)}: {summary(report)}")
        with pd.option_context("display.max_rows", None, "display.width", 120):
            print(report.to_string(float_format=lambda v: f"{v:.4g}"))
        if args.csv:
            _write(args.csv, report.to_csv)
        if args.plot:
            import matplotlib

            matplotlib.use("Agg")
            fig = plot_report(report, title=f"{Path(args.files[0]).name}: factors by MI (N = {report.attrs['N']:,})")
            _write(args.plot, lambda path: fig.savefig(path, dpi=100))
    except (InputError, ValueError, TypeError, OSError) as err:
        print(f"vaemi_nb.report: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
