"""Figures shared by the chapters (matplotlib; MI always in nats)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def mi_stem(mi, variance=None, *, threshold: float | None = None, title: str = "", ci=None):
    """Stem plot of each factor's MI (nats), with the aggregate variance beneath if given.

    ``ci``: optional (lower, upper) per factor, drawn as error bars (e.g. ``mi.bootstrap_ci``).
    """
    rows = 2 if variance is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(6.8, 2.6 * rows + 0.4), sharex=True, squeeze=False,
                             layout="constrained")
    ax = axes[0, 0]
    ax.stem(np.arange(len(_np(mi))), _np(mi), basefmt=" ")
    if ci is not None:
        m, lo, hi = _np(mi), _np(ci[0]), _np(ci[1])
        ax.errorbar(np.arange(len(m)), m, yerr=[np.clip(m - lo, 0, None), np.clip(hi - m, 0, None)],
                    fmt="none", ecolor="k", elinewidth=1, capsize=2, label="95% bootstrap interval")
    if threshold is not None:
        ax.axhline(threshold, color="C3", ls="--", lw=1, label=f"threshold {threshold} nats")
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside lower center", ncol=2)  # below the axes: it hides no factor
    ax.set_ylabel("I(x; z_j) [nats]")
    ax.set_title(title)
    if variance is not None:
        axes[1, 0].stem(np.arange(len(_np(variance))), _np(variance), basefmt=" ")
        axes[1, 0].set_ylabel("Var q(z_j)")
    axes[-1, 0].set_xlabel("factor j")
    return fig


def estimate_vs_truth(truth, estimates: dict, *, title: str = ""):
    """Scatter of estimated against true MI (nats) for several estimators, with the diagonal."""
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    t = _np(truth)
    lim = [0, max(t.max(), max(_np(e).max() for e in estimates.values())) * 1.05]
    ax.plot(lim, lim, color="0.6", lw=1, label="estimate = truth")
    for i, (name, est) in enumerate(estimates.items()):
        ax.plot(t, _np(est), "oxs^"[i % 4], color=f"C{i}", label=name, mfc="none" if i == 0 else None, ms=7)
    ax.set_xlabel("true I(x; z_j) [nats]")
    ax.set_ylabel("estimated I(x; z_j) [nats]")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def loglog_axes(ax, xs) -> None:
    """Label a log-log axis at the given x values only (no crowded minor tick labels)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{x:,}" for x in xs])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())


def image_grid(images, *, row_labels=None, col_labels=None, title: str = "", size: float = 0.9):
    """Grid of images (R, C, channels, H, W) in [0, 1], with optional row and column labels (9 pt).

    ``size``: inches per image, reduced where needed so the grid fits the book's column (6.8 inches
    with the labels).
    """
    imgs = _np(images).clip(0, 1)
    r, c = imgs.shape[:2]
    margin = 1.3 if row_labels else 0.2  # inches for the row labels
    size = min(size, (6.8 - margin) / c)
    fig, axes = plt.subplots(r, c, figsize=(size * c + margin, size * r + 0.7), squeeze=False)
    for i in range(r):
        for j in range(c):
            im = imgs[i, j]
            ax = axes[i, j]
            if im.shape[0] == 1:
                ax.imshow(im[0], cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(im.transpose(1, 2, 0))
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=9)
            if i == 0 and col_labels is not None:
                ax.set_title(col_labels[j], fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def varied_samples(varied_influential, varied_others):
    """Two rows of eight samples each (16 per group, from ``traversal.samples_varying``): the
    influential factors varied (top), then only the other factors (bottom)."""
    a, b = varied_influential, varied_others
    return image_grid(torch.stack([a[:8], a[8:16], b[:8], b[8:16]]),
                      row_labels=["influential\nvaried", "", "non-influential\nvaried", ""],
                      title="Samples varying only the influential (top) or only the other factors (bottom)")


def correlation_heatmap(r, *, row_labels, col_labels, title: str = "", vmax: float | None = None,
                        width: float = 6.8, xlabel: str = "", ylabel: str = ""):
    """Heatmap of correlations (rows x columns) on a diverging scale symmetric around 0, from
    -vmax to vmax (default: the largest |r| shown, so the colours use the data's range), sized for
    the book's column (about 7 inches): ``width`` inches, every label at least 9 pt."""
    r = _np(r)
    vmax = float(np.nanmax(np.abs(r))) if vmax is None else vmax
    height = 0.28 * len(row_labels) + 0.1 * max(len(str(c)) for c in col_labels) + 1.2
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    im = ax.imshow(r, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=90, fontsize=9)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, label="correlation r", fraction=0.05, pad=0.02)
    ax.set_title(title)
    return fig


