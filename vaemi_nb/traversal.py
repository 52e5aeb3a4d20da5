"""Latent traversals: decode while one factor sweeps a range, as a grid or a live widget."""
from __future__ import annotations

import torch
from torch import Tensor


@torch.no_grad()
def traverse(model, z0: Tensor, factors, values) -> Tensor:
    """Decoded images (F, V, *input_shape): factor factors[i] set to values[v], others at z0 (d,)."""
    values = torch.as_tensor(values, dtype=z0.dtype)
    rows = []
    for j in factors:
        z = z0.expand(len(values), -1).clone()
        z[:, j] = values.to(z.device)
        rows.append(model.decode(z).cpu())
    return torch.stack(rows)


@torch.no_grad()
def samples_varying(model, factors, d: int, n: int = 16, *, generator: torch.Generator | None = None) -> Tensor:
    """Decoded samples (n, *input_shape) whose codes are N(0, 1) on ``factors`` and 0 on the others
    of the d factors: what those factors alone can change."""
    z = torch.zeros(n, d)
    z[:, factors] = torch.randn(n, len(factors), generator=generator)
    return model.decode(z).cpu()


def image_change(images: Tensor) -> Tensor:
    """Mean absolute pixel change across each traversal row of (F, V, ...) images; shape (F,)."""
    return (images - images[:, :1]).abs().flatten(2).mean(2).max(1).values


def traversal_widget(model, z0: Tensor, factors, *, lo: float = -3.0, hi: float = 3.0):
    """ipywidgets sliders, one per factor, with the decoded image updating live.

    Returns the widget box; needs a live kernel (in a static page show a traversal grid instead).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    out = widgets.Output()
    sliders = {j: widgets.FloatSlider(value=float(z0[j]), min=lo, max=hi, step=0.1,
                                      description=f"z[{j}]", continuous_update=True)
               for j in factors}

    def redraw(_=None):
        z = z0.clone()
        for j, s in sliders.items():
            z[j] = s.value
        with torch.no_grad():
            img = model.decode(z[None])[0].cpu()
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(2.5, 2.5))
            ax.imshow(_to_hwc(img), cmap="gray" if img.shape[0] == 1 else None, vmin=0, vmax=1)
            ax.axis("off")
            plt.show()

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    return widgets.HBox([widgets.VBox(list(sliders.values())), out])


def _to_hwc(img: Tensor):
    img = img.clamp(0, 1)
    return img[0].numpy() if img.shape[0] == 1 else img.permute(1, 2, 0).numpy()
