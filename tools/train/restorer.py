#!/usr/bin/env python3
"""Train the bundled restorer (smooth-semantics target of PGDiff, spec section 5): the official layout
(tools/pgdiff_models/rrdb.py: RRDB x1 generator with pixel-unshuffle by 4 and a 3-d timestep embedding,
input concat(x_t, y, temb)), small, trained with MSE only on synthetic degradations (tools/train/degrade.py)
of the same UTKFace training split as the prior. Like the official restorer it takes (x_t, y, t):
x_t = q_sample(x0, t) with the prior's schedule, y = degraded face, target x0.

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train/restorer.py --run tools/train/runs/restorer64 --minutes 18
  /usr/bin/python3 tools/train/restorer.py --smoke
  /usr/bin/python3 tools/train/restorer.py --run DIR --export public/models/pgdiff-utk/restorer.onnx
  /usr/bin/python3 tools/train/restorer.py --run DIR --eval      # val MSE/PSNR of restorer vs input
"""
from __future__ import annotations

import argparse, json, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import numpy as np
import torch
import torch.nn.functional as F

from tools.pgdiff_models.rrdb import create_restorer  # noqa: E402
from diffusion import Diffusion  # noqa: E402
from optim import optimiser_step  # noqa: E402
import degrade as D  # noqa: E402

DEFAULT_CFG = dict(in_channels=9, out_channels=3, mid_channels=48, num_blocks=3, growth_channels=24,
                   upscale_factor=1, time_embed_dim=3, time_embed_in=100)
SMOKE_CFG = dict(DEFAULT_CFG, mid_channels=16, num_blocks=1, growth_channels=8)


def make_batch(hi_u8, lo_u8, idx, rs, res, hflip=True, **deg):
    """hi_u8: (N,3,R2,R2) source for degradations; lo_u8: (N,3,res,res) clean targets."""
    ys, xs = [], []
    for i in idx:
        x_hi = hi_u8[i].transpose(1, 2, 0).astype(np.float32) / 255.0
        y = D.degrade(x_hi, rs, **deg)
        if y.shape[0] != res:
            y = D.resize(y, res, res, 'area')
        x0 = lo_u8[i].astype(np.float32) / 255.0
        y = y.transpose(2, 0, 1)
        if hflip and rs.rand() < 0.5:
            y, x0 = y[:, :, ::-1], x0[:, :, ::-1]
        ys.append(y); xs.append(x0)
    y = torch.from_numpy(np.ascontiguousarray(np.stack(ys))) * 2 - 1
    x0 = torch.from_numpy(np.ascontiguousarray(np.stack(xs))) * 2 - 1
    return x0, y


class BatchStream(torch.utils.data.IterableDataset):
    """Endless degraded batches, for DataLoader workers on a many-core GPU machine (--workers)."""

    def __init__(self, hi_path, lo_path, batch, seed):
        self.hi_path, self.lo_path, self.batch, self.seed = hi_path, lo_path, batch, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rs = np.random.RandomState(self.seed + 1000 * (info.id if info else 0))
        hi, lo = np.load(self.hi_path, mmap_mode='r'), np.load(self.lo_path, mmap_mode='r')
        while True:
            yield make_batch(hi, lo, rs.randint(0, lo.shape[0], self.batch), rs, lo.shape[-1])


def export_onnx(model, path, res=64, opset=17):
    model.eval()
    xt, y = torch.randn(1, 3, res, res), torch.rand(1, 3, res, res) * 2 - 1
    t = torch.tensor([300], dtype=torch.long)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.onnx.export(model, (xt, y, t), path, opset_version=opset, input_names=['x_t', 'y', 't'],
                      output_names=['out'], do_constant_folding=True,
                      dynamic_axes={'x_t': {2: 'H', 3: 'W'}, 'y': {2: 'H', 3: 'W'}, 'out': {2: 'H', 3: 'W'}})
    import onnx
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        np.save(path + '.check-out.npy', model(xt, y, t).numpy())
    np.save(path + '.check-xt.npy', xt.numpy()); np.save(path + '.check-y.npy', y.numpy())
    print(f'exported {path} ({os.path.getsize(path)} bytes)')


