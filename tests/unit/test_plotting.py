"""The shared figures fit the book's column (at most 7 inches) and scale colours to the data."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from vaemi_nb import plotting


def test_correlation_heatmap_scales_to_the_largest_correlation_and_fits_the_column():
    r = np.array([[0.1, -0.3], [0.25, 0.05], [0.0, 0.2]])
    fig = plotting.correlation_heatmap(r, row_labels=["a", "b", "c"], col_labels=["z[0]", "z[1]"])
    im = fig.axes[0].images[0]
    assert im.get_clim() == (-0.3, 0.3)  # symmetric around 0 at the largest |r|
    assert fig.get_figwidth() <= 7
    assert min(t.get_fontsize() for t in fig.axes[0].get_yticklabels()) >= 9
    plt.close(fig)


def test_image_grid_fits_the_column_however_many_columns():
    fig = plotting.image_grid(torch.rand(2, 12, 1, 8, 8), row_labels=["a", "b"], col_labels=[str(i) for i in range(12)])
    assert fig.get_figwidth() <= 7.01
    plt.close(fig)


def test_mi_stem_puts_its_legend_outside_the_axes():
    mi = np.r_[3.5, np.zeros(10)]
    fig = plotting.mi_stem(mi, np.ones(11), threshold=0.5, ci=(mi - 0.1, mi + 0.1))
    assert fig.legends and not fig.axes[0].get_legend()  # a figure legend, not one inside the axes
    assert fig.get_figwidth() <= 7
    plt.close(fig)
