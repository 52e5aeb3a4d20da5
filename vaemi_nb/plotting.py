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


def band_topomaps(values, info, bands, *, title: str = "", unit: str = ""):
    """One scalp map per band: ``values`` (n_channels, n_bands) on MNE ``info``'s montage,
    all on one symmetric colour scale."""
    import mne

    v = _np(values)
    lim = float(np.abs(v).max()) or 1.0
    fig, axes = plt.subplots(1, len(bands), figsize=(2.3 * len(bands) + 0.8, 2.6))
    for b, (ax, name) in enumerate(zip(np.atleast_1d(axes), bands)):
        im, _ = mne.viz.plot_topomap(v[:, b], info, axes=ax, show=False, vlim=(-lim, lim), cmap="RdBu_r",
                                     names=info.ch_names, sensors=True)
        for t in ax.texts:
            t.set_fontsize(5)
        ax.set_title(name)
    fig.colorbar(im, ax=list(np.atleast_1d(axes)), fraction=0.02, label=unit)
    fig.suptitle(title, y=1.04)
    return fig
