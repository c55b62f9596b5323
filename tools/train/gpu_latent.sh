#!/usr/bin/env bash
# The GPU run for the latent prior (about 12 minutes on one H100/H200; successor of gpu_run.sh). It encodes the carried
# faces with TAEF2 on the GPU (mirrored copies too), continues the committed CPU prior (EMA weights, fresh optimiser)
# at batch 256 for MIN minutes, and writes to $OUT: prior.onnx (EMA, fp32, < 16 MiB), samples.png, log.json and
# latent256-prior.onnx (the new resume point). Carry (made on the CPU machine):
#   /usr/bin/python3 tools/train/encode_latents.py --carry 11000 --out .data/carry     # .data/carry/utk200_carry.npz, ~57 MiB
# and run:  OUT=$OUT bash tools/train/gpu_latent.sh      (MIN=9 by default; DEVICE=cpu runs it on a CPU, for a check)
# Untested on a GPU so far: no device machine was lent to the session that wrote it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
MIN=${MIN:-9}
OUTDIR=${OUT:-.data/gpu-out}
CARRY=${CARRY:-.data/carry/utk200_carry.npz}
WORK=${WORK:-.data/gpu}
mkdir -p "$WORK" "$OUTDIR"
t0=$(date +%s)
$PY tools/train/encode_latents.py --from-carry "$CARRY" --out "$WORK/lat256" --flip 1 --torch --device "$DEVICE" --batch 64
INIT=()
if [ -f tools/train/checkpoints/latent256-prior.onnx ] && [ ! -f "$WORK/run/ckpt.pt" ]; then
  INIT=(--init-ema tools/train/checkpoints/latent256-prior.onnx)
fi
$PY tools/train/latent_prior.py --device "$DEVICE" --threads 8 --run "$WORK/run" --data "$WORK/lat256" --batch 256 \
  --lr 4e-4 --minutes "$MIN" --ckpt-every 500 --val-every 1000 --log-every 100 "${INIT[@]}" 2>&1 | tee "$OUTDIR/train.log"
$PY tools/train/latent_prior.py --run "$WORK/run" --data "$WORK/lat256" --export "$OUTDIR/prior.onnx" --val-loss \
  --samples "$OUTDIR/samples.png" --sample-n 16 2>&1 | tee -a "$OUTDIR/train.log"
$PY tools/train/ship_latent.py --run "$WORK/run" --save-ema "$OUTDIR/latent256-prior.onnx"
cp "$WORK/run/log.json" "$OUTDIR/"
echo "gpu_latent done in $(( $(date +%s) - t0 )) s"