def band_topomaps(values, info, bands, *, title: str = "", unit: str = "", rows=None):
    """Scalp maps on MNE ``info``'s montage, one column per band: ``values`` (n_channels,
    n_bands) for one row, or (k, n_channels, n_bands) for k rows labelled by ``rows`` (e.g.
    factors); all on one symmetric colour scale, the colour bar to the right of the maps.
    Sized for a ~700-px column (about 7.5 inches wide, text of 9 pt or more)."""
    import mne

    v = _np(values)
    v = v[None] if v.ndim == 2 else v
    k, n_bands = v.shape[0], len(bands)
    lim = float(np.abs(v).max()) or 1.0
    size = min(1.25, 6.2 / n_bands)
    fig, axes = plt.subplots(k, n_bands, figsize=(size * n_bands + 1.3, size * k + 0.7), squeeze=False)
    for i in range(k):
        for b, name in enumerate(bands):
            ax = axes[i, b]
            im, _ = mne.viz.plot_topomap(v[i, :, b], info, axes=ax, show=False, vlim=(-lim, lim), cmap="RdBu_r",
                                         sensors=True, contours=4)
            if i == 0:
                ax.set_title(name, fontsize=10)
        if rows is not None:
            axes[i, 0].text(-0.12, 0.5, str(rows[i]), transform=axes[i, 0].transAxes, rotation=90, ha="right",
                            va="center", fontsize=9)
    cbar = fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.03, pad=0.03)
    cbar.set_label(unit, fontsize=9)
    cbar.ax.tick_params(labelsize=9)
    fig.suptitle(title, fontsize=10, y=1 + 0.12 / (size * k + 0.7))
    return fig


def mi_against_mean_var(reports: dict, *, threshold: float = 0.5, active: float = 0.01, title: str = ""):
    """Each factor's MI (nats) against its active-unit statistic Var_x mu_j(x), one panel per report
    (``vaemi_nb.report.factor_report`` tables), coloured by the mean posterior variance E_x sigma_j^2.

    Grey curves: the MI of a Gaussian factor, 1/2 log(1 + Var mu / sigma^2), for sigma^2 = 1 and 0.01;
    dotted lines: the MI threshold and the active-unit threshold.
    """
    from matplotlib.colors import LogNorm

    from .report import posterior_variance

    fig, axes = plt.subplots(1, len(reports), figsize=(3.2 * len(reports) + 0.8, 3.4), sharey=True, squeeze=False,
                             layout="constrained")
    norm = LogNorm(1e-3, 1.0)
    v = np.logspace(-3, 1, 200)
    for ax, (name, df) in zip(axes[0], reports.items()):
        for s2, ls in ((1.0, "-"), (0.01, "--")):
            ax.plot(v, 0.5 * np.log1p(v / s2), color="0.6", lw=1, ls=ls, label=f"Gaussian, σ² = {s2:g}")
        sc = ax.scatter(df["mean_var"].clip(lower=1e-3), df["mi"], c=posterior_variance(df).clip(1e-3, 1.0),
                        cmap="viridis", norm=norm, s=18, edgecolors="k", linewidths=0.3, zorder=3)
        ax.axhline(threshold, color="C3", ls=":", lw=1)
        ax.axvline(active, color="C2", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlim(1e-3, 10)
        ax.set_xlabel("Var$_x$ μ$_j$ (active-unit statistic)")
        ax.set_title(name, fontsize=9)
    axes[0, 0].set_ylabel("I(x; z$_j$) [nats]")
    axes[0, 0].legend(fontsize=7, loc="upper left", frameon=False)
    fig.colorbar(sc, ax=list(axes[0]), label="E$_x$ σ$_j^2$", fraction=0.05)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
