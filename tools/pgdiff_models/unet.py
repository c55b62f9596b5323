"""guided-diffusion UNet (the prior of PGDiff / DifFace), written from the authors' description.

Computes what the authors' `guided_diffusion/unet.py` computes in fp32 inference:
- GroupNorm(32) evaluated in float32, SiLU activations;
- sinusoidal timestep embedding (dim = model_channels) -> linear -> SiLU -> linear (4 x model_channels);
- ResBlocks with optional scale-shift norm ("FiLM"), zero-free (weights come from checkpoints);
- attention with a fused qkv 1x1 conv and the "legacy" head order (heads split before q/k/v);
- `attention_resolutions` read as FEATURE-MAP SIZES (start at image_size, halve at each downsample).

Parameter names equal the official checkpoint keys (without the `module.` prefix).
No gradient checkpointing, no fp16 path; the attention uses only shape-agnostic reshapes so that
`torch.onnx.export` with dynamic H and W works.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed in float32 (a no-op cast for fp32 inputs)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D401
        return super().forward(x.float()).type(x.dtype)


def normalization(channels: int) -> nn.Module:
    return GroupNorm32(32, channels)


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: int = 10000) -> torch.Tensor:
    """Sinusoidal embedding [cos(t*f), sin(t*f)] with f = exp(-ln(max_period) * i / half)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32) / half
    ).to(device=timesteps.device)
    args = timesteps[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class TimestepBlock(nn.Module):
    """Marker: forward(x, emb)."""


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb) if isinstance(layer, TimestepBlock) else layer(x)
        return x


