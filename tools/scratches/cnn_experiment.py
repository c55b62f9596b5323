"""Experiment (not used by the app): a small learned scratch detector, trained on synthetic cracks.

  /usr/bin/python3 tools/scratches/cnn_experiment.py MINUTES [INIT.pt]      # two threads; writes .data/scr/net.pt
  /usr/bin/python3 tools/scratches/cnn_experiment.py --eval NET.pt          # precision/recall on med_scratch/0_7.jpg

Second version (results in workers/scratches/README.md, "What was tried"):
backgrounds are UTKFace faces read straight from the tar (every 50th held out, as for the prior) and five of
the ten clean old photos in old_photos/med (the even-numbered ones, so their hair, lips and print borders are
negatives); the other five are only used to measure how much of a clean photo gets flagged. Cracks come in the
three looks seen on real prints: a paper-white core, a dark crease with light edges, and a jagged light core with
dark edges; labels are bands 2 px wider than the stroke on each side at 256 px (4 px at 512), like the marked bands
of scratch_masks. A 5-level UNet (254k parameters), 160 px crops, BCE + Dice, cosine learning rate, two threads.
"""
import glob, io, math, os, sys, tarfile, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter
torch.set_num_threads(int(os.environ.get('THREADS', '2')))
rng = np.random.default_rng(int(os.environ.get('SEED', '0')))
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
T = f'{ROOT}/../shared/testdata/old_photos'
sys.path.insert(0, ROOT)
from tools.train.utk_split import TAR, is_val, jpeg_members  # noqa: E402
S = 256  # training images are made at 256 px (the scale the detector runs at), crops of C px
C = 160
_faces = None
_old = None


def grey(im):
    return np.asarray(im.convert('L'), np.float32) / 255


def faces(n=3000):
    """Training backgrounds: n UTKFace training faces (every 50th by sorted name is held out), grey, 256 px."""
    global _faces
    if _faces is None:
        with tarfile.open(TAR) as tf:
            ms = [m for i, m in enumerate(jpeg_members(tf)) if not is_val(i)]
            pick = np.random.default_rng(1).choice(len(ms), n, replace=False)
            _faces = [grey(Image.open(io.BytesIO(tf.extractfile(ms[i]).read())).resize((S, S), Image.BICUBIC)) for i in pick]
    return _faces


def old_photos(held_out=False):
    """The clean old photos: even-numbered ones (sorted) for training, odd-numbered ones held out."""
    ps = sorted(glob.glob(f'{T}/med/*.png'))
    return [p for i, p in enumerate(ps) if (i % 2 == 1) == held_out]


def old_backgrounds():
    global _old
    if _old is None:
        _old = [grey(Image.open(p).resize((S, S), Image.BICUBIC)) for p in old_photos()]
    return _old


def background(r):
    if r.random() < 0.3:
        g = old_backgrounds()[r.integers(len(old_backgrounds()))]
    else:
        g = faces()[r.integers(len(faces()))]
    if r.random() < 0.6:  # zoom in (faces fill the frame more in old portraits)
        z = r.uniform(1.0, 1.8); n = int(S / z); x0, y0 = r.integers(0, S - n + 1, 2)
        g = np.asarray(Image.fromarray(g[y0:y0 + n, x0:x0 + n]).resize((S, S), Image.BICUBIC))
    if r.random() < 0.5: g = g[:, ::-1]
    g = np.clip(g, 0, 1)  # bicubic overshoot
    lo, hi = r.uniform(0, 0.3), r.uniform(0.75, 1.0)
    g = lo + (hi - lo) * g  # faded contrast
    if r.random() < 0.5: g = g ** r.uniform(0.5, 1.0)  # washed-out prints are light
    return np.clip(g, 0, 1).copy()


def polyline(r, n):
    """A long, nearly straight crack across much of the image, a jagged one, or a short dash."""
    u = r.random()
    L = r.uniform(0.4, 1.4) * n if u < 0.65 else r.uniform(0.03, 0.25) * n
    jag = r.random() < 0.3
    x, y = r.uniform(-0.1, 1.1, 2) * n; a = r.uniform(0, math.pi)
    seg = int(r.integers(12, 30)) if jag else int(r.integers(2, 6)); step = L / seg
    pts = [(x, y)]; a0 = a
    for _ in range(seg):
        a += r.normal(0, 0.35 if jag else 0.1); x += step * math.cos(a); y += step * math.sin(a); pts.append((x, y))
        if jag: a = a0 + 0.6 * (a - a0)  # zigzag, but keep the overall course
    return pts


