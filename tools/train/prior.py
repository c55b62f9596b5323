#!/usr/bin/env python3
"""Train the bundled face prior: a guided-diffusion UNet (tools/pgdiff_models/unet.py), epsilon prediction,
linear schedule T=1000, fixed-large variance, plain MSE on epsilon (learn_sigma off: see docs/training.md).

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train/prior.py --run tools/train/runs/prior64 --minutes 70
  /usr/bin/python3 tools/train/prior.py --smoke            # < 1 min, tiny model, CI
  /usr/bin/python3 tools/train/prior.py --run DIR --export public/models/pgdiff-utk/prior.onnx
  /usr/bin/python3 tools/train/prior.py --run DIR --samples out.png [--sample-res 128]

Checkpoints (DIR/ckpt.pt: model, EMA, optimiser, step, config) resume automatically.
"""
from __future__ import annotations

import argparse, json, math, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import numpy as np
import torch

from tools.pgdiff_models.unet import create_unet  # noqa: E402
from diffusion import Diffusion  # noqa: E402
from optim import ema_update, optimiser_step  # noqa: E402

DEFAULT_CFG = dict(
    image_size=64, num_channels=32, num_res_blocks=[1, 1, 1, 1], channel_mult=[1, 2, 2, 2],
    attention_resolutions=[16, 8], num_head_channels=32, num_heads=1, use_scale_shift_norm=True,
    resblock_updown=False, use_new_attention_order=False, learn_sigma=False, dropout=0.0, in_channels=3,
)
SMOKE_CFG = dict(DEFAULT_CFG, image_size=32, num_channels=32, num_res_blocks=[1, 1], channel_mult=[1, 2],
                 attention_resolutions=[16])


def load_data(path: str, limit: int = 0) -> torch.Tensor:
    arr = np.load(path, mmap_mode='r')
    if limit:
        arr = arr[:limit]
    return torch.from_numpy(np.ascontiguousarray(arr))  # uint8 (N,3,R,R)


def to_float(batch_u8: torch.Tensor) -> torch.Tensor:
    return batch_u8.float() / 127.5 - 1.0


def save_grid(x: torch.Tensor, path: str, nrow: int = 8):
    from PIL import Image
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().numpy()  # N,3,H,W
    n, _, h, w = x.shape
    rows = math.ceil(n / nrow)
    grid = np.full((rows * (h + 2) + 2, nrow * (w + 2) + 2, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + c * (w + 2):2 + c * (w + 2) + w] = x[i].transpose(1, 2, 0)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid).save(path)


def build(cfg):
    return create_unet(cfg)


def load_ckpt(run: str):
    p = os.path.join(run, 'ckpt.pt')
    return torch.load(p, map_location='cpu') if os.path.exists(p) else None


