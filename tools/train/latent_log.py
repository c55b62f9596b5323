#!/usr/bin/env python3
"""The latent prior's training log as markdown, into docs/training-latent.md between the LOG markers.

  /usr/bin/python3 tools/train/latent_log.py [--run .data/runs/latent256] [--doc docs/training-latent.md] [--every 200]

Rows: step, wall time, training eps MSE (mean over the logged window, unweighted), and the held-out eps MSE of the EMA
weights at t = 25, 100, 250, 500, 750, 950 (128 held-out faces, fixed noise) where measured.
"""
from __future__ import annotations

import argparse
import json
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def table(log: dict, every: int) -> str:
    rows = ['| step | wall (h) | train eps MSE | held-out t=25 | 100 | 250 | 500 | 750 | 950 | mean |', '|---|---|---|---|---|---|---|---|---|---|']
    vals = {v[0]: v[2] for v in log.get('val_log', [])}
    seen = set()
    for step, wall, loss in log.get('log', []):
        if step % every and step not in vals:
            continue
        v = vals.get(step)
        cells = [f"{v[k]:.4f}" if v else '' for k in ('t25', 't100', 't250', 't500', 't750', 't950', 'mean')]
        rows.append(f"| {step} | {wall / 3600:.2f} | {loss:.4f} | " + ' | '.join(cells) + ' |')
        seen.add(step)
    return '\n'.join(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default=os.path.join(ROOT, '.data', 'runs', 'latent256'))
    ap.add_argument('--doc', default=os.path.join(ROOT, 'docs', 'training-latent.md'))
    ap.add_argument('--every', type=int, default=200)
    a = ap.parse_args()
    log = json.load(open(os.path.join(a.run, 'log.json')))
    head = (f"Run: {log['params']:,} parameters, batch {log['batch']}, lr {log['lr']}, EMA {log['ema_decay']}, "
            f"min-SNR gamma {log['min_snr']}; {log['data']:,} training latents when last written; "
            f"step {log['step']}, {log['wall_s'] / 3600:.2f} h of wall time (2-core machine shared with development).")
    sched = log.get('schedule_log') or [[0, 'linear']]
    head += ' Noise schedule: ' + ', '.join(f"{name} from step {step}" for step, name in sched) + (
        '; held-out losses at the same t are not comparable across a schedule switch (different noise levels).'
        if len(sched) > 1 else '.')
    block = f"<!-- LOG START -->\n{head}\n\n{table(log, a.every)}\n<!-- LOG END -->"
    doc = open(a.doc).read()
    doc = re.sub(r'<!-- LOG START -->.*<!-- LOG END -->', lambda _: block, doc, flags=re.S)
    open(a.doc, 'w').write(doc)
    print(block)


if __name__ == '__main__':
    main()