def sample(r):
    g = background(r)
    n = 2 * S  # strokes are drawn at twice the size, then boxed down (sub-pixel widths)
    base = np.asarray(Image.fromarray((g * 255).astype(np.uint8)).resize((n, n), Image.BICUBIC), np.float32) / 255
    band = Image.new('L', (n, n), 0); db = ImageDraw.Draw(band)  # the label, all strokes; each stroke paints itself
    out = base.copy()
    k = int(r.integers(0, 7)) if r.random() < 0.85 else 0
    for _ in range(k):
        pts = polyline(r, n); w = int(r.integers(2, 9)); look = r.choice(3, p=[0.55, 0.25, 0.2])
        pieces = [pts]
        if r.random() < 0.4:  # broken line
            pieces = [[pts[i], pts[i + 1]] for i in range(len(pts) - 1) if r.random() < 0.7]
        c1 = Image.new('L', (n, n), 0); h1 = Image.new('L', (n, n), 0); d1, e1 = ImageDraw.Draw(c1), ImageDraw.Draw(h1)
        for p in pieces:
            if len(p) < 2: continue
            d1.line(p, fill=255, width=w, joint='curve'); e1.line(p, fill=255, width=w + int(r.integers(4, 9)), joint='curve')
            db.line(p, fill=255, width=w + 8, joint='curve')
        s = np.asarray(c1.filter(ImageFilter.GaussianBlur(r.uniform(0.4, 1.5))), np.float32) / 255
        h = np.asarray(h1.filter(ImageFilter.GaussianBlur(r.uniform(1.0, 2.5))), np.float32) / 255
        h = np.clip(h - s, 0, 1)
        op = r.uniform(0.25, 1.0)  # faint cracks too
        if look == 0:  # emulsion gone: paper white core, sometimes a slightly darker rim
            out = out * (1 - op * s) + r.uniform(0.85, 1.0) * op * s
            if r.random() < 0.4: out = out * (1 - 0.15 * op * h)
        elif look == 1:  # crease: dark core with light edges
            out = out * (1 - 0.5 * op * s) + 0.15 * op * h
        else:  # jagged light core with dark edges
            out = out * (1 - 0.3 * op * h)
            out = out * (1 - op * s) + r.uniform(0.8, 1.0) * op * s
    if r.random() < 0.15:  # blotch
        cx, cy = r.uniform(0.1, 0.9, 2) * n; rad = r.uniform(8, 40); bl = Image.new('L', (n, n), 0); dbl = ImageDraw.Draw(bl)
        for _ in range(3):
            ox, oy = r.normal(0, rad / 2, 2); rr = rad * r.uniform(0.5, 1)
            dbl.ellipse([cx + ox - rr, cy + oy - rr, cx + ox + rr, cy + oy + rr], fill=255); db.ellipse([cx + ox - rr - 2, cy + oy - rr - 2, cx + ox + rr + 2, cy + oy + rr + 2], fill=255)
        s = np.asarray(bl.filter(ImageFilter.GaussianBlur(1)), np.float32) / 255
        out = out * (1 - s) + r.uniform(0.85, 1.0) * s
    if r.random() < 0.3:  # the print's own border: a straight light band along an edge, slightly tilted (not a scratch)
        im = Image.fromarray((np.clip(out, 0, 1) * 255).astype(np.uint8)); neg = ImageDraw.Draw(im)
        side = int(r.integers(4)); w0 = r.uniform(4, 40); tilt = r.uniform(-30, 30); v = int(r.uniform(0.75, 1.0) * 255)
        if side == 0: poly = [(n - w0, 0), (n, 0), (n, n), (n - w0 + tilt, n)]
        elif side == 1: poly = [(0, 0), (w0, 0), (w0 + tilt, n), (0, n)]
        elif side == 2: poly = [(0, 0), (n, 0), (n, w0 + tilt), (0, w0)]
        else: poly = [(0, n - w0), (n, n - w0 + tilt), (n, n), (0, n)]
        neg.polygon(poly, fill=v)
        if r.random() < 0.5:  # flat grey padding beyond it
            d2 = r.uniform(0, 20); neg.polygon([(x + (d2 if side == 0 else -d2 if side == 1 else 0), y + (d2 if side == 3 else -d2 if side == 2 else 0)) for x, y in poly], fill=int(r.uniform(0.4, 0.6) * 255))
        out = np.asarray(im, np.float32) / 255
    out = np.asarray(Image.fromarray((np.clip(out, 0, 1) * 255).astype(np.uint8)).resize((S, S), Image.BOX), np.float32) / 255
    lab = (np.asarray(band.resize((S, S), Image.BOX), np.float32) / 255 > 0.5).astype(np.float32)
    if r.random() < 0.5: out = np.asarray(Image.fromarray((out * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(r.uniform(0.2, 0.8))), np.float32) / 255
    if r.random() < 0.5:  # JPEG blocks
        b = io.BytesIO(); Image.fromarray((np.clip(out, 0, 1) * 255).astype(np.uint8)).save(b, 'JPEG', quality=int(r.integers(40, 90)))
        out = grey(Image.open(b))
    out = out + r.normal(0, r.uniform(0, 0.03), out.shape).astype(np.float32)
    return out.astype(np.float32), lab


def norm(x):
    m = x.mean(axis=(-1, -2), keepdims=True); s = x.std(axis=(-1, -2), keepdims=True) + 1e-3
    return (x - m) / s


class Block(nn.Module):
    def __init__(s, a, b):
        super().__init__(); s.c1 = nn.Conv2d(a, b, 3, padding=1); s.c2 = nn.Conv2d(b, b, 3, padding=1); s.n = nn.GroupNorm(4, b)
    def forward(s, x): return F.relu(s.c2(F.relu(s.n(s.c1(x)))))


class Net(nn.Module):
    """A 5-level UNet (receptive field ~190 px: long cracks are judged over most of a 256 px face)."""
    def __init__(s, c=(16, 24, 32, 48, 64)):
        super().__init__()
        s.d = nn.ModuleList([Block(1, c[0])] + [Block(c[i], c[i + 1]) for i in range(len(c) - 1)])
        s.u = nn.ModuleList([Block(c[i + 1] + c[i], c[i]) for i in reversed(range(len(c) - 1))])
        s.o = nn.Conv2d(c[0], 1, 1)
    def forward(s, x):
        hs = []
        for i, b in enumerate(s.d):
            x = b(x if i == 0 else F.max_pool2d(x, 2)); hs.append(x)
        x = hs.pop()
        for b in s.u:
            h = hs.pop(); x = b(torch.cat([F.interpolate(x, size=h.shape[-2:], mode='bilinear', align_corners=False), h], 1))
        return s.o(x)


def predict(net, g, size):
    """Probability map at the photo's size, the net run on the photo resized to `size` (multiple of 16)."""
    x = np.asarray(Image.fromarray(g).resize((size, size), Image.BICUBIC), np.float32)
    with torch.no_grad():
        p = torch.sigmoid(net(torch.from_numpy(norm(x[None, None]))))[0, 0].numpy()
    return np.asarray(Image.fromarray(p).resize(g.shape[::-1], Image.BILINEAR))


def evaluate(path, sizes=(256, 320, 384)):
    net = Net(); net.load_state_dict(torch.load(path)); net.eval()
    gt = grey(Image.open(f'{T}/scratch_masks/0_7.jpg')) > 127 / 255
    g = grey(Image.open(f'{T}/med_scratch/0_7.jpg'))
    clean = [grey(Image.open(p)) for p in old_photos(held_out=True)]
    for size in sizes:
        p = predict(net, g, size); pc = [predict(net, c, size) for c in clean]
        pr = []
        for th in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            m = p > th; tp = (m & gt).sum()
            fl = np.mean([(q > th).mean() for q in pc]) * 100
            pr.append(f'{th}: P {tp / max(1, m.sum()):.3f} R {tp / gt.sum():.3f} clean {fl:.2f}%')
        print(f'at {size} px:', ' | '.join(pr), flush=True)
        # halves A / B: the two colours of a 128 px checkerboard, as tools/scratches/measure.ts
        yy, xx = np.mgrid[:gt.shape[0], :gt.shape[1]]; A = (yy // 128 + xx // 128) % 2 == 0; m = p > 0.5
        print('  at 0.5, half A / B:', ' / '.join(f'P {(m & gt & H).sum() / max(1, (m & H).sum()):.3f} R {(m & gt & H).sum() / (gt & H).sum():.3f}' for H in (A, ~A)), flush=True)


if __name__ == '__main__' and sys.argv[1:2] == ['--eval']:
    evaluate(sys.argv[2])
elif __name__ == '__main__':
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 25
    net = Net()
    if len(sys.argv) > 2: net.load_state_dict(torch.load(sys.argv[2]))
    print('params', sum(p.numel() for p in net.parameters()), flush=True)
    lr = float(os.environ.get('LR', '2e-3'))
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=1e-4)
    os.makedirs(f'{ROOT}/.data/scr', exist_ok=True)
    t0 = time.time(); step = 0; B = 8
    faces()
    print('backgrounds loaded', f'{time.time() - t0:.0f}s', flush=True)
    while time.time() - t0 < minutes * 60:
        xs, ys = [], []
        for _ in range(B // 2):
            a, b = sample(rng)
            for _ in range(2):
                x0, y0 = rng.integers(0, S - C + 1, 2)
                xs.append(a[y0:y0 + C, x0:x0 + C]); ys.append(b[y0:y0 + C, x0:x0 + C])
        x = torch.from_numpy(norm(np.stack(xs))[:, None]); y = torch.from_numpy(np.stack(ys)[:, None])
        logit = net(x); pr = torch.sigmoid(logit)
        dice = 1 - (2 * (pr * y).sum() + 1) / (pr.sum() + y.sum() + 1)
        loss = F.binary_cross_entropy_with_logits(logit, y, pos_weight=torch.tensor(2.0)) + 0.5 * dice
        frac = min(1.0, (time.time() - t0) / (minutes * 60))
        for gopt in opt.param_groups: gopt['lr'] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        assert torch.isfinite(loss), 'non-finite loss'
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        if step % 25 == 0:
            print(f'step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s', flush=True)
            torch.save(net.state_dict(), f'{ROOT}/.data/scr/net.pt')
    torch.save(net.state_dict(), f'{ROOT}/.data/scr/net.pt')
    print('done', step, flush=True)
