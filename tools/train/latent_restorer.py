#!/usr/bin/env python3
"""The latent set's restorer (PGDiff's smooth-semantics target, spec section 5): degraded face -> smooth clean face,
learned in TAEF2's latent space.

  /usr/bin/python3 tools/train/degrade_chunks.py --chunks 8                  # degraded copies of the train chunks
  npx tsx tools/train/encode-latents.ts --threads 1                           # ... and their latents
  nohup /usr/bin/python3 tools/train/latent_restorer.py --run .data/runs/restorer256 > .data/restorer256.log 2>&1 &
  /usr/bin/python3 tools/train/latent_restorer.py --run .data/runs/restorer256 --eval      # PSNR vs the input
  /usr/bin/python3 tools/train/latent_restorer.py --run .data/runs/restorer256 --export .data/restorer256.onnx
      [--fusion .data/runs/fusion/fusion.pt]      # with the pixel refinement (tools/train/restorer_fusion.py)
  /usr/bin/python3 tools/train/latent_restorer.py --smoke

Why latents: a pixel network at 256 px costs ~64x a 32x32 one to train on this CPU. Here a small UNet maps the
normalised TAEF2 latent of the degraded face to the latent of the clean face (MSE, i.e. the conditional mean: a
smooth estimate, which is what the property asks for); the decoder, trained on millions of images, draws the
pixels. The exported graph is the whole chain, `y` (1,3,R,R) in [-1,1] -> encoder -> normalise -> UNet ->
denormalise -> decoder -> clamp -> `out` in [-1,1], so the engine runs it as any restorer that reads only y
(once per request).
"""
from __future__ import annotations

import argparse, json, os, sys, time

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
import torch.nn as nn
import torch.nn.functional as F

from optim import optimiser_step  # noqa: E402

DEFAULT_CFG = dict(channels=32, widths=[48, 96, 128], blocks=[1, 2, 2])
SMOKE_CFG = dict(channels=32, widths=[8, 8, 8], blocks=[1, 1, 1])


class ResBlock(nn.Module):
    def __init__(self, w: int):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8 if w % 8 == 0 else 1, w), nn.Conv2d(w, w, 3, padding=1)
        self.n2, self.c2 = nn.GroupNorm(8 if w % 8 == 0 else 1, w), nn.Conv2d(w, w, 3, padding=1)

    def forward(self, x):
        h = self.c1(F.silu(self.n1(x)))
        return x + self.c2(F.silu(self.n2(h)))


class LatentUNet(nn.Module):
    """Normalised latent (N,C,h,w) -> normalised latent; a residual on the input (starts as the identity)."""

    def __init__(self, channels: int, widths: list[int], blocks: list[int]):
        super().__init__()
        self.inp = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.enc = nn.ModuleList()
        for i, (w, b) in enumerate(zip(widths, blocks)):
            if i > 0:
                self.down.append(nn.Conv2d(widths[i - 1], w, 3, stride=2, padding=1))
            self.enc.append(nn.Sequential(*[ResBlock(w) for _ in range(b)]))
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            self.up.append(nn.Conv2d(widths[i], widths[i - 1], 3, padding=1))
            self.dec.append(nn.Sequential(nn.Conv2d(2 * widths[i - 1], widths[i - 1], 1), ResBlock(widths[i - 1])))
        self.out_norm = nn.GroupNorm(8 if widths[0] % 8 == 0 else 1, widths[0])
        self.out = nn.Conv2d(widths[0], channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z):
        h = self.enc[0](self.inp(z))
        skips = [h]
        for i in range(1, len(self.enc)):
            h = self.enc[i](self.down[i - 1](h))
            skips.append(h)
        skips.pop()
        for up, dec in zip(self.up, self.dec):
            h = up(F.interpolate(h, scale_factor=2.0, mode='nearest'))
            h = dec(torch.cat([h, skips.pop()], 1))
        return z + self.out(F.silu(self.out_norm(h)))


class RestorerGraph(nn.Module):
    """What the engine runs: y in [-1,1] -> smooth estimate in [-1,1]."""

    def __init__(self, enc, net, dec, mean, std, fusion=None):
        super().__init__()
        self.enc, self.net, self.dec, self.fusion = enc, net, dec, fusion
        self.register_buffer('mean', torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer('std', torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, y):
        z = (self.enc((y + 1) / 2) - self.mean) / self.std
        z = self.net(z) * self.std + self.mean
        r = (self.dec(z) * 2 - 1).clamp(-1, 1)
        # the pixel refinement (tools/train/restorer_fusion.py): sees y at full resolution beside r
        return r if self.fusion is None else self.fusion(y, r).clamp(-1, 1)


def load_pairs(folder: str, mean, std, prefix_in=('deg_', 'degm_'), prefix_out='train_'):
    """(degraded, clean) normalised latent pairs from every deg_NNN.npy / degm_NNN.npy (degrade_chunks.py's two
    mixes) whose clean train_NNN.npy exists."""
    xs, ys = [], []
    m = np.asarray(mean, np.float32)[None, :, None, None]
    s = np.asarray(std, np.float32)[None, :, None, None]
    for f in sorted(os.listdir(folder)):
        pre = next((p for p in prefix_in if f.startswith(p)), None)
        if pre is None or not f.endswith('.npy') or '.tmp' in f:
            continue
        tgt = os.path.join(folder, prefix_out + f[len(pre):])
        if not os.path.exists(tgt):
            continue
        xs.append((np.load(os.path.join(folder, f)).astype(np.float32) - m) / s)
        ys.append((np.load(tgt).astype(np.float32) - m) / s)
    if not xs:
        return None, None
    return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))