def export_onnx(model, path: str, res: int, opset: int = 17):
    model.eval()
    x = torch.randn(1, 3, res, res)
    t = torch.tensor([500], dtype=torch.long)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.onnx.export(model, (x, t), path, opset_version=opset, input_names=['x', 't'], output_names=['out'],
                      dynamic_axes={'x': {2: 'H', 3: 'W'}, 'out': {2: 'H', 3: 'W'}}, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        ref = model(x, t)
    np.save(path + '.check-x.npy', x.numpy())
    np.save(path + '.check-out.npy', ref.numpy())
    print(f'exported {path} ({os.path.getsize(path)} bytes)')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default=os.path.join(ROOT, 'tools', 'train', 'runs', 'prior64'))
    ap.add_argument('--data', default=os.path.join(ROOT, '.data', 'utk64_train.npy'))
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=4e-4)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--ema', type=float, default=0.999)
    ap.add_argument('--minutes', type=float, default=0, help='stop after this wall time (0 = use --steps)')
    ap.add_argument('--steps', type=int, default=1000000)
    ap.add_argument('--stop-at', default='', help='UTC HH:MM: stop (and checkpoint) when reached')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=int, default=100)
    ap.add_argument('--log-every', type=int, default=20)
    ap.add_argument('--hflip', type=int, default=1)
    ap.add_argument('--config', default='', help='JSON file overriding the UNet config')
    ap.add_argument('--smoke', action='store_true')
    ap.add_argument('--export', default='')
    ap.add_argument('--export-res', type=int, default=0)
    ap.add_argument('--samples', default='')
    ap.add_argument('--sample-res', type=int, default=0)
    ap.add_argument('--sample-n', type=int, default=16)
    ap.add_argument('--sample-steps', type=int, default=100)
    ap.add_argument('--val-loss', action='store_true', help='held-out epsilon MSE at fixed timesteps (EMA weights)')
    ap.add_argument('--val-data', default=os.path.join(ROOT, '.data', 'utk64_val.npy'))
    ap.add_argument('--no-ema', action='store_true', help='export/sample the raw weights instead of EMA')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='cpu', help="'cuda' on a GPU machine")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    if a.smoke:
        return smoke(a)

    ck = load_ckpt(a.run)
    if a.val_loss:
        if ck is None:
            sys.exit(f'no checkpoint in {a.run}')
        model = build(ck['config']); model.load_state_dict(ck['model'] if a.no_ema else ck['ema']); model.eval()
        x0 = to_float(load_data(a.val_data, 64))
        diff = Diffusion()
        g = torch.Generator().manual_seed(1)
        out = {}
        with torch.no_grad():
            for tt in (50, 250, 500, 750, 950):
                t = torch.full((x0.shape[0],), tt, dtype=torch.long)
                n = torch.randn(x0.shape, generator=g)
                out[f't{tt}'] = round(float(torch.mean((model(diff.q_sample(x0, t, n), t)[:, :3] - n) ** 2)), 5)
        out['mean'] = round(sum(out.values()) / len(out), 5)
        out['step'] = ck['step']
        print(json.dumps({'val_eps_mse': out}))
        json.dump(out, open(os.path.join(a.run, 'val.json'), 'w'))
        return
    if a.export or a.samples:
        if ck is None:
            sys.exit(f'no checkpoint in {a.run}')
        model = build(ck['config'])
        model.load_state_dict(ck['model'] if a.no_ema else ck['ema'])
        model.eval()
        if a.export:
            export_onnx(model, a.export, a.export_res or ck['config']['image_size'])
        if a.samples:
            res = a.sample_res or ck['config']['image_size']
            g = torch.Generator().manual_seed(a.seed)
            t0 = time.time()
            x = Diffusion().sample(model, (a.sample_n, 3, res, res), steps=a.sample_steps, generator=g)
            save_grid(x, a.samples, nrow=min(8, a.sample_n))
            print(f'samples {a.samples} res {res} steps {a.sample_steps} in {time.time() - t0:.1f}s')
        return

    cfg = dict(DEFAULT_CFG)
    if a.config:
        cfg.update(json.load(open(a.config)))
    if ck is not None:
        cfg = ck['config']
    train(a, cfg, ck, a.data)