class Upsample(nn.Module):
    def __init__(self, channels: int, use_conv: bool, out_channels: int | None = None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.use_conv = use_conv
        if use_conv:
            self.conv = nn.Conv2d(channels, self.out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.conv(x) if self.use_conv else x


class Downsample(nn.Module):
    def __init__(self, channels: int, use_conv: bool, out_channels: int | None = None):
        super().__init__()
        self.out_channels = out_channels or channels
        if use_conv:
            self.op: nn.Module = nn.Conv2d(channels, self.out_channels, 3, stride=2, padding=1)
        else:
            assert channels == self.out_channels
            self.op = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class ResBlock(TimestepBlock):
    def __init__(
        self,
        channels: int,
        emb_channels: int,
        dropout: float,
        out_channels: int | None = None,
        use_conv: bool = False,
        use_scale_shift_norm: bool = False,
        up: bool = False,
        down: bool = False,
    ):
        super().__init__()
        self.out_channels = out_channels or channels
        self.use_scale_shift_norm = use_scale_shift_norm
        self.in_layers = nn.Sequential(
            normalization(channels), nn.SiLU(), nn.Conv2d(channels, self.out_channels, 3, padding=1)
        )
        self.updown = up or down
        if up:
            self.h_upd: nn.Module = Upsample(channels, False)
            self.x_upd: nn.Module = Upsample(channels, False)
        elif down:
            self.h_upd = Downsample(channels, False)
            self.x_upd = Downsample(channels, False)
        else:
            self.h_upd = self.x_upd = nn.Identity()
        self.emb_layers = nn.Sequential(
            nn.SiLU(),
            nn.Linear(emb_channels, 2 * self.out_channels if use_scale_shift_norm else self.out_channels),
        )
        self.out_layers = nn.Sequential(
            normalization(self.out_channels),
            nn.SiLU(),
            nn.Dropout(p=dropout),
            nn.Conv2d(self.out_channels, self.out_channels, 3, padding=1),
        )
        if self.out_channels == channels:
            self.skip_connection: nn.Module = nn.Identity()
        elif use_conv:
            self.skip_connection = nn.Conv2d(channels, self.out_channels, 3, padding=1)
        else:
            self.skip_connection = nn.Conv2d(channels, self.out_channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.updown:
            h = self.in_layers[:-1](x)
            h = self.h_upd(h)
            x = self.x_upd(x)
            h = self.in_layers[-1](h)
        else:
            h = self.in_layers(x)
        emb_out = self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        if self.use_scale_shift_norm:
            scale, shift = torch.chunk(emb_out, 2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            h = self.out_layers[1:](h)
        else:
            h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h


class QKVAttentionLegacy(nn.Module):
    """Legacy order: the qkv channels are [head0: q,k,v][head1: q,k,v]..."""

    def __init__(self, n_heads: int):
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv: torch.Tensor) -> torch.Tensor:
        bs, width, _ = qkv.shape
        ch = width // (3 * self.n_heads)
        # -1 keeps the spatial length symbolic in ONNX (dynamic H, W)
        q, k, v = qkv.reshape(bs * self.n_heads, ch * 3, -1).split(ch, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = torch.bmm((q * scale).transpose(1, 2), k * scale)  # (B, T, S)
        weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
        a = torch.bmm(v, weight.transpose(1, 2))  # (B, C, T)
        return a.reshape(bs, self.n_heads * ch, -1)


class QKVAttention(nn.Module):
    """New order: split q, k, v first, then heads."""

    def __init__(self, n_heads: int):
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv: torch.Tensor) -> torch.Tensor:
        bs, width, _ = qkv.shape
        ch = width // (3 * self.n_heads)
        q, k, v = qkv.chunk(3, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        q = (q * scale).reshape(bs * self.n_heads, ch, -1)
        k = (k * scale).reshape(bs * self.n_heads, ch, -1)
        v = v.reshape(bs * self.n_heads, ch, -1)
        weight = torch.softmax(torch.bmm(q.transpose(1, 2), k).float(), dim=-1).type(q.dtype)
        a = torch.bmm(v, weight.transpose(1, 2))
        return a.reshape(bs, self.n_heads * ch, -1)


class AttentionBlock(nn.Module):
    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        num_head_channels: int = -1,
        use_new_attention_order: bool = False,
    ):
        super().__init__()
        if num_head_channels == -1:
            self.num_heads = num_heads
        else:
            assert channels % num_head_channels == 0, (channels, num_head_channels)
            self.num_heads = channels // num_head_channels
        self.norm = normalization(channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.attention: nn.Module = (
            QKVAttention(self.num_heads) if use_new_attention_order else QKVAttentionLegacy(self.num_heads)
        )
        self.proj_out = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[0], x.shape[1]
        xf = x.reshape(b, c, -1)
        h = self.proj_out(self.attention(self.qkv(self.norm(xf))))
        return (xf + h).reshape_as(x)


class UNetModel(nn.Module):
    """guided-diffusion UNetModel (2-D, unconditional).

    forward(x (N,C,H,W) float32, timesteps (N,) int64 or float) -> (N,out_channels,H,W).
    """

    def __init__(
        self,
        image_size: int,
        in_channels: int,
        model_channels: int,
        out_channels: int,
        num_res_blocks: Union[int, Sequence[int]],
        attention_resolutions: Iterable[int],
        dropout: float = 0.0,
        channel_mult: Sequence[int] = (1, 2, 4, 8),
        conv_resample: bool = True,
        num_heads: int = 1,
        num_head_channels: int = -1,
        use_scale_shift_norm: bool = False,
        resblock_updown: bool = False,
        use_new_attention_order: bool = False,
    ):
        super().__init__()
        if isinstance(num_res_blocks, int):
            nrb = [num_res_blocks] * len(channel_mult)
        else:
            nrb = list(num_res_blocks)
            assert len(nrb) == len(channel_mult)
        attn = set(int(a) for a in attention_resolutions)
        self.model_channels = model_channels
        self.image_size = image_size
        ted = model_channels * 4
        self.time_embed = nn.Sequential(nn.Linear(model_channels, ted), nn.SiLU(), nn.Linear(ted, ted))

        def res(ch_in: int, ch_out: int | None = None, **kw: bool) -> ResBlock:
            return ResBlock(ch_in, ted, dropout, out_channels=ch_out, use_scale_shift_norm=use_scale_shift_norm, **kw)

        def att(ch: int, heads: int) -> AttentionBlock:
            return AttentionBlock(ch, heads, num_head_channels, use_new_attention_order)

        ch = input_ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList([TimestepEmbedSequential(nn.Conv2d(in_channels, ch, 3, padding=1))])
        chans = [ch]
        ds = image_size  # feature-map size, as PGDiff's fork reads attention_resolutions
        for level, mult in enumerate(channel_mult):
            for _ in range(nrb[level]):
                layers: list[nn.Module] = [res(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attn:
                    layers.append(att(ch, num_heads))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                chans.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(
                    TimestepEmbedSequential(
                        res(ch, ch, down=True) if resblock_updown else Downsample(ch, conv_resample, ch)
                    )
                )
                chans.append(ch)
                ds //= 2

        self.middle_block = TimestepEmbedSequential(res(ch), att(ch, num_heads), res(ch))

        self.output_blocks = nn.ModuleList([])
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(nrb[level] + 1):
                ich = chans.pop()
                layers = [res(ch + ich, int(model_channels * mult))]
                ch = int(model_channels * mult)
                if ds in attn:
                    # the authors pass no num_heads here (default 1); irrelevant when num_head_channels is set
                    layers.append(att(ch, 1))
                if level and i == nrb[level]:
                    layers.append(res(ch, ch, up=True) if resblock_updown else Upsample(ch, conv_resample, ch))
                    ds *= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))

        self.out = nn.Sequential(normalization(ch), nn.SiLU(), nn.Conv2d(input_ch, out_channels, 3, padding=1))

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels))
        hs = []
        h = x
        for m in self.input_blocks:
            h = m(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for m in self.output_blocks:
            h = m(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)


# Official FFHQ 512 prior (DifFace iddpm_ffhq512_ema500000.pth), see spec section 1.
OFFICIAL_PRIOR_512 = dict(
    image_size=512,
    num_channels=32,
    num_res_blocks=[1, 2, 2, 2, 2, 3, 4],
    channel_mult=[1, 2, 4, 8, 8, 16, 16],
    attention_resolutions=[32, 16, 8],
    num_head_channels=64,
    num_heads=1,
    use_scale_shift_norm=True,
    resblock_updown=False,
    use_new_attention_order=False,
    learn_sigma=True,
    dropout=0.0,
    in_channels=3,
)


def create_unet(cfg: dict) -> UNetModel:
    """Build a UNetModel from a config dict in the golden/*.config.json vocabulary.

    Keys: image_size, num_channels, num_res_blocks (int or list), channel_mult (list),
    attention_resolutions (list of feature-map sizes, or a comma string), num_head_channels,
    num_heads, use_scale_shift_norm, resblock_updown, use_new_attention_order, learn_sigma
    (-> 6 outputs) or out_channels, dropout, in_channels.
    """
    ar = cfg.get("attention_resolutions", [])
    if isinstance(ar, str):
        ar = [int(a) for a in ar.split(",") if a]
    in_ch = int(cfg.get("in_channels", 3))
    out_ch = int(cfg.get("out_channels", 6 if cfg.get("learn_sigma", False) else 3))
    return UNetModel(
        image_size=int(cfg["image_size"]),
        in_channels=in_ch,
        model_channels=int(cfg["num_channels"]),
        out_channels=out_ch,
        num_res_blocks=cfg["num_res_blocks"],
        attention_resolutions=ar,
        dropout=float(cfg.get("dropout", 0.0)),
        channel_mult=tuple(cfg["channel_mult"]),
        num_heads=int(cfg.get("num_heads", 1)),
        num_head_channels=int(cfg.get("num_head_channels", -1)),
        use_scale_shift_norm=bool(cfg.get("use_scale_shift_norm", False)),
        resblock_updown=bool(cfg.get("resblock_updown", False)),
        use_new_attention_order=bool(cfg.get("use_new_attention_order", False)),
    )
