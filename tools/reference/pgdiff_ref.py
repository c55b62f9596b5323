"""PGDiff sampling loop, re-implemented in torch from the authors' code (read, not copied).

Follows guided_diffusion/{gaussian_diffusion.py, respace.py} and inference_pgdiff.py of pq-yang/PGDiff:
- schedules (float64 numpy), respacing ('ddpmN' strides and section counts), SpacedDiffusion betas
  recomputed from the kept alpha-bars; the prior, the restorer and the guidance all receive the
  ORIGINAL timestep index;
- per-step coefficients are taken from the float64 tables and cast to float32 (the authors'
  `_extract_into_tensor(...).float()`), then all tensor math is float32;
- learned-range / fixed-large / fixed-small variances, epsilon prediction, x0 clipped to [-1, 1];
- p_sample with the mean shift (restoration, ref_restoration) or the dynamic weight (others),
  N repeats inside the (s_end, s_start) window, restorer target computed once per timestep;
- ddim_sample (eta) with score guidance.
Deviations from the authors' code (see README.md): window on the original index; DDIM guidance
eps' = eps + sqrt(1-abar) * s * g; a dynamic-weight coefficient is 0 where ||g|| = 0.

Noise: every random tensor comes from a NoiseSource, in this order: x_T, then one (1,3,H,W) tensor per
p_sample/ddim_sample call (each of the N repeats included; the t=0 one is drawn and multiplied by 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

T_DEFAULT = 1000
STYLE_0 = ((0.03202754, -0.16308397, -0.26475719), (0.53549316, 0.47539538, 0.46814889))
TASKS = ("none", "restoration", "ref_restoration", "colorization", "inpainting", "old_photo_restoration")


# ----------------------------------------------------------------------------- schedules
def beta_schedule(name: str, steps: int = T_DEFAULT) -> np.ndarray:
    if name == "linear":
        scale = 1000 / steps
        return np.linspace(scale * 0.0001, scale * 0.02, steps, dtype=np.float64)
    if name == "scaled-linear":
        # Stable Diffusion's latent schedule: sqrt(beta) linear; keeps a little signal at T (alpha_bar_T ~ 0.0047)
        scale = 1000 / steps
        return np.linspace(math.sqrt(scale * 0.00085), math.sqrt(scale * 0.012), steps, dtype=np.float64) ** 2
    if name == "cosine":
        f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
        return np.array([min(1 - f((i + 1) / steps) / f(i / steps), 0.999) for i in range(steps)], dtype=np.float64)
    raise ValueError(f"unknown schedule {name}")


def space_timesteps(num_timesteps: int, section_counts: str | list[int]) -> list[int]:
    """Kept original timesteps, sorted ascending (the authors return a set)."""
    if isinstance(section_counts, str):
        if section_counts.startswith("ddpm"):
            want = int(section_counts[len("ddpm"):])
            for i in range(1, num_timesteps):
                if len(range(0, num_timesteps, i)) == want:
                    return list(range(0, num_timesteps, i))
            raise ValueError(f"cannot create exactly {want} steps with an integer stride")
        section_counts = [int(x) for x in section_counts.split(",")]
    size_per = num_timesteps // len(section_counts)
    extra = num_timesteps % len(section_counts)
    start, steps = 0, []
    for i, count in enumerate(section_counts):
        size = size_per + (1 if i < extra else 0)
        if size < count:
            raise ValueError(f"cannot divide section of {size} steps into {count}")
        stride = 1 if count <= 1 else (size - 1) / (count - 1)
        cur = 0.0
        for _ in range(count):
            steps.append(start + round(cur))
            cur += stride
        start += size
    return sorted(set(steps))


class Diffusion:
    """Respaced diffusion tables (float64), indexed by the respaced step i (0 = last)."""

    def __init__(self, schedule: str = "linear", respacing: str = "", steps: int = T_DEFAULT, variance: str = "learned-range"):
        base = beta_schedule(schedule, steps)
        base_ac = np.cumprod(1.0 - base)
        kept = space_timesteps(steps, respacing) if respacing else list(range(steps))
        last, betas = 1.0, []
        for i, ac in enumerate(base_ac):
            if i in set(kept):
                betas.append(1 - ac / last)
                last = ac
        self.timestep_map = kept
        self.variance = variance
        b = np.array(betas, dtype=np.float64)
        self.betas = b
        self.num_timesteps = len(b)
        self.alphas_cumprod = np.cumprod(1.0 - b)
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])
        self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / self.alphas_cumprod)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / self.alphas_cumprod - 1)
        self.posterior_variance = b * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        self.posterior_log_variance_clipped = np.log(np.append(self.posterior_variance[1], self.posterior_variance[1:]))
        self.posterior_mean_coef1 = b * np.sqrt(self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        self.posterior_mean_coef2 = (1.0 - self.alphas_cumprod_prev) * np.sqrt(1.0 - b) / (1.0 - self.alphas_cumprod)
        self.log_betas = np.log(b)
        fl = np.append(self.posterior_variance[1], b[1:])
        self.fixed_large_variance, self.fixed_large_log_variance = fl, np.log(fl)

    @staticmethod
    def at(arr: np.ndarray, i: int) -> torch.Tensor:
        # the authors' _extract_into_tensor: index the float64 table, then .float()
        return torch.tensor(arr[i], dtype=torch.float64).float()

    def p_mean_variance(self, model_out: torch.Tensor, x: torch.Tensor, i: int, clip: bool = True) -> dict:
        C = x.shape[1]
        if self.variance == "learned-range":
            eps, v = torch.split(model_out, C, dim=1)
            min_log = self.at(self.posterior_log_variance_clipped, i)
            max_log = self.at(self.log_betas, i)
            frac = (v + 1) / 2
            log_var = frac * max_log + (1 - frac) * min_log
            var = torch.exp(log_var)
        else:
            eps = model_out[:, :C]
            if self.variance == "fixed-large":
                var_t, log_t = self.fixed_large_variance, self.fixed_large_log_variance
            elif self.variance == "fixed-small":
                var_t, log_t = self.posterior_variance, self.posterior_log_variance_clipped
            else:
                raise ValueError(self.variance)
            var = self.at(var_t, i) * torch.ones_like(x)
            log_var = self.at(log_t, i) * torch.ones_like(x)
        x0 = self.at(self.sqrt_recip_alphas_cumprod, i) * x - self.at(self.sqrt_recipm1_alphas_cumprod, i) * eps
        if clip:  # pixels; latents are not clipped (the decoder soft-clamps its input)
            x0 = x0.clamp(-1, 1)
        mean = self.at(self.posterior_mean_coef1, i) * x0 + self.at(self.posterior_mean_coef2, i) * x
        return {"mean": mean, "variance": var, "log_variance": log_var, "pred_xstart": x0, "eps_model": eps}


# ----------------------------------------------------------------------------- guidance
def avg_grayscale(img: torch.Tensor) -> torch.Tensor:
    return torch.mean(img, [1], keepdim=True).expand(-1, 3, -1, -1)


def adain(x: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor) -> torch.Tensor:
    n, c = x.shape[:2]
    var = x.reshape(n, c, -1).var(dim=2) + 1e-5  # unbiased, as calc_mean_std
    std = var.sqrt().reshape(n, c, 1, 1)
    mean = x.reshape(n, c, -1).mean(dim=2).reshape(n, c, 1, 1)
    return (x - mean) / std * style_std.reshape(1, 3, 1, 1) + style_mean.reshape(1, 3, 1, 1)


def style_from_images(images: list[torch.Tensor]) -> tuple[list[float], list[float]]:
    """Average of per-channel means and (unbiased) stds of (1,3,H,W) images in [-1,1]."""
    means = torch.stack([im[0].reshape(3, -1).mean(dim=1) for im in images]).mean(dim=0)
    stds = torch.stack([im[0].reshape(3, -1).std(dim=1) for im in images]).mean(dim=0)
    return [float(v) for v in means], [float(v) for v in stds]


@dataclass
class GuidanceConfig:
    task: str = "restoration"
    scale: float = 0.1
    lightness_weight: float = 1.0
    color_weight: float = 0.05
    unmasked_weight: float = 1.0
    ss_weight: float = 1.0
    ref_weight: float = 25.0
    op_lightness_weight: float = 1.0
    op_color_weight: float = 0.5
    identity_loss: str = "mse"  # or "cosine" (then ref_weight is usually 1e4)
    style_mean: tuple = STYLE_0[0]
    style_std: tuple = STYLE_0[1]
    # 'through': the authors' code (AdaIN target computed from x0 without detach, the gradient flows
    # through AdaIN and its clamp); 'stop': the spec's stop-gradient reading
    adain_grad: str = "through"


@dataclass
class Models:
    prior: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    restorer: Optional[Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = None
    identity: Optional[Callable[[torch.Tensor], torch.Tensor]] = None


def _color_loss(x0: torch.Tensor, g: GuidanceConfig, weight: float) -> torch.Tensor:
    sm = torch.tensor(g.style_mean, dtype=torch.float32)
    ss = torch.tensor(g.style_std, dtype=torch.float32)
    target = adain(x0, sm, ss).clamp(-1, 1)
    if g.adain_grad == "stop":
        target = target.detach()
    return F.mse_loss(x0, target, reduction="sum") * weight


def task_loss(
    x0: torch.Tensor, x_restorer: torch.Tensor, t_orig: torch.Tensor, y: torch.Tensor, target: Optional[torch.Tensor],
    ref: Optional[torch.Tensor], mask: torch.Tensor, g: GuidanceConfig, models: Models,
) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """The task's loss on x0 (a tensor that requires grad) and the restorer target (computed from x_restorer)."""
    task = g.task
    total = torch.zeros(())
    if task == "colorization":
        total = total + F.mse_loss(avg_grayscale(y), avg_grayscale(x0), reduction="sum") * g.lightness_weight
        total = total + _color_loss(x0, g, g.color_weight)
    if task == "inpainting":
        keep = mask == 0
        total = total + F.mse_loss(y[keep], x0[keep], reduction="sum") * g.unmasked_weight
    fake = None
    if "restoration" in task:
        if target is None:
            assert models.restorer is not None, "task needs a restorer"
            fake = models.restorer(x_restorer, y, t_orig).clamp(-1, 1).detach()
        else:
            fake = target.detach()
        total = total + F.mse_loss(fake, x0, reduction="sum") * g.ss_weight
    if task == "ref_restoration":
        assert models.identity is not None and ref is not None
        e_x0 = models.identity(F.interpolate(x0, (112, 112), mode="bilinear", antialias=True))
        e_ref = models.identity(F.interpolate(ref, (112, 112), mode="bilinear", antialias=True))
        if g.identity_loss == "mse":
            total = total + F.mse_loss(e_x0, e_ref, reduction="sum") * g.ref_weight
        elif g.identity_loss == "cosine":
            total = total + (-F.cosine_similarity(e_x0, e_ref, dim=1, eps=1e-6) * g.ref_weight).sum()
        else:
            raise ValueError(g.identity_loss)
    if task == "old_photo_restoration":
        # the authors REPLACE the loss: lightness toward the restorer output outside the mask + colour
        assert fake is not None
        keep = mask == 0
        total = F.mse_loss(avg_grayscale(fake)[keep], avg_grayscale(x0)[keep], reduction="sum") * g.op_lightness_weight
        total = total + _color_loss(x0, g, g.op_color_weight)
    return total, fake


