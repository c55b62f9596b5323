"""Experiment (not used by the app): a small learned scratch detector, trained on synthetic cracks over UTKFace faces.

  /usr/bin/python3 tools/scratches/cnn_experiment.py MINUTES [INIT.pt]      # needs .data/lat256/img_train_*.npy
  /usr/bin/python3 tools/scratches/cnn_experiment.py --eval NET.pt          # precision/recall on old_photos/med_scratch/0_7.jpg

Results are in workers/scratches/README.md ("What was tried"). Writes .data/scr/net.pt.
"""
import glob, math, os, sys, time, json
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter
torch.set_num_threads(1)
rng = np.random.default_rng(0)
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
_faces = None


def faces():
    """Training backgrounds: the first 512 faces of six 256 px training chunks (tools/train/encode_latents.py)."""
    global _faces
    if _faces is None:
        chunks = sorted(glob.glob(f'{ROOT}/.data/lat256/img_train_0[0-3][0-9].npy'))[:6]
        _faces = np.concatenate([np.load(c, mmap_mode='r')[:512] for c in chunks])  # (N,3,256,256) uint8
    return _faces


S = 256

def background(r):
    im = faces()[r.integers(len(faces()))].transpose(1, 2, 0).astype(np.float32) / 255
    g = im @ np.array([0.299, 0.587, 0.114], np.float32)
    if r.random() < 0.5:  # zoom in (faces fill the frame more in old portraits)
        z = r.uniform(1.0, 1.6); n = int(S / z); x0, y0 = r.integers(0, S - n + 1, 2)
        g = np.asarray(Image.fromarray(g[y0:y0 + n, x0:x0 + n]).resize((S, S), Image.BICUBIC))
    if r.random() < 0.5: g = g[:, ::-1]
    lo, hi = r.uniform(0, 0.25), r.uniform(0.7, 1.0)
    g = lo + (hi - lo) * g  # faded contrast
    g = np.clip(g, 0, 1)
    return g.copy()

def polyline(r, n=512):
    # long, nearly straight crack across much of the image, or a short dash
    if r.random() < 0.7:
        L = r.uniform(0.4, 1.4) * n
    else:
        L = r.uniform(0.03, 0.2) * n
    x, y = r.uniform(-0.1, 1.1, 2) * n; a = r.uniform(0, math.pi)
    pts = [(x, y)]; seg = int(r.integers(2, 6)); step = L / seg
    for _ in range(seg):
        a += r.normal(0, 0.12); x += step * math.cos(a); y += step * math.sin(a); pts.append((x, y))
    return pts

