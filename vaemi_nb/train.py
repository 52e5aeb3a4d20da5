"""Training loop, device selection and checkpoints for ``vaemi_nb.models.VAE``."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .mi import encode_dataset, factor_mi
from .models import VAE

CHECKPOINT_FORMAT = "vaemi_nb-checkpoint-1"


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else the first available of cuda, mps, cpu."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _inputs(data) -> Tensor:
    """The input tensor of ``data``: a tensor, a (inputs, labels) tuple, or a TensorDataset."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (tuple, list)) and data and isinstance(data[0], Tensor):
        return data[0]
    if isinstance(data, torch.utils.data.TensorDataset):
        return data.tensors[0]
    raise ValueError(
        "data must be a tensor of inputs, an (inputs, labels) tuple or a TensorDataset, "
        f"got {type(data).__name__}"
    )


def fit(
    model: VAE,
    data,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: str | torch.device | None = None,
    progress: bool = True,
    track_mi: Tensor | int | None = None,
) -> dict[str, list]:
    """Train ``model`` with Adam on ``data`` (inputs shaped like ``model.input_shape``).

    The seed fixes the shuffling and the reparameterisation noise: the same model weights,
    seed and device give an identical history. Returns the per-epoch averages
    ``{"loss": [...], "recon": [...], "kl": [[d values], ...]}``, in nats per example.
    With ``track_mi`` (a tensor of inputs, or an int k for the first k training inputs) the
    history also holds ``"mi"``: each factor's I(x; z_j) in nats at the end of every epoch,
    from ``factor_mi(method="auto")`` on those inputs. The model is left on ``device`` in eval mode.
    """
    x = _inputs(data)
    if x.shape[1:] != torch.Size(model.input_shape):
        raise ValueError(
            f"data has example shape {tuple(x.shape[1:])} but the model expects {model.input_shape}"
        )
    if not torch.isfinite(x).all():
        raise ValueError("data contains NaN or Inf")
    device = pick_device(device)
    torch.manual_seed(seed)
    order_rng = torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list] = {"loss": [], "recon": [], "kl": []}
    probe = x[:track_mi] if isinstance(track_mi, int) else track_mi
    if probe is not None:
        history["mi"] = []
    bar = tqdm(range(epochs), desc="training", disable=not progress)
    for _ in bar:
        sums = torch.zeros(2 + model.latent_dim, dtype=torch.float64, device=device)
        for idx in torch.randperm(len(x), generator=order_rng).split(batch_size):
            xb = x[idx].to(device, non_blocking=True)  # data stays in host memory
            out = model(xb)
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            opt.step()
            stats = torch.cat([out.loss.detach()[None], out.recon.detach()[None], out.kl.detach()])
            sums += stats.double() * len(idx)
        means = (sums / len(x)).tolist()
        history["loss"].append(means[0])
        history["recon"].append(means[1])
        history["kl"].append(means[2:])
        if probe is not None:
            mu, logvar = encode_dataset(model, probe, device=device)
            history["mi"].append(factor_mi(mu, logvar).tolist())
            model.train()
        bar.set_postfix(loss=f"{means[0]:.2f}")
    model.eval()
    return history


def fit_cached(model: VAE, data, *, name: str, **fit_kwargs) -> dict[str, list]:
    """:func:`fit`, or load the result of an identical earlier call from the checkpoint cache.

    The cache key hashes the model's config and initial weights, the data and the fit arguments
    (device excepted), so a cached result is what :func:`fit` would return again on the same
    device type. Checkpoints live in ``<data root>/checkpoints`` (see
    ``vaemi_nb.data.default_root``). Prints whether it trained or loaded.
    """
    from .data import default_root

    x = _inputs(data)
    h = hashlib.sha256()
    h.update(json.dumps([CHECKPOINT_FORMAT, model.config,
                         {k: v for k, v in sorted(fit_kwargs.items()) if k not in ("device", "progress")},
                         str(pick_device(fit_kwargs.get("device")).type)], sort_keys=True,
                        default=str).encode())
    for t in [x, *model.state_dict().values()]:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    path = default_root() / "checkpoints" / f"{name}-{h.hexdigest()[:16]}.pt"
    if path.is_file() and path.with_suffix(".json").is_file():
        trained = load(path, device=fit_kwargs.get("device"))
        model.load_state_dict(trained.state_dict())
        model.to(pick_device(fit_kwargs.get("device"))).eval()
        print(f"loaded the trained model from the checkpoint cache: {path.name}")
        return json.loads(path.with_suffix(".json").read_text())
    history = fit(model, data, **fit_kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written under temporary names, then renamed: a run in parallel never reads half a file
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    save(model, tmp)
    os.replace(tmp, path)
    tmp.write_text(json.dumps(history))
    os.replace(tmp, path.with_suffix(".json"))
    print(f"trained, and cached as {path.name}")
    return history


def save(model: VAE, path: str | Path) -> None:
    """Write the model's config and weights to ``path``."""
    torch.save(
        {"format": CHECKPOINT_FORMAT, "config": model.config,
         "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}},
        Path(path),
    )


def load(path: str | Path, device: str | torch.device | None = "cpu") -> VAE:
    """Rebuild a VAE saved by :func:`save`; raises ValueError naming a corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file
        raise ValueError(
            f"checkpoint {path} is corrupt or not a vaemi_nb checkpoint ({type(err).__name__}); "
            "re-create it with vaemi_nb.train.save"
        ) from err
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint {path} is not a vaemi_nb checkpoint (format tag missing)")
    cfg = dict(ckpt["config"])
    model = VAE(cfg.pop("input_shape"), cfg.pop("latent_dim"), **cfg)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        raise ValueError(f"checkpoint {path} does not match its own config: {err}") from err
    return model.to(pick_device(device)).eval()