def train(a, cfg, ck, hi, lo):
    os.makedirs(a.run, exist_ok=True)
    dev = torch.device(getattr(a, 'device', 'cpu'))
    model = create_restorer(cfg).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    step, log, wall_before = 0, [], 0.0
    if ck is not None:
        model.load_state_dict(ck['model']); opt.load_state_dict(ck['opt'])
        for st in opt.state.values():
            for k, v in st.items():
                if torch.is_tensor(v):
                    st[k] = v.to(dev)
        step, log, wall_before = ck['step'], ck.get('log', []), ck.get('wall_s', 0.0)
        print(f'resumed at step {step}')
    nparams = sum(p.numel() for p in model.parameters())
    res = lo.shape[-1]
    print(f'params {nparams} config {json.dumps(cfg)} data hi {hi.shape} lo {lo.shape}', flush=True)
    diff = Diffusion()
    rs = np.random.RandomState(a.seed + step)
    g = torch.Generator().manual_seed(a.seed + step)
    t0 = time.time()
    losses = []

    def checkpoint():
        w = wall_before + time.time() - t0
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'config': cfg, 'log': log,
                    'params': nparams, 'wall_s': w}, os.path.join(a.run, 'ckpt.tmp'))
        os.replace(os.path.join(a.run, 'ckpt.tmp'), os.path.join(a.run, 'ckpt.pt'))
        json.dump({'config': cfg, 'params': nparams, 'step': step, 'wall_s': w, 'batch': a.batch, 'lr': a.lr,
                   'log': log}, open(os.path.join(a.run, 'log.json'), 'w'))

    def stop():
        if step >= a.steps or (a.minutes and time.time() - t0 > a.minutes * 60):
            return True
        if a.stop_at:
            hh, mm = map(int, a.stop_at.split(':'))
            now = time.gmtime()
            return now.tm_hour * 60 + now.tm_min >= hh * 60 + mm
        return False

    model.train()
    stream = None
    if getattr(a, 'workers', 0) > 0:
        stream = iter(torch.utils.data.DataLoader(BatchStream(a.hi, a.lo, a.batch, a.seed + step), batch_size=None,
                                                  num_workers=a.workers, prefetch_factor=4))
    while not stop():
        if stream is not None:
            x0, y = next(stream)
        else:
            idx = rs.randint(0, lo.shape[0], a.batch)
            x0, y = make_batch(hi, lo, idx, rs, res)
        t = torch.randint(0, diff.T, (a.batch,), generator=g)
        xt = diff.q_sample(x0, t, torch.randn(x0.shape, generator=g))
        xt, y, t, x0 = xt.to(dev), y.to(dev), t.to(dev), x0.to(dev)
        loss = F.mse_loss(model(xt, y, t), x0)
        optimiser_step(model, opt, loss, a.lr if step < a.decay_after * a.steps_hint else a.lr * 0.3)
        step += 1
        losses.append(loss.item())
        if step % a.log_every == 0:
            el = wall_before + time.time() - t0
            log.append([step, round(el, 1), float(np.mean(losses))]); losses = []
            print(f'step {step} loss {log[-1][2]:.5f} wall {el:.0f}s', flush=True)
        if step % a.ckpt_every == 0:
            checkpoint()
    checkpoint()
    print(f'done step {step}', flush=True)
    return model


