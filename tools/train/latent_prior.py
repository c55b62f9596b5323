#!/usr/bin/env python3
"""Train the latent face prior: a guided-diffusion UNet over per-channel-normalised TAEF2 latents.

Epsilon prediction (the engine's convention), linear schedule T=1000, fixed-large variance, MSE on epsilon (optionally
weighted by min-SNR-gamma, --min-snr; the first 1100 steps used gamma 5), EMA.
Latent chunks come from tools/train/encode_latents.py; new chunks are picked up while training.

  nohup /usr/bin/python3 tools/train/latent_prior.py --run .data/runs/latent256 --threads 2 > .data/latent256.log 2>&1 &
  /usr/bin/python3 tools/train/latent_prior.py --run DIR --export public/models/pgdiff-utk-latent/prior.onnx
  /usr/bin/python3 tools/train/latent_prior.py --run DIR --samples out.png     # decoded with TAEF2
  /usr/bin/python3 tools/train/latent_prior.py --run DIR --val-loss            # held-out eps MSE per t
  /usr/bin/python3 tools/train/latent_prior.py --smoke                         # CI: tiny model, 6 steps

Checkpoints (DIR/ckpt.pt) resume automatically; --init-onnx-free resumes from exported EMA weights
(DIR/ema.pt, committed beside the ONNX) with a fresh optimiser when .data/ is gone.
"""
from __future__ import annotations

import argparse, glob, json, math, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