def latent_stats(run_prior: str):
    """The prior's latent normalisation (the restorer must use the same), from its checkpoint or resume point."""
    ck = os.path.join(run_prior, 'ckpt.pt')
    if os.path.exists(ck):
        c = torch.load(ck, map_location='cpu')
        return c['latent_mean'], c['latent_std']
    from latent_prior import load_onnx_state
    st = load_onnx_state(os.path.join(HERE, 'checkpoints', 'latent256-prior.onnx'))
    return st['latent_mean'], st['latent_std']


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = torch.mean(((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2) ** 2).item()
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def evaluate(net, data: str, mean, std, n: int = 48):
    """Held-out: decoded restorer output vs the clean face, against the degraded input itself (both in pixels)."""
    from tools.pgdiff_models.taef2 import load_taef2
    enc, dec = load_taef2()
    zin, ztgt = load_pairs(data, mean, std, ('valdeg_',), 'val_')
    y_img = torch.from_numpy(np.load(os.path.join(data, 'img_valdeg_000.npy'))[:n].astype(np.float32) / 127.5 - 1)
    x_img = torch.from_numpy(np.load(os.path.join(data, 'img_val_000.npy'))[:n].astype(np.float32) / 127.5 - 1)
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    net.eval()
    with torch.no_grad():
        lat_in = float(torch.mean((zin[:n] - ztgt[:n]) ** 2))
        zr = net(zin[:n])
        lat_out = float(torch.mean((zr - ztgt[:n]) ** 2))
        outs = torch.cat([dec(zr[i:i + 8] * s + m).clamp(0, 1) * 2 - 1 for i in range(0, n, 8)])
        ae = torch.cat([dec(ztgt[i:i + 8] * s + m).clamp(0, 1) * 2 - 1 for i in range(0, n, 8)])
    net.train()
    return {'n': n, 'latent_mse_input': round(lat_in, 4), 'latent_mse_out': round(lat_out, 4),
            'psnr_input': round(np.mean([psnr(y_img[i], x_img[i]) for i in range(n)]), 2),
            'psnr_restorer': round(np.mean([psnr(outs[i], x_img[i]) for i in range(n)]), 2),
            'psnr_autoencoder_bound': round(np.mean([psnr(ae[i], x_img[i]) for i in range(n)]), 2)}, outs, y_img, x_img


def export(net, mean, std, path: str, res: int = 256, fusion: str = '') -> None:
    from tools.pgdiff_models.taef2 import load_taef2
    enc, dec = load_taef2()
    fu = None
    if fusion:
        from restorer_fusion import Fusion
        f = torch.load(fusion, map_location='cpu')
        fu = Fusion(**f['config'])
        fu.load_state_dict(f['state'])
        fu.eval()
    g = RestorerGraph(enc, net.eval(), dec, mean, std, fu).eval()
    y = torch.zeros(1, 3, res, res)
    torch.onnx.export(g, (y,), path, opset_version=17, input_names=['y'], output_names=['out'], do_constant_folding=True)
    # TAEF2's weights are float16: stored so, computed in fp32 (keeps the file under the 16 MiB limit)
    import onnx
    from tools.convert.onnx_graph import store_fp16
    m, n = store_fp16(onnx.load(path), ('enc.', 'dec.'))
    assert n > 0, 'no TAEF2 weight was stored as float16'
    onnx.save(m, path)
    print(f'wrote {path} ({os.path.getsize(path)} bytes)')


def train(a) -> None:
    os.makedirs(a.run, exist_ok=True)
    torch.set_num_threads(a.threads)
    mean, std = latent_stats(a.prior_run)
    ckp = os.path.join(a.run, 'ckpt.pt')
    cfg = DEFAULT_CFG
    net = LatentUNet(**cfg)
    ema = LatentUNet(**cfg)
    ema.load_state_dict(net.state_dict())
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    step, wall0, log = 0, 0.0, []
    if os.path.exists(ckp):
        c = torch.load(ckp, map_location='cpu')
        net.load_state_dict(c['net']); ema.load_state_dict(c['ema']); opt.load_state_dict(c['opt'])
        step, wall0, log = c['step'], c['wall_s'], c['log']
        print(f'resumed at step {step}', flush=True)
    elif a.init:
        # a committed resume point (--save-ema): its EMA weights, a fresh optimiser
        c = torch.load(a.init, map_location='cpu')
        net.load_state_dict(c['ema']); ema.load_state_dict(c['ema'])
        step, wall0, log = c['step'], c['wall_s'], c['log']
        print(f'started from {a.init} (step {step}), fresh optimiser', flush=True)
    nparams = sum(p.numel() for p in net.parameters())
    zin, ztgt = load_pairs(a.data, mean, std)
    print(f'params {nparams} pairs {len(zin)}', flush=True)
    rs = np.random.RandomState(step + 1)
    t0 = time.time()

    def save():
        tmp = ckp + '.tmp'
        torch.save({'net': net.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict(), 'step': step,
                    'wall_s': wall0 + time.time() - t0, 'log': log, 'config': cfg, 'latent_mean': list(map(float, mean)),
                    'latent_std': list(map(float, std)), 'params': nparams}, tmp)
        os.replace(tmp, ckp)

    losses = []
    while step < a.steps:
        if step % 200 == 0 and step > 0:
            zi, zt = load_pairs(a.data, mean, std)  # new encoded chunks
            if len(zi) > len(zin):
                zin, ztgt = zi, zt
                print(f'pairs now {len(zin)}', flush=True)
        idx = rs.randint(0, len(zin), a.batch)
        x, y = zin[idx], ztgt[idx]
        if rs.rand() < 0.5:  # a latent's mirror is close to the mirror's latent: cheap augmentation
            x, y = x.flip(-1), y.flip(-1)
        loss = F.mse_loss(net(x), y)
        lr = a.lr * min(1.0, (step + 1) / 100)
        optimiser_step(net, opt, loss, lr, clip=1.0)
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.mul_(a.ema).add_(p.detach(), alpha=1 - a.ema)
        losses.append(loss.item())
        step += 1
        if step % 20 == 0:
            m = float(np.mean(losses)); losses = []
            log.append([step, round(wall0 + time.time() - t0, 1), round(m, 5)])
            print(f'step {step} latent-mse {m:.4f} wall {wall0 + time.time() - t0:.0f}s', flush=True)
        if step % 100 == 0:
            save()
    save()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default=os.path.join(ROOT, '.data', 'runs', 'restorer256'))
    ap.add_argument('--prior-run', default=os.path.join(ROOT, '.data', 'runs', 'latent256'))
    ap.add_argument('--data', default=os.path.join(ROOT, '.data', 'lat256'))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--ema', type=float, default=0.995)
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--eval', action='store_true')
    ap.add_argument('--grid', default='', help='with --eval: input | restorer | truth rows as a PNG')
    ap.add_argument('--export', default='')
    ap.add_argument('--fusion', default='', help='with --export: the pixel refinement (restorer_fusion.py) to append')
    ap.add_argument('--save-ema', default='', help='write the resume point (EMA weights, step, log) to commit')
    ap.add_argument('--init', default='', help='start from a --save-ema resume point when the run has no checkpoint')
    ap.add_argument('--smoke', action='store_true')
    a = ap.parse_args()
    if a.smoke:
        net = LatentUNet(**SMOKE_CFG)
        z = torch.randn(2, 32, 32, 32)
        assert torch.allclose(net(z), z), 'the restorer must start as the identity'
        print('smoke ok')
        return
    if a.save_ema:
        c = torch.load(os.path.join(a.run, 'ckpt.pt'), map_location='cpu')
        torch.save({k: c[k] for k in ('ema', 'step', 'wall_s', 'log', 'config', 'latent_mean', 'latent_std', 'params')}, a.save_ema)
        print(f"wrote {a.save_ema} (step {c['step']})")
        return
    if a.eval or a.export:
        # the run's checkpoint, or the committed resume point when .data/ is gone
        src = os.path.join(a.run, 'ckpt.pt')
        c = torch.load(src if os.path.exists(src) or not a.init else a.init, map_location='cpu')
        net = LatentUNet(**c['config'])
        net.load_state_dict(c['ema'])
        if a.eval:
            res, outs, y, x = evaluate(net, a.data, c['latent_mean'], c['latent_std'])
            res['step'] = c['step']
            print(json.dumps(res))
            if a.grid:
                from PIL import Image
                k = 8
                rows = [torch.cat(list(t[:k]), 2) for t in (y, outs, x)]
                g = ((torch.cat(rows, 1).clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
                Image.fromarray(g).resize((g.shape[1] // 2, g.shape[0] // 2), Image.BICUBIC).save(a.grid)
        if a.export:
            export(net, c['latent_mean'], c['latent_std'], a.export, fusion=a.fusion)
        return
    train(a)


if __name__ == '__main__':
    main()
