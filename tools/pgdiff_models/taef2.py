"""TAEF2, the tiny autoencoder for the FLUX.2 latent space (madebyollin/taesd, MIT), in plain torch.

Layer list and key names as ../shared/models/taef2/README.md gives them (nn.Sequential indices).

    enc, dec = load_taef2()              # eval mode, float32, weights from ../shared/models/taef2
    z = enc(x01)                         # (N,3,H,W) in [0,1] -> (N,32,H/8,W/8), raw latents
    y = dec(z).clamp(0, 1)               # -> (N,3,8h,8w)

The project's image convention is [-1, 1]; `LatentCodec` wraps both with the per-channel normalisation of a
model set (z_norm = (z - mean) / std) and that convention: encode(x_pm1) -> z_norm, decode(z_norm) -> x_pm1.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

TAEF2_DIR = Path(__file__).resolve().parents[3] / "shared" / "models" / "taef2"
LATENT_CHANNELS = 32
DOWNSCALE = 8


def conv(n_in: int, n_out: int, **kw) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    def __init__(self, n: int = 64, use_pool: bool = False):
        super().__init__()
        self.conv = nn.Sequential(conv(n, n), nn.ReLU(), conv(n, n), nn.ReLU(), conv(n, n))
        self.pool = nn.Sequential(nn.Conv2d(n, n * 4, 1, bias=False), nn.GroupNorm(4, n * 4), nn.ReLU(),
                                  nn.Conv2d(n * 4, n, 1, bias=False)) if use_pool else None
        self.fuse = nn.ReLU()

    def forward(self, x):
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + x)


def Encoder(latent_channels: int = LATENT_CHANNELS) -> nn.Sequential:
    return nn.Sequential(
        conv(3, 64), Block(64),
        conv(64, 64, stride=2, bias=False), Block(64), Block(64), Block(64),
        conv(64, 64, stride=2, bias=False), Block(64), Block(64), Block(64),
        conv(64, 64, stride=2, bias=False), Block(64, True), Block(64, True), Block(64, True),
        conv(64, latent_channels),
    )


def Decoder(latent_channels: int = LATENT_CHANNELS) -> nn.Sequential:
    return nn.Sequential(
        Clamp(), conv(latent_channels, 64), nn.ReLU(),
        Block(64, True), Block(64, True), Block(64, True), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64), Block(64), Block(64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64), Block(64), Block(64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64), conv(64, 3),
    )


def load_taef2(directory: Optional[Path] = None) -> tuple[nn.Sequential, nn.Sequential]:
    """Both halves with the shipped weights, strict key loading, eval mode, no grad on parameters."""
    d = Path(directory) if directory else TAEF2_DIR
    enc, dec = Encoder(), Decoder()
    enc.load_state_dict(torch.load(str(d / "taef2_encoder.pth"), map_location="cpu"), strict=True)
    dec.load_state_dict(torch.load(str(d / "taef2_decoder.pth"), map_location="cpu"), strict=True)
    for m in (enc, dec):
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)
    return enc, dec


class LatentCodec(nn.Module):
    """Normalised latents <-> images in [-1, 1] (the engine's conventions)."""

    def __init__(self, enc: nn.Module, dec: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.enc, self.dec = enc, dec
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def encode(self, x_pm1: torch.Tensor) -> torch.Tensor:
        return (self.enc((x_pm1 + 1) / 2) - self.mean) / self.std

    def decode(self, z_norm: torch.Tensor) -> torch.Tensor:
        return self.dec(z_norm * self.std + self.mean).clamp(0, 1) * 2 - 1


class NormalisedDecoder(nn.Module):
    """The graph the engine runs as `decoder`: normalised latent -> image in [-1, 1] (clamped)."""

    def __init__(self, dec: nn.Module, mean: Sequence[float], std: Sequence[float], clamp: bool = True):
        super().__init__()
        self.dec = dec
        self.clamp = clamp
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, z):
        y = self.dec(z * self.std + self.mean) * 2 - 1
        return y.clamp(-1, 1) if self.clamp else y


class NormalisedEncoder(nn.Module):
    """The graph the engine runs as `encoder`: image in [-1, 1] -> normalised latent."""

    def __init__(self, enc: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.enc = enc
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (self.enc((x + 1) / 2) - self.mean) / self.std