# OpenBLAS's worker thread makes the main thread spin on sched_yield while it waits; on this shared 2-core machine
# that put more than half of the trainer's time in the kernel (measured: 16 s per step -> 2 s with one BLAS thread).
# torch.set_num_threads still sets the convolutions' threads.
for _v in ('OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_v, '1')

import numpy as np
import torch

from tools.pgdiff_models.unet import create_unet  # noqa: E402
from diffusion import Diffusion  # noqa: E402
from optim import ema_update, optimiser_step  # noqa: E402

# 3.86M parameters: 64/96/128 channels at 32/16/8 (the fp32 ONNX must stay under 16 MiB, the repo's file limit)
DEFAULT_CFG = dict(
    image_size=32, num_channels=32, num_res_blocks=[1, 1, 1], channel_mult=[2, 3, 4],
    attention_resolutions=[16, 8], num_head_channels=32, num_heads=1, use_scale_shift_norm=True,
    resblock_updown=False, use_new_attention_order=False, learn_sigma=False, dropout=0.0, in_channels=32,
    out_channels=32,
)
SMOKE_CFG = dict(DEFAULT_CFG, image_size=8, num_channels=32, channel_mult=[1, 2], num_res_blocks=[1, 1], attention_resolutions=[4],
                 num_head_channels=32, in_channels=4, out_channels=4)


class LatentData:
    """Training latents (normalised) from the chunk files; rescans for new chunks on refresh()."""

    def __init__(self, folder: str, mean: np.ndarray, std: np.ndarray, prefixes=('train_', 'trainflip_')):
        self.folder, self.prefixes = folder, prefixes
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.files: list[str] = []
        self.parts: list[torch.Tensor] = []
        self.refresh()

    def refresh(self) -> bool:
        found = sorted(f for p in self.prefixes for f in glob.glob(os.path.join(self.folder, p + '[0-9][0-9][0-9].npy')))
        new = [f for f in found if f not in self.files]
        for f in new:
            z = np.load(f).astype(np.float32)
            self.parts.append(torch.from_numpy((z - self.mean[None, :, None, None]) / self.std[None, :, None, None]))
            self.files.append(f)
        if new:
            self.all = torch.cat(self.parts)
        return bool(new)

    def __len__(self):
        return self.all.shape[0]


def channel_stats(folder: str, n: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    zs, got = [], 0
    for f in sorted(glob.glob(os.path.join(folder, 'train_[0-9][0-9][0-9].npy'))):
        z = np.load(f).astype(np.float64); zs.append(z); got += len(z)
        if got >= n:
            break
    if not zs:
        raise SystemExit(f'no training chunks in {folder} yet')
    z = np.concatenate(zs)[:n]
    return z.mean(axis=(0, 2, 3)), z.std(axis=(0, 2, 3))


def build(cfg):
    return create_unet(cfg)


def load_ckpt(run: str):
    p = os.path.join(run, 'ckpt.pt')
    return torch.load(p, map_location='cpu') if os.path.exists(p) else None


RESUME_KEY = 'pgdiff.resume'


def export_onnx(model, path: str, cfg: dict, opset: int = 17, resume: dict | None = None):
    """The EMA prior as ONNX (x, t -> out). With `resume` (step, latent statistics...), the file is also the resume point:
    every state-dict tensor the graph does not hold under its own name (GroupNorm's affine, folded into Mul/Add) is
    added as an initializer with that name, and the metadata carries the config and `resume` (load_onnx_state)."""
    model.eval()
    s = cfg['image_size']
    x = torch.randn(1, cfg['in_channels'], s, s)
    t = torch.tensor([500], dtype=torch.long)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.onnx.export(model, (x, t), path, opset_version=opset, input_names=['x', 't'], output_names=['out'],
                      dynamic_axes={'x': {0: 'N', 2: 'H', 3: 'W'}, 't': {0: 'N'}, 'out': {0: 'N', 2: 'H', 3: 'W'}},
                      do_constant_folding=True)
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    if resume is not None:
        have = {i.name for i in m.graph.initializer}
        for k, v in model.state_dict().items():
            if k not in have:
                m.graph.initializer.append(numpy_helper.from_array(v.detach().cpu().numpy(), k))
        entry = m.metadata_props.add()
        entry.key, entry.value = RESUME_KEY, json.dumps({'config': cfg, **resume})
    onnx.checker.check_model(m)
    onnx.save(m, path)
    print(f'exported {path} ({os.path.getsize(path)} bytes)')


def load_onnx_state(path: str, model=None) -> dict:
    """A resume point from an exported prior (export_onnx with `resume`): {'ema', 'config', 'step', ...}."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    meta = next((json.loads(p.value) for p in m.metadata_props if p.key == RESUME_KEY), None)
    if meta is None:
        raise SystemExit(f'{path} carries no resume metadata ({RESUME_KEY}): export it with tools/train/ship_latent.py')
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    model = model or build(meta['config'])
    sd = {k: inits[k] for k in model.state_dict() if k in inits}
    missing = [k for k in model.state_dict() if k not in sd]
    if missing:
        raise SystemExit(f'{path}: {len(missing)} tensors of the model are not in the file, e.g. {missing[:3]}')
    return {'ema': sd, **meta}


def decode_grid(z_norm: torch.Tensor, mean, std, path: str, nrow: int = 8):
    from tools.pgdiff_models.taef2 import load_taef2
    from prior import save_grid
    _, dec = load_taef2()
    with torch.no_grad():
        z = z_norm * torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1) + torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        x = torch.cat([dec(z[i:i + 8]) for i in range(0, len(z), 8)]).clamp(0, 1) * 2 - 1
    save_grid(x, path, nrow=nrow)
    return x


@torch.no_grad()
def sample(model, diff: Diffusion, shape, steps: int, generator, eta: float = 0.0):
    """DDIM(eta) over `steps` evenly spaced timesteps, no clipping (latents are unbounded)."""
    keep, abar, prev, _ = diff.respaced(steps)
    x = torch.randn(shape, generator=generator)
    for i in reversed(range(len(keep))):
        t = torch.full((shape[0],), keep[i], dtype=torch.long)
        eps = model(x, t)
        x0 = (x - math.sqrt(1 - abar[i]) * eps) / math.sqrt(abar[i])
        sig = eta * math.sqrt((1 - prev[i]) / (1 - abar[i]) * (1 - abar[i] / prev[i])) if i > 0 else 0.0
        x = math.sqrt(prev[i]) * x0 + math.sqrt(max(0.0, 1 - prev[i] - sig ** 2)) * eps
        if sig > 0:
            x = x + sig * torch.randn(shape, generator=generator)
    return x


def val_loss(model, diff, z0: torch.Tensor, ts=(25, 100, 250, 500, 750, 950), seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    out = {}
    with torch.no_grad():
        for tt in ts:
            t = torch.full((z0.shape[0],), tt, dtype=torch.long)
            n = torch.randn(z0.shape, generator=g)
            zt = diff.q_sample(z0.cpu(), t, n)
            out[f't{tt}'] = round(float(torch.mean((model(zt.to(dev), t.to(dev)).cpu() - n) ** 2)), 5)
    out['mean'] = round(float(np.mean([out[k] for k in list(out)])), 5)
    return out


def load_val(folder: str, mean, std, n: int = 128) -> torch.Tensor:
    z = np.load(os.path.join(folder, 'val_000.npy')).astype(np.float32)[:n]
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    return torch.from_numpy((z - mean[None, :, None, None]) / std[None, :, None, None])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default=os.path.join(ROOT, '.data', 'runs', 'latent256'))
    ap.add_argument('--data', default=os.path.join(ROOT, '.data', 'lat256'))
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=4e-4)
    ap.add_argument('--warmup', type=int, default=200)
    ap.add_argument('--ema', type=float, default=0.9995)
    ap.add_argument('--min-snr', type=float, default=0.0,
                    help='min-SNR-gamma loss weight (0 = plain epsilon MSE, the default since step 1100: see docs/training-latent.md)')
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--steps', type=int, default=10_000_000)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=int, default=100)
    ap.add_argument('--log-every', type=int, default=20)
    ap.add_argument('--val-every', type=int, default=500)
    ap.add_argument('--config', default='', help='JSON file overriding the UNet config')
    ap.add_argument('--init-ema', default='', help='start from these EMA weights (fresh optimiser): a .pt resume point or '
                                                   'an exported prior .onnx that carries its resume metadata')
    ap.add_argument('--smoke', action='store_true')
    ap.add_argument('--export', default='')
    ap.add_argument('--export-ema', default='', help='also save the EMA state dict (resume point) here')
    ap.add_argument('--samples', default='')
    ap.add_argument('--sample-n', type=int, default=16)
    ap.add_argument('--sample-steps', type=int, default=50)
    ap.add_argument('--val-loss', action='store_true')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--schedule', default='', choices=['', 'linear', 'scaled-linear'],
                    help="noise schedule; default: the checkpoint's (else scaled-linear). Switching continues training "
                         "the same weights on the new schedule (docs/training-latent.md)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.smoke:
        return smoke(a)
    ck = load_ckpt(a.run)
    if a.val_loss or a.export or a.samples:
        if ck is None:
            sys.exit(f'no checkpoint in {a.run}')
        cfg, mean, std = ck['config'], np.array(ck['latent_mean']), np.array(ck['latent_std'])
        model = build(cfg); model.load_state_dict(ck['ema']); model.eval()
        schedule = a.schedule or ck.get('schedule', 'linear')
        if a.val_loss:
            out = val_loss(model, Diffusion(schedule=schedule), load_val(a.data, mean, std))
            out['step'] = ck['step']
            print(json.dumps({'val_eps_mse': out}))
        if a.export:
            export_onnx(model, a.export, cfg, resume={'step': ck['step'], 'latent_mean': ck['latent_mean'],
                                                       'latent_std': ck['latent_std'], 'wall_s': ck.get('wall_s'),
                                                       'schedule': schedule})
        if a.export_ema:
            torch.save({'ema': ck['ema'], 'config': cfg, 'step': ck['step'], 'latent_mean': ck['latent_mean'],
                        'latent_std': ck['latent_std'], 'wall_s': ck.get('wall_s')}, a.export_ema)
        if a.samples:
            g = torch.Generator().manual_seed(a.seed)
            t0 = time.time()
            s = cfg['image_size']
            z = sample(model, Diffusion(schedule=schedule), (a.sample_n, cfg['in_channels'], s, s), a.sample_steps, g)
            decode_grid(z, mean, std, a.samples)
            print(f'samples {a.samples} steps {a.sample_steps} in {time.time() - t0:.1f}s')
        return
    cfg = dict(DEFAULT_CFG)
    if a.config:
        cfg.update(json.load(open(a.config)))
    train(a, cfg, ck)


def train(a, cfg, ck):
    os.makedirs(a.run, exist_ok=True)
    dev = torch.device(a.device)
    init = None
    if ck is not None:
        cfg, mean, std = ck['config'], np.array(ck['latent_mean']), np.array(ck['latent_std'])
    elif a.init_ema:
        init = load_onnx_state(a.init_ema) if a.init_ema.endswith('.onnx') else torch.load(a.init_ema, map_location='cpu')
        cfg, mean, std = init['config'], np.array(init['latent_mean']), np.array(init['latent_std'])
    else:
        mean, std = channel_stats(a.data)
    data = LatentData(a.data, mean, std)
    val = load_val(a.data, mean, std) if os.path.exists(os.path.join(a.data, 'val_000.npy')) else None
    model, ema = build(cfg).to(dev), build(cfg).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    step, log, vlog, wall_before = 0, [], [], 0.0
    # the noise schedule: the checkpoint's unless --schedule switches it (logged with the step of the switch)
    prev_schedule = (ck or {}).get('schedule') or ((init or {}).get('schedule') if a.init_ema and ck is None else None) \
        or ('linear' if (ck is not None or a.init_ema) else 'scaled-linear')
    schedule = a.schedule or prev_schedule
    schedule_log = list((ck or {}).get('schedule_log', []))
    if not schedule_log:
        schedule_log = [[0, prev_schedule]]
    if schedule != prev_schedule:
        schedule_log.append([ck['step'] if ck is not None else (init or {}).get('step', 0), schedule])
        print(f'schedule: {prev_schedule} -> {schedule}', flush=True)
    if ck is not None:
        model.load_state_dict(ck['model']); ema.load_state_dict(ck['ema']); opt.load_state_dict(ck['opt'])
        step, log, vlog, wall_before = ck['step'], ck.get('log', []), ck.get('val_log', []), ck.get('wall_s', 0.0)
        print(f'resumed at step {step}', flush=True)
    elif a.init_ema:
        model.load_state_dict(init['ema']); ema.load_state_dict(init['ema'])
        step, wall_before = init.get('step', 0), init.get('wall_s') or 0.0
        print(f'started from EMA weights {a.init_ema} (step {step}), fresh optimiser', flush=True)
    else:
        ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    nparams = sum(p.numel() for p in model.parameters())
    print(f'params {nparams} config {json.dumps(cfg)} data {len(data)} latents from {len(data.files)} chunks', flush=True)
    diff = Diffusion(schedule=schedule)
    abar = torch.tensor(diff.abar, dtype=torch.float32)
    snr = abar / (1 - abar)
    weight = (torch.clamp(snr, max=a.min_snr) / snr) if a.min_snr > 0 else torch.ones_like(snr)
    g = torch.Generator().manual_seed(a.seed + step)
    t_start = time.time()
    run_losses = []

    def checkpoint():
        state = {'model': model.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict(), 'step': step,
                 'config': cfg, 'log': log, 'val_log': vlog, 'params': nparams, 'latent_mean': mean.tolist(),
                 'latent_std': std.tolist(), 'wall_s': wall_before + time.time() - t_start,
                 'batch': a.batch, 'lr': a.lr, 'ema_decay': a.ema, 'min_snr': a.min_snr, 'data': len(data),
                 'schedule': schedule, 'schedule_log': schedule_log}
        torch.save(state, os.path.join(a.run, 'ckpt.tmp'))
        os.replace(os.path.join(a.run, 'ckpt.tmp'), os.path.join(a.run, 'ckpt.pt'))
        with open(os.path.join(a.run, 'log.json'), 'w') as f:
            json.dump({k: v for k, v in state.items() if k not in ('model', 'ema', 'opt')}, f)

    model.train()
    while step < a.steps and not (a.minutes and time.time() - t_start > a.minutes * 60):
        idx = torch.randint(0, len(data), (a.batch,), generator=g)
        z0 = data.all[idx]
        t = torch.randint(0, diff.T, (a.batch,), generator=g)
        noise = torch.randn(z0.shape, generator=g)
        z0, t, noise = z0.to(dev), t.to(dev), noise.to(dev)
        zt = diff.q_sample(z0, t.cpu(), noise.cpu()).to(dev) if dev.type == 'cpu' else \
            abar.to(dev)[t].sqrt()[:, None, None, None] * z0 + (1 - abar.to(dev)[t]).sqrt()[:, None, None, None] * noise
        per = torch.mean((model(zt, t) - noise) ** 2, dim=(1, 2, 3))
        loss = torch.mean(per * weight.to(dev)[t])
        optimiser_step(model, opt, loss, a.lr * min(1.0, (step + 1) / max(1, a.warmup)))
        step += 1
        ema_update(ema, model, a.ema, step)
        run_losses.append(float(per.mean()))
        if step % a.log_every == 0:
            el = wall_before + time.time() - t_start
            m = float(np.mean(run_losses)); run_losses = []
            log.append([step, round(el, 1), round(m, 5)])
            print(f'step {step} eps-mse {m:.4f} wall {el:.0f}s data {len(data)}', flush=True)
        if step % a.ckpt_every == 0:
            checkpoint()
            if data.refresh():
                print(f'data: now {len(data)} latents from {len(data.files)} chunks', flush=True)
        if val is not None and step % a.val_every == 0:
            ema.eval()
            v = val_loss(ema, diff, val)
            ema.train()
            vlog.append([step, round(wall_before + time.time() - t_start, 1), v])
            print(f'val {step} {json.dumps(v)}', flush=True)
    checkpoint()
    print(f'done step {step}', flush=True)


def smoke(a):
    """Tiny end-to-end check: fake latent chunks, train, resume, export, run the exported graph."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix='latent-prior-smoke-')
    rs = np.random.RandomState(0)
    for name in ('train_000', 'val_000'):
        np.save(os.path.join(tmp, name + '.npy'), (rs.randn(16, 4, 8, 8) * 0.8 + 0.1).astype(np.float16))
    a.data, a.run = tmp, os.path.join(tmp, 'run')
    a.batch, a.steps, a.ckpt_every, a.log_every, a.val_every, a.minutes = 4, 3, 2, 1, 3, 0
    train(a, dict(SMOKE_CFG), None)
    ck = load_ckpt(a.run)
    assert ck['step'] == 3 and len(ck['val_log']) == 1, (ck['step'], ck['val_log'])
    a.steps = 5
    train(a, ck['config'], ck)
    ck = load_ckpt(a.run)
    assert ck['step'] == 5, ck['step']
    model = build(ck['config']); model.load_state_dict(ck['ema']); model.eval()
    out = os.path.join(tmp, 'prior.onnx')
    export_onnx(model, out, ck['config'], resume={'step': ck['step'], 'latent_mean': ck['latent_mean'], 'latent_std': ck['latent_std']})
    back = load_onnx_state(out)
    assert back['step'] == 5 and all(torch.equal(back['ema'][k], v) for k, v in model.state_dict().items()), 'resume round trip'
    import onnx
    m = onnx.load(out)
    names = [i.name for i in m.graph.input], [o.name for o in m.graph.output]
    assert names == (['x', 't'], ['out']), names
    print(json.dumps({'smoke': 'ok', 'onnx': out, 'steps': ck['step']}))


if __name__ == '__main__':
    main()
