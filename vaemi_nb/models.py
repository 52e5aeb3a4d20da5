"""β-VAE with a factorised Gaussian encoder, for flat vectors (MLP) and images (conv).

The conv architecture follows the authors' MNIST code: two 4x4 stride-2 conv layers of 32
channels -> dense 256 -> 2 x latent_dim, and a mirrored decoder. For 64x64x3 images four
stride-2 layers (32, 32, 64, 64 channels) bring the image to 4x4 (our choice; the paper's
CelebA architecture is not available).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHS = ("mlp", "conv")


class VAEOutput(NamedTuple):
    """Per-batch averages, in nats per example."""

    loss: Tensor  # scalar: recon + beta * kl.sum()
    recon: Tensor  # scalar: E_q[-log p(x|z)]
    kl: Tensor  # (d,): KL(q(z_j|x) || N(0, 1)) for each factor


def _conv_channels(size: int) -> tuple[int, ...]:
    if size == 28:
        return (32, 32)
    if size == 64:
        return (32, 32, 64, 64)
    raise ValueError(f"conv VAE supports 28x28 and 64x64 images, got {size}x{size}")


class VAE(nn.Module):
    """Gaussian-encoder VAE.

    Args:
        input_shape: (D,) for the MLP, (C, H, W) with H = W in {28, 64} for the conv net.
        latent_dim: number of latent factors d.
        arch: "mlp" or "conv".
        likelihood: "bernoulli" (inputs in [0, 1]) or "gaussian" (one learnable scalar sigma,
            initialised to 1, as in the authors' code).
        beta: weight of the KL term.
        hidden: widths of the MLP's hidden layers (mlp), or of the dense layer (conv: one value).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...] = (1, 28, 28),
        latent_dim: int = 10,
        *,
        arch: str = "conv",
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        hidden: tuple[int, ...] = (256,),
    ) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
        input_shape, hidden = tuple(int(s) for s in input_shape), tuple(int(h) for h in hidden)
        self.config = dict(
            input_shape=input_shape, latent_dim=int(latent_dim), arch=arch,
            likelihood=likelihood, beta=float(beta), hidden=hidden,
        )
        self.input_shape, self.latent_dim = input_shape, int(latent_dim)
        self.likelihood, self.beta = likelihood, float(beta)
        if arch == "mlp":
            if len(input_shape) != 1:
                raise ValueError(f"mlp expects input_shape (D,), got {input_shape}")
            self.encoder, self.decoder = _mlp(input_shape[0], hidden, latent_dim)
        else:
            if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
                raise ValueError(f"conv expects input_shape (C, H, H), got {input_shape}")
            self.encoder, self.decoder = _convnet(input_shape, hidden[0], latent_dim)
        if likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.zeros(()))

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior parameters (mu, logvar), each (N, d). Integer inputs (e.g. binary images kept as
        uint8, 4x smaller than float32) are cast to float first."""
        mu, logvar = self.encoder(_as_float(x)).chunk(2, dim=-1)
        return mu, logvar

    def decoder_output(self, z: Tensor) -> Tensor:
        """Logits (bernoulli) or mean (gaussian), shaped like the input."""
        return self.decoder(z).view(z.shape[0], *self.input_shape)

    def decode(self, z: Tensor) -> Tensor:
        """Mean of p(x|z), shaped like the input."""
        out = self.decoder_output(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def neg_log_lik(self, x: Tensor, out: Tensor) -> Tensor:
        """-log p(x|z) per example, nats; shape (N,)."""
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            nll = 0.5 * ((x - out) * torch.exp(-self.log_sigma)).pow(2) + self.log_sigma + 0.5 * math.log(2 * math.pi)
        return nll.flatten(1).sum(1)

    def forward(self, x: Tensor) -> VAEOutput:
        x = _as_float(x)
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        recon = self.neg_log_lik(x, self.decoder_output(z)).mean()
        kl = (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).mean(0)
        return VAEOutput(recon + self.beta * kl.sum(), recon, kl)


def _as_float(x: Tensor) -> Tensor:
    return x if x.is_floating_point() else x.float()


def _mlp(dim: int, hidden: tuple[int, ...], latent: int) -> tuple[nn.Module, nn.Module]:
    def stack(sizes: list[int]) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    return stack([dim, *hidden, 2 * latent]), stack([latent, *reversed(hidden), dim])


def _convnet(shape: tuple[int, int, int], dense: int, latent: int) -> tuple[nn.Module, nn.Module]:
    c_in, size, _ = shape
    chans = _conv_channels(size)
    enc: list[nn.Module] = []
    prev = c_in
    for c in chans:
        enc += [nn.Conv2d(prev, c, 4, stride=2, padding=1), nn.ReLU()]
        prev = c
    side = size // 2 ** len(chans)
    flat = chans[-1] * side * side
    enc += [nn.Flatten(), nn.Linear(flat, dense), nn.ReLU(), nn.Linear(dense, 2 * latent)]
    dec: list[nn.Module] = [
        nn.Linear(latent, dense), nn.ReLU(), nn.Linear(dense, flat), nn.ReLU(),
        nn.Unflatten(1, (chans[-1], side, side)),
    ]
    outs = list(reversed(chans))[1:] + [c_in]
    for i, c in enumerate(outs):
        dec.append(nn.ConvTranspose2d(prev, c, 4, stride=2, padding=1))
        if i < len(outs) - 1:
            dec.append(nn.ReLU())
        prev = c
    return nn.Sequential(*enc), nn.Sequential(*dec)