def partial_guidance(
    x: torch.Tensor, t_orig: torch.Tensor, y: torch.Tensor, pred_xstart: torch.Tensor, target: Optional[torch.Tensor],
    ref: Optional[torch.Tensor], mask: torch.Tensor, g: GuidanceConfig, models: Models,
) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Returns (gradient dL/dx0 with the mask zeroing applied, restorer target or None)."""
    if g.task == "none":
        return torch.zeros_like(pred_xstart), None
    with torch.enable_grad():
        x0 = pred_xstart.detach().requires_grad_(True)
        total, fake = task_loss(x0, x, t_orig, y, target, ref, mask, g, models)
        grad = torch.autograd.grad(total, x0)[0]
    if g.task in ("inpainting", "old_photo_restoration"):
        grad = grad.clone()
        grad[mask > 0] = 0
    return grad.detach(), (fake.detach() if fake is not None else None)


@dataclass
class LatentModels:
    """A latent set: the decoder maps RAW latents to [-1,1] pixels (unclamped); the prior samples
    normalised latents z = (z_raw - mean) / std."""
    decoder: Callable[[torch.Tensor], torch.Tensor]
    mean: torch.Tensor  # (1,C,1,1)
    std: torch.Tensor  # (1,C,1,1)


def latent_guidance(
    t_orig: torch.Tensor, y: torch.Tensor, z0: torch.Tensor, target: Optional[torch.Tensor],
    ref: Optional[torch.Tensor], mask: torch.Tensor, g: GuidanceConfig, models: Models, lm: LatentModels,
) -> tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor]:
    """(dL/dz0 for the normalised latent z0_hat, restorer target, decoded clamped x0_hat).

    x0_hat = clamp(decoder(z0 * std + mean), -1, 1) with the gradient passed straight through the clamp;
    the task loss and the mask zeroing are the pixel ones (task_loss); the pixel gradient reaches z0 through
    torch.autograd of the decoder (no hand-written VJP). The restorer reads the decoded x0_hat (no pixel x_t).
    """
    with torch.enable_grad():
        z = z0.detach().requires_grad_(True)
        raw = lm.decoder(z * lm.std + lm.mean)
        xc = raw + (raw.clamp(-1, 1) - raw).detach()  # straight-through clamp
        if g.task == "none":
            return torch.zeros_like(z0), None, xc.detach()
        leaf = xc.detach().requires_grad_(True)
        total, fake = task_loss(leaf, leaf.detach(), t_orig, y, target, ref, mask, g, models)
        gpix = torch.autograd.grad(total, leaf)[0]
        if g.task in ("inpainting", "old_photo_restoration"):
            gpix = gpix.clone()
            gpix[mask > 0] = 0
        glat = torch.autograd.grad(xc, z, grad_outputs=gpix)[0]
    return glat.detach(), (fake.detach() if fake is not None else None), xc.detach()


def _safe_ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    # deviation (c): ||g|| = 0 -> coefficient 0 (the authors would divide by zero)
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(num))


def dynamic_coefficient(task: str, x: torch.Tensor, sample: torch.Tensor, grad: torch.Tensor, scale: float) -> torch.Tensor:
    if task in ("colorization", "old_photo_restoration"):
        d = x - sample
        # one coefficient per channel: RGB for pixels, each latent channel for latents
        c = torch.stack([_safe_ratio(torch.linalg.norm(d[:, k]), torch.linalg.norm(grad[:, k])) for k in range(x.shape[1])])
        return c[None, :, None, None] * scale
    return _safe_ratio(torch.linalg.norm(x - sample), torch.linalg.norm(grad)) * scale


# ----------------------------------------------------------------------------- noise + sampler
class NoiseSource:
    """Deterministic standard normal tensors; every draw is recorded in order."""

    def __init__(self, seed: int):
        self.gen = torch.Generator().manual_seed(seed)
        self.draws: list[torch.Tensor] = []

    def __call__(self, shape: tuple) -> torch.Tensor:
        z = torch.randn(shape, generator=self.gen, dtype=torch.float32)
        self.draws.append(z)
        return z


@dataclass
class SamplerConfig:
    schedule: str = "linear"
    respacing: str = "ddpm10"
    variance: str = "learned-range"
    sampler: str = "ddpm"  # or "ddim"
    eta: float = 0.0
    N: int = 1
    s_start: float = 1.0
    s_end: float = 0.7
    steps: int = T_DEFAULT
    latent_downscale: int = 8  # latent sets only: pixels per latent cell


@dataclass
class CallRecord:
    t_index: int
    t_orig: int
    repeat: int  # 0 = the first call at this timestep, 1.. = the extra N-1 gradient steps
    x_out: torch.Tensor
    x0: torch.Tensor
    grad: torch.Tensor
    coefficient: list = field(default_factory=list)  # dynamic weight (1 or 3 values) or [] for mean shift / DDIM


def window(sc: SamplerConfig) -> tuple[int, int]:
    """(s_start_index, s_end_index) as the authors compute them: int(s * T)."""
    return int(sc.s_start * sc.steps), int(sc.s_end * sc.steps)


def sample(
    models: Models, gcfg: GuidanceConfig, scfg: SamplerConfig, y: torch.Tensor, noise: NoiseSource,
    mask: Optional[torch.Tensor] = None, ref: Optional[torch.Tensor] = None, latent: Optional[LatentModels] = None,
) -> tuple[torch.Tensor, list[CallRecord], Diffusion]:
    """Pixel sets: x_t is the image. Latent sets (`latent` given): x_t is the normalised latent (shape from
    latent.mean's channels and y's size / latent_downscale); the returned final sample is that latent."""
    diff = Diffusion(scfg.schedule, scfg.respacing, scfg.steps, scfg.variance)
    pix_shape = tuple(y.shape)
    if mask is None:
        mask = torch.zeros(pix_shape)
    elif mask.shape[1] == 1:
        mask = mask.expand(pix_shape)
    shape = pix_shape if latent is None else (1, latent.mean.shape[1], pix_shape[2] // scfg.latent_downscale,
                                              pix_shape[3] // scfg.latent_downscale)
    if scfg.sampler == "ddim" and scfg.N != 1:
        raise ValueError("DDIM has no repeated gradient steps (the authors' ddim_sample has none)")
    s_hi, s_lo = window(scfg)
    img = noise(shape)
    records: list[CallRecord] = []
    scale = gcfg.scale
    restoration_like = gcfg.task in ("restoration", "ref_restoration")
    with torch.no_grad():
        for i in reversed(range(diff.num_timesteps)):
            t_orig = diff.timestep_map[i]
            t = torch.tensor([t_orig], dtype=torch.int64)
            nonzero = 0.0 if i == 0 else 1.0
            target: Optional[torch.Tensor] = None
            n_calls = scfg.N if (scfg.N > 1 and s_lo < t_orig < s_hi) else 1  # deviation (a)
            x = img
            for rep in range(n_calls):
                out = diff.p_mean_variance(models.prior(x, t), x, i, clip=latent is None)
                z = noise(shape)
                if latent is None:
                    grad, tgt = partial_guidance(x, t, y, out["pred_xstart"], target, ref, mask, gcfg, models)
                else:
                    grad, tgt, _ = latent_guidance(t, y, out["pred_xstart"], target, ref, mask, gcfg, models, latent)
                if target is None:
                    target = tgt  # restorer output reused by the repeats of this timestep
                coef: list = []
                if scfg.sampler == "ddim":
                    ab = diff.at(diff.alphas_cumprod, i)
                    abp = diff.at(diff.alphas_cumprod_prev, i)
                    sra = diff.at(diff.sqrt_recip_alphas_cumprod, i)
                    srm1 = diff.at(diff.sqrt_recipm1_alphas_cumprod, i)
                    eps = (sra * x - out["pred_xstart"]) / srm1
                    eps = eps + (1 - ab).sqrt() * scale * grad  # deviation (b)
                    x0g = sra * x - srm1 * eps
                    eps = (sra * x - x0g) / srm1
                    sigma = scfg.eta * torch.sqrt((1 - abp) / (1 - ab)) * torch.sqrt(1 - ab / abp)
                    mean_pred = x0g * torch.sqrt(abp) + torch.sqrt(1 - abp - sigma**2) * eps
                    new = mean_pred + nonzero * sigma * z
                elif restoration_like or gcfg.task == "none":
                    mean = out["mean"] - out["variance"] * grad * scale
                    new = mean + nonzero * torch.exp(0.5 * out["log_variance"]) * z
                else:
                    new = out["mean"] + nonzero * torch.exp(0.5 * out["log_variance"]) * z
                    c = dynamic_coefficient(gcfg.task, x, new, grad, scale)
                    new = new - grad * c
                    coef = [float(v) for v in c.flatten()]
                records.append(CallRecord(i, t_orig, rep, new.clone(), out["pred_xstart"].clone(), grad.clone(), coef))
                x = new
            img = x
    return img, records, diff
