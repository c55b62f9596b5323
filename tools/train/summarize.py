#!/usr/bin/env python3
"""Print a markdown summary of a training run's log.json (loss curve in windows, wall time, steps).
  /usr/bin/python3 tools/train/summarize.py tools/train/runs/prior64 [window_steps]"""
import json, os, sys

run = sys.argv[1]
win = int(sys.argv[2]) if len(sys.argv) > 2 else 100
j = json.load(open(os.path.join(run, 'log.json')))
log = j['log']  # [step, wall_s, mean loss over the last log interval]
print(f"- {j['params']:,} parameters, batch {j['batch']}, lr {j['lr']}, {j['step']} steps in {j['wall_s'] / 60:.1f} min "
      f"({j['wall_s'] / max(1, j['step']):.2f} s/step on one shared CPU core)")
rows, cur, last = [], [], 0
for step, wall, loss in log:
    cur.append(loss)
    if step - last >= win or step == log[-1][0]:
        rows.append((last + 1, step, sum(cur) / len(cur), wall))
        cur, last = [], step
print('\n| steps | mean training loss | wall time (min) |\n|---|---|---|')
for a, b, l, w in rows:
    print(f'| {a}-{b} | {l:.4f} | {w / 60:.1f} |')
vl = os.path.join(run, 'val.json')
if os.path.exists(vl):
    print('\nheld-out epsilon MSE (EMA):', json.dumps(json.load(open(vl))))
ev = os.path.join(run, 'eval.json')
if os.path.exists(ev):
    print('\nheld-out evaluation:', json.dumps(json.load(open(ev))))
