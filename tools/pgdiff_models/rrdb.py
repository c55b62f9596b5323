"""PGDiff's restorer: Real-ESRGAN x1 RRDB generator with a 3-channel timestep embedding.

Input: concat(x_t, y, temb) = 9 channels, temb = linear(100->3) o SiLU o linear(3->3) of the sinusoidal
100-d embedding of t, broadcast over H, W. The generator pixel-unshuffles by 4 (9 -> 144 channels),
runs conv_first, the RRDB trunk, conv_body (+ long skip), then two (nearest x2, conv, LeakyReLU 0.2)
stages, conv_hr + LeakyReLU, conv_last. H and W must be multiples of 4.
Parameter names equal the checkpoint's `state_dict` keys (generator.*, time_embed.*).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .unet import timestep_embedding


class ResidualDenseBlock(nn.Module):
    def __init__(self, mid_channels: int = 64, growth_channels: int = 32):
        super().__init__()
        for i in range(5):
            out_ch = mid_channels if i == 4 else growth_channels
            self.add_module(f"conv{i + 1}", nn.Conv2d(mid_channels + i * growth_channels, out_ch, 3, 1, 1))
        self.lrelu = nn.LeakyReLU(negative_slope=0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, mid_channels: int, growth_channels: int = 32):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(mid_channels, growth_channels)
        self.rdb2 = ResidualDenseBlock(mid_channels, growth_channels)
        self.rdb3 = ResidualDenseBlock(mid_channels, growth_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        mid_channels: int = 64,
        num_blocks: int = 23,
        growth_channels: int = 32,
        upscale_factor: int = 1,
    ):
        super().__init__()
        self.unshuffle = 4 // upscale_factor
        self.conv_first = nn.Conv2d(in_channels * self.unshuffle**2, mid_channels, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(mid_channels, growth_channels) for _ in range(num_blocks)])
        self.conv_body = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv_hr = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(mid_channels, out_channels, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # torch's pixel_unshuffle has the same channel order as Real-ESRGAN's view/permute version
        feat = F.pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
        feat = self.conv_first(feat)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2.0, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2.0, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


class Restorer(nn.Module):
    """forward(x_t (N,3,H,W), y (N,3,H,W), t (N,) int64/float) -> (N,3,H,W)."""

    def __init__(
        self,
        in_channels: int = 9,
        out_channels: int = 3,
        mid_channels: int = 64,
        num_blocks: int = 23,
        growth_channels: int = 32,
        upscale_factor: int = 1,
        time_embed_dim: int = 3,
        time_embed_in: int = 100,
    ):
        super().__init__()
        self.time_embed_in = time_embed_in
        self.generator = RRDBNet(in_channels, out_channels, mid_channels, num_blocks, growth_channels, upscale_factor)
        self.time_embed = nn.Sequential(
            nn.Linear(time_embed_in, time_embed_dim), nn.SiLU(), nn.Linear(time_embed_dim, time_embed_dim)
        )

    def forward(self, x_t: torch.Tensor, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.time_embed(timestep_embedding(t, self.time_embed_in))[:, :, None, None]
        temb = temb.expand(-1, -1, x_t.shape[2], x_t.shape[3])
        return self.generator(torch.cat([x_t, y, temb], dim=1))


OFFICIAL_RESTORER = dict(
    in_channels=9, out_channels=3, mid_channels=64, num_blocks=23, growth_channels=32, upscale_factor=1
)


def create_restorer(cfg: dict) -> Restorer:
    """Build from a golden/restorer-small.config.json-style dict (extra keys such as 'params' ignored)."""
    return Restorer(
        in_channels=int(cfg.get("in_channels", 9)),
        out_channels=int(cfg.get("out_channels", 3)),
        mid_channels=int(cfg.get("mid_channels", 64)),
        num_blocks=int(cfg.get("num_blocks", 23)),
        growth_channels=int(cfg.get("growth_channels", 32)),
        upscale_factor=int(cfg.get("upscale_factor", 1)),
        time_embed_dim=int(cfg.get("time_embed_dim", 3)),
        time_embed_in=int(cfg.get("time_embed_in", 100)),
    )
