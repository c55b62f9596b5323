"""Minimal guided-diffusion Gaussian diffusion for training and sampling the bundled prior.

Linear schedule (beta 1e-4*(1000/T) .. 0.02*(1000/T), float64) or Stable Diffusion's "scaled linear" one
(sqrt(beta) linear from sqrt(0.00085) to sqrt(0.012), for latent priors), epsilon prediction, fixed-large variance
(posterior variance at step 1, then betas), respacing "N evenly spaced steps" as in spec section 1.
"""
from __future__ import annotations

import numpy as np
import torch


def linear_betas(T: int = 1000) -> np.ndarray:
    scale = 1000 / T
    return np.linspace(scale * 1e-4, scale * 0.02, T, dtype=np.float64)


def scaled_linear_betas(T: int = 1000) -> np.ndarray:
    scale = 1000 / T
    return np.linspace(np.sqrt(scale * 0.00085), np.sqrt(scale * 0.012), T, dtype=np.float64) ** 2


def betas_for(schedule: str, T: int = 1000) -> np.ndarray:
    if schedule == 'linear':
        return linear_betas(T)
    if schedule == 'scaled-linear':
        return scaled_linear_betas(T)
    raise ValueError(f'unknown schedule {schedule}')


class Diffusion:
    def __init__(self, T: int = 1000, schedule: str = 'linear'):
        self.T = T
        self.schedule = schedule
        b = betas_for(schedule, T)
        self.betas = b
        self.abar = np.cumprod(1 - b)
        self.sqrt_abar = torch.tensor(np.sqrt(self.abar), dtype=torch.float32)
        self.sqrt_1m_abar = torch.tensor(np.sqrt(1 - self.abar), dtype=torch.float32)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.sqrt_abar[t][:, None, None, None] * x0 + self.sqrt_1m_abar[t][:, None, None, None] * noise

    def respaced(self, n: int):
        """Kept original indices (ascending) and their betas/coefficients for n evenly spaced steps."""
        if n >= self.T:
            keep = list(range(self.T))
        else:
            frac = (self.T - 1) / (n - 1) if n > 1 else 0
            keep = sorted(set(int(round(i * frac)) for i in range(n)))
        abar = self.abar[keep]
        prev = np.concatenate([[1.0], abar[:-1]])
        betas = 1 - abar / prev
        return keep, abar, prev, betas

    @torch.no_grad()
    def sample(self, model, shape, steps: int = 100, generator=None, x_T=None):
        keep, abar, prev, betas = self.respaced(steps)
        post_var = betas * (1 - prev) / (1 - abar)
        # fixed-large: posterior variance at the first step, then betas
        var_large = np.concatenate([[post_var[1] if len(post_var) > 1 else betas[0]], betas[1:]])
        c1 = betas * np.sqrt(prev) / (1 - abar)
        c2 = (1 - prev) * np.sqrt(1 - betas) / (1 - abar)
        x = torch.randn(shape, generator=generator) if x_T is None else x_T
        for i in reversed(range(len(keep))):
            t = torch.full((shape[0],), keep[i], dtype=torch.long)
            eps = model(x, t)[:, :3]
            x0 = (np.sqrt(1 / abar[i]) * x - np.sqrt(1 / abar[i] - 1) * eps).clamp(-1, 1)
            mean = c1[i] * x0 + c2[i] * x
            if i > 0:
                x = mean + float(np.sqrt(var_large[i])) * torch.randn(shape, generator=generator)
            else:
                x = mean
        return x