def train(a, cfg, ck, data_path, limit=0):
    os.makedirs(a.run, exist_ok=True)
    data = load_data(data_path, limit)
    res = cfg['image_size']
    assert data.shape[-1] == res, (data.shape, res)
    dev = torch.device(getattr(a, 'device', 'cpu'))
    model = build(cfg).to(dev)
    ema = build(cfg).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    step = 0
    log = []
    if ck is not None:
        model.load_state_dict(ck['model']); ema.load_state_dict(ck['ema']); opt.load_state_dict(ck['opt'])
        for st in opt.state.values():
            for k, v in st.items():
                if torch.is_tensor(v):
                    st[k] = v.to(dev)
        step = ck['step']; log = ck.get('log', [])
        print(f'resumed at step {step}')
    else:
        ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    nparams = sum(p.numel() for p in model.parameters())
    print(f'params {nparams} config {json.dumps(cfg)} data {tuple(data.shape)}', flush=True)
    diff = Diffusion()
    diff.sqrt_abar, diff.sqrt_1m_abar = diff.sqrt_abar.to(dev), diff.sqrt_1m_abar.to(dev)
    g = torch.Generator().manual_seed(a.seed + step)
    t_start = time.time()
    wall_before = ck.get('wall_s', 0.0) if ck else 0.0
    run_losses = []

    def checkpoint():
        torch.save({'model': model.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict(), 'step': step,
                    'config': cfg, 'log': log, 'params': nparams,
                    'wall_s': wall_before + time.time() - t_start}, os.path.join(a.run, 'ckpt.tmp'))
        os.replace(os.path.join(a.run, 'ckpt.tmp'), os.path.join(a.run, 'ckpt.pt'))
        with open(os.path.join(a.run, 'log.json'), 'w') as f:
            json.dump({'config': cfg, 'params': nparams, 'step': step, 'wall_s': wall_before + time.time() - t_start,
                       'batch': a.batch, 'lr': a.lr, 'ema': a.ema, 'log': log}, f)

    def should_stop():
        if step >= a.steps:
            return True
        if a.minutes and time.time() - t_start > a.minutes * 60:
            return True
        if a.stop_at:
            hh, mm = map(int, a.stop_at.split(':'))
            now = time.gmtime()
            if now.tm_hour * 60 + now.tm_min >= hh * 60 + mm:
                return True
        return False

    model.train()
    while not should_stop():
        idx = torch.randint(0, data.shape[0], (a.batch,), generator=g)
        x0 = to_float(data[idx])
        if a.hflip:
            flip = torch.rand(a.batch, generator=g) < 0.5
            x0 = torch.where(flip[:, None, None, None], x0.flip(-1), x0)
        t = torch.randint(0, diff.T, (a.batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        x0, t, noise = x0.to(dev), t.to(dev), noise.to(dev)
        xt = diff.q_sample(x0, t, noise)
        loss = torch.mean((model(xt, t) - noise) ** 2)
        optimiser_step(model, opt, loss, a.lr * min(1.0, (step + 1) / max(1, a.warmup)))
        step += 1
        ema_update(ema, model, a.ema, step)
        run_losses.append(loss.item())
        if step % a.log_every == 0:
            el = wall_before + time.time() - t_start
            m = float(np.mean(run_losses)); run_losses = []
            log.append([step, round(el, 1), m])
            print(f'step {step} loss {m:.4f} wall {el:.0f}s ({el / max(1, step):.2f} s/step avg)', flush=True)
        if step % a.ckpt_every == 0:
            checkpoint()
    checkpoint()
    print(f'done step {step}', flush=True)
    return model, ema


def smoke(a):
    """Tiny end-to-end check: train a few steps on random-crop data, resume, export, run the exported graph."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix='prior-smoke-')
    data = os.path.join(tmp, 'data.npy')
    src = a.data if os.path.exists(a.data) else ''
    if src:
        arr = np.load(src, mmap_mode='r')[:64]
        arr = torch.nn.functional.interpolate(torch.from_numpy(np.ascontiguousarray(arr)).float(), size=32,
                                              mode='area').round().byte().numpy()
    else:
        arr = (np.random.RandomState(0).rand(64, 3, 32, 32) * 255).astype(np.uint8)
    np.save(data, arr)
    a.run = os.path.join(tmp, 'run'); a.batch = 4; a.steps = 3; a.ckpt_every = 2; a.log_every = 1; a.minutes = 0
    a.stop_at = ''
    train(a, dict(SMOKE_CFG), None, data)
    ck = load_ckpt(a.run)
    assert ck['step'] == 3
    a.steps = 5
    train(a, ck['config'], ck, data)
    ck = load_ckpt(a.run)
    assert ck['step'] == 5, ck['step']
    model = build(ck['config']); model.load_state_dict(ck['ema'])
    out = os.path.join(tmp, 'prior.onnx')
    export_onnx(model, out, 32)
    import onnx
    m = onnx.load(out)
    names = [i.name for i in m.graph.input], [o.name for o in m.graph.output]
    assert names == (['x', 't'], ['out']), names
    print(json.dumps({'smoke': 'ok', 'onnx': out, 'steps': ck['step']}))


if __name__ == '__main__':
    main()