@torch.no_grad()
def evaluate(model, hi, lo, n=64, seed=123):
    """Val PSNR (dB, on [0,1]) of input y and restorer output vs ground truth, at t=0 and t=500."""
    rs = np.random.RandomState(seed)
    x0, y = make_batch(hi, lo, np.arange(min(n, lo.shape[0])), rs, lo.shape[-1], hflip=False)
    diff = Diffusion()
    out = {}
    def psnr(a, b):
        mse = torch.mean(((a.clamp(-1, 1) - b) / 2) ** 2, dim=(1, 2, 3))
        return float(torch.mean(10 * torch.log10(1 / mse)))
    out['psnr_input'] = psnr(y, x0)
    for tt in (0, 500, 999):
        t = torch.full((x0.shape[0],), tt, dtype=torch.long)
        xt = diff.q_sample(x0, t, torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed)))
        out[f'psnr_restorer_t{tt}'] = psnr(model(xt, y, t), x0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default=os.path.join(ROOT, 'tools', 'train', 'runs', 'restorer64'))
    ap.add_argument('--hi', default=os.path.join(ROOT, '.data', 'utk128_train.npy'))
    ap.add_argument('--lo', default=os.path.join(ROOT, '.data', 'utk64_train.npy'))
    ap.add_argument('--val-hi', default=os.path.join(ROOT, '.data', 'utk128_val.npy'))
    ap.add_argument('--val-lo', default=os.path.join(ROOT, '.data', 'utk64_val.npy'))
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--steps', type=int, default=1000000)
    ap.add_argument('--steps-hint', type=int, default=1000000, help='expected steps (lr x0.3 after decay_after of them)')
    ap.add_argument('--decay-after', type=float, default=0.8)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--stop-at', default='')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=int, default=50)
    ap.add_argument('--log-every', type=int, default=10)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--smoke', action='store_true')
    ap.add_argument('--device', default='cpu', help="'cuda' on a GPU machine")
    ap.add_argument('--workers', type=int, default=0, help='DataLoader workers for the degradations (GPU runs)')
    ap.add_argument('--config', default='', help='JSON file overriding the restorer config')
    ap.add_argument('--export', default='')
    ap.add_argument('--eval', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    ckp = os.path.join(a.run, 'ckpt.pt')
    if a.smoke:
        import tempfile
        tmp = tempfile.mkdtemp(prefix='restorer-smoke-')
        rs = np.random.RandomState(0)
        lo = (rs.rand(8, 3, 32, 32) * 255).astype(np.uint8)
        hi = np.repeat(np.repeat(lo, 2, 2), 2, 3)
        a.run = os.path.join(tmp, 'run'); a.batch = 2; a.steps = 3; a.ckpt_every = 2; a.log_every = 1
        train(a, dict(SMOKE_CFG), None, hi, lo)
        a.steps = 4
        ck = torch.load(os.path.join(a.run, 'ckpt.pt'))
        assert ck['step'] == 3
        m = train(a, ck['config'], ck, hi, lo)
        assert torch.load(os.path.join(a.run, 'ckpt.pt'))['step'] == 4
        export_onnx(m, os.path.join(tmp, 'restorer.onnx'), 32)
        import onnx
        g = onnx.load(os.path.join(tmp, 'restorer.onnx')).graph
        assert [i.name for i in g.input] == ['x_t', 'y', 't'] and [o.name for o in g.output] == ['out']
        print(json.dumps({'smoke': 'ok', 'onnx': os.path.join(tmp, 'restorer.onnx'), 'eval': evaluate(m, hi, lo, n=4)}))
        return
    ck = torch.load(ckp, map_location='cpu') if os.path.exists(ckp) else None
    if a.export or a.eval:
        if ck is None:
            sys.exit('no checkpoint')
        m = create_restorer(ck['config']); m.load_state_dict({k: v.cpu() for k, v in ck['model'].items()}); m.eval()
        if a.eval:
            r = evaluate(m, np.load(a.val_hi, mmap_mode='r'), np.load(a.val_lo, mmap_mode='r'))
            print(json.dumps(r))
            json.dump(r, open(os.path.join(a.run, 'eval.json'), 'w'))
        if a.export:
            export_onnx(m, a.export, 64)
        return
    cfg = dict(DEFAULT_CFG)
    if a.config:
        cfg.update(json.load(open(a.config)))
    if ck:
        cfg = ck['config']
    train(a, cfg, ck, np.load(a.hi, mmap_mode='r'), np.load(a.lo, mmap_mode='r'))


if __name__ == '__main__':
    main()