def sample(r):
    g = background(r)
    n = 2 * S
    img = Image.fromarray((g * 255).astype(np.uint8)).resize((n, n), Image.BICUBIC)
    stroke = Image.new('L', (n, n), 0); band = Image.new('L', (n, n), 0)
    ds, db = ImageDraw.Draw(stroke), ImageDraw.Draw(band)
    k = int(r.integers(0, 8)) if r.random() < 0.85 else 0
    for _ in range(k):
        pts = polyline(r); w = int(r.integers(2, 8)); val = int(r.uniform(0.2, 1.0) * 255)
        if r.random() < 0.4:  # broken line: draw pieces
            for i in range(len(pts) - 1):
                if r.random() < 0.7: ds.line([pts[i], pts[i + 1]], fill=val, width=w); db.line([pts[i], pts[i + 1]], fill=255, width=w + 8)
        else:
            ds.line(pts, fill=val, width=w, joint='curve'); db.line(pts, fill=255, width=w + 8)
    if r.random() < 0.15:  # blotch
        cx, cy = r.uniform(0.1, 0.9, 2) * n; rad = r.uniform(8, 40)
        for _ in range(3):
            ox, oy = r.normal(0, rad / 2, 2); rr = rad * r.uniform(0.5, 1)
            ds.ellipse([cx + ox - rr, cy + oy - rr, cx + ox + rr, cy + oy + rr], fill=230); db.ellipse([cx + ox - rr - 3, cy + oy - rr - 3, cx + ox + rr + 3, cy + oy + rr + 3], fill=255)
    if r.random() < 0.3:  # the print's own border: a straight light band along an edge, slightly tilted (not a scratch)
        neg = ImageDraw.Draw(img); side = int(r.integers(4)); w0 = r.uniform(4, 40); tilt = r.uniform(-30, 30); v = int(r.uniform(0.75, 1.0) * 255)
        e = [(0, 0), (n, 0), (n, n), (0, n)]
        if side == 0: poly = [(n - w0, 0), (n, 0), (n, n), (n - w0 + tilt, n)]
        elif side == 1: poly = [(0, 0), (w0, 0), (w0 + tilt, n), (0, n)]
        elif side == 2: poly = [(0, 0), (n, 0), (n, w0 + tilt), (0, w0)]
        else: poly = [(0, n - w0), (n, n - w0 + tilt), (n, n), (0, n)]
        neg.polygon(poly, fill=v)
        if r.random() < 0.5:  # grey padding beyond it
            d2 = int(r.uniform(0, 20)); neg.polygon([(x + (d2 if side == 0 else -d2 if side == 1 else 0), y + (d2 if side == 3 else -d2 if side == 2 else 0)) for x, y in poly], fill=int(r.uniform(0.4, 0.6) * 255))
    s = np.asarray(stroke.filter(ImageFilter.GaussianBlur(r.uniform(0.3, 1.0))), np.float32) / 255
    base = np.asarray(img, np.float32) / 255
    white = r.uniform(0.85, 1.0)
    dark = r.random() < 0.15
    out = base * (1 - s) + (0.05 if dark else white) * s
    out = np.asarray(Image.fromarray((np.clip(out, 0, 1) * 255).astype(np.uint8)).resize((S, S), Image.BOX), np.float32) / 255
    lab = (np.asarray(band.resize((S, S), Image.BOX), np.float32) / 255 > 0.5).astype(np.float32)
    if r.random() < 0.5: out = np.asarray(Image.fromarray((out * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(r.uniform(0.2, 0.8))), np.float32) / 255
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
    def __init__(s, c=(16, 24, 32, 48)):
        super().__init__()
        s.d = nn.ModuleList([Block(1, c[0]), Block(c[0], c[1]), Block(c[1], c[2]), Block(c[2], c[3])])
        s.u = nn.ModuleList([Block(c[3] + c[2], c[2]), Block(c[2] + c[1], c[1]), Block(c[1] + c[0], c[0])])
        s.o = nn.Conv2d(c[0], 1, 1)
    def forward(s, x):
        hs = []
        for i, b in enumerate(s.d):
            x = b(x if i == 0 else F.max_pool2d(x, 2)); hs.append(x)
        x = hs.pop()
        for b in s.u:
            h = hs.pop(); x = b(torch.cat([F.interpolate(x, size=h.shape[-2:], mode='bilinear', align_corners=False), h], 1))
        return s.o(x)

def evaluate(path):
    T = f'{ROOT}/../shared/testdata/old_photos'
    net = Net(); net.load_state_dict(torch.load(path)); net.eval()
    gt = np.asarray(Image.open(f'{T}/scratch_masks/0_7.jpg').convert('L')) > 127
    im = Image.open(f'{T}/med_scratch/0_7.jpg').convert('L')
    for size in (256, 384, 512):
        g = np.asarray(im.resize((size, size), Image.BICUBIC), np.float32) / 255
        with torch.no_grad():
            p = torch.sigmoid(net(torch.from_numpy(norm(g[None, None]))))[0, 0].numpy()
        p = np.asarray(Image.fromarray(p).resize(im.size, Image.BILINEAR))
        pr = []
        for th in (0.2, 0.3, 0.5, 0.7, 0.9):
            m = p > th; tp = (m & gt).sum()
            pr.append((th, round(float(tp / max(1, m.sum())), 3), round(float(tp / gt.sum()), 3)))
        print(f'run at {size} px: (threshold, precision, recall)', pr, flush=True)


if __name__ == '__main__' and sys.argv[1:2] == ['--eval']:
    evaluate(sys.argv[2])
elif __name__ == '__main__':
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 25
    net = Net()
    if len(sys.argv) > 2: net.load_state_dict(torch.load(sys.argv[2]))
    print('params', sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.AdamW(net.parameters(), float(os.environ.get('LR', '2e-3')), weight_decay=1e-4)
    os.makedirs(f'{ROOT}/.data/scr', exist_ok=True)
    t0 = time.time(); step = 0; B = 8
    while time.time() - t0 < minutes * 60:
        xs, ys = [], []
        for _ in range(B // 2):
            a, b = sample(rng)
            for _ in range(2):
                x0, y0 = rng.integers(0, S - 128 + 1, 2)
                xs.append(a[y0:y0 + 128, x0:x0 + 128]); ys.append(b[y0:y0 + 128, x0:x0 + 128])
        x = torch.from_numpy(norm(np.stack(xs))[:, None]); y = torch.from_numpy(np.stack(ys)[:, None])
        loss = F.binary_cross_entropy_with_logits(net(x), y, pos_weight=torch.tensor(2.0))
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        if step % 20 == 0:
            print(f'step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s', flush=True)
            torch.save(net.state_dict(), f'{ROOT}/.data/scr/net.pt')
    torch.save(net.state_dict(), f'{ROOT}/.data/scr/net.pt')
    print('done', step, flush=True)
