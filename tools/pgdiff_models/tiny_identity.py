"""A tiny ArcFace-shaped embedding net (random weights, tests only) and its explicit VJP.

TinyIdentity: (N,3,112,112) RGB [-1,1] -> 4 x [conv3x3 stride 2 (no bias), BatchNorm2d (eval), PReLU]
-> flatten (16x7x7) -> linear -> BatchNorm1d -> (N,32), the same op family as iresnet's stem/head.

TinyIdentityVJP: (input, cotangent) -> J^T cotangent written as explicit backward ops (transposed
convolutions, BN/PReLU scalings), because torch.onnx cannot export autograd.grad.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = (3, 8, 16, 16, 16)
EMBED_DIM = 32
INPUT_SIZE = 112


class TinyIdentity(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(CHANNELS[i], CHANNELS[i + 1], 3, stride=2, padding=1, bias=False) for i in range(4)]
        )
        self.bns = nn.ModuleList([nn.BatchNorm2d(c, eps=1e-5) for c in CHANNELS[1:]])
        self.prelus = nn.ModuleList([nn.PReLU(c) for c in CHANNELS[1:]])
        side = INPUT_SIZE // 16
        self.fc = nn.Linear(CHANNELS[-1] * side * side, EMBED_DIM)
        self.features = nn.BatchNorm1d(EMBED_DIM, eps=1e-5)

    def randomize(self, seed: int) -> "TinyIdentity":
        """Non-trivial weights and running statistics (so eval-mode BN is not an identity)."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for c in self.convs:
                fan_in = c.weight[0].numel()
                c.weight.copy_(torch.randn(c.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            for bn in list(self.bns) + [self.features]:
                n = bn.num_features
                bn.weight.copy_(1 + 0.3 * torch.randn(n, generator=g))
                bn.bias.copy_(0.2 * torch.randn(n, generator=g))
                bn.running_mean.copy_(0.3 * torch.randn(n, generator=g))
                bn.running_var.copy_(0.5 + torch.rand(n, generator=g))
            for p in self.prelus:
                p.weight.copy_(0.25 + 0.1 * torch.randn(p.weight.shape, generator=g))
            self.fc.weight.copy_(torch.randn(self.fc.weight.shape, generator=g) / self.fc.in_features**0.5)
            self.fc.bias.copy_(0.1 * torch.randn(EMBED_DIM, generator=g))
            # small gain + large constant offset on the embedding: keeps the identity guidance of the
            # 10-step goldens (MSE weight 25, cosine weight 1e4) non-chaotic, so float32 round-off between
            # torch and onnxruntime does not blow up along the sampling chain
            self.features.weight.mul_(0.1)
            self.features.bias.mul_(0.1).add_(3.0 * torch.sign(torch.randn(EMBED_DIM, generator=g)))
        return self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, bn, pr in zip(self.convs, self.bns, self.prelus):
            x = pr(bn(conv(x)))
        return self.features(self.fc(torch.flatten(x, 1)))


def _bn_scale(bn: nn.Module) -> torch.Tensor:
    return bn.weight / torch.sqrt(bn.running_var + bn.eps)  # type: ignore[operator]


class TinyIdentityVJP(nn.Module):
    """grad_input = d(<embedding(input), cotangent>)/d input, for an eval-mode TinyIdentity."""

    def __init__(self, net: TinyIdentity) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, cotangent: torch.Tensor) -> torch.Tensor:
        net = self.net
        pre = []  # PReLU inputs, needed for the PReLU derivative
        h = x
        for conv, bn, pr in zip(net.convs, net.bns, net.prelus):
            z = bn(conv(h))
            pre.append(z)
            h = pr(z)
        # head: BatchNorm1d (eval) is diagonal, linear transposes, flatten reshapes
        g = cotangent * _bn_scale(net.features)
        g = torch.matmul(g, net.fc.weight).reshape(h.shape)
        for i in reversed(range(len(net.convs))):
            w = net.prelus[i].weight[None, :, None, None]
            g = g * torch.where(pre[i] > 0, torch.ones_like(pre[i]), w)
            g = g * _bn_scale(net.bns[i])[None, :, None, None]
            # the input is fixed at 112 (every level even): output_padding 1 restores the size the
            # stride-2 conv rounded down
            g = F.conv_transpose2d(g, net.convs[i].weight, stride=2, padding=1, output_padding=1)
        return g
