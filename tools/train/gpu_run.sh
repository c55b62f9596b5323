#!/usr/bin/env bash
# The GPU training run for the bundled set (one script, about 11 minutes on one H100; see docs/training.md).
# Needs: python3 with torch (CUDA) + numpy + PIL + scipy + onnx; the carried data file .data/utk64_carry.npz
# (54 MB, made by tools/train/pack.py on the CPU machine: all 23,317 UTKFace faces at 64x64, JPEG q92,
# split flags and sharpness scores). Writes tools/train/runs/gpu/{prior,restorer}/ and ONNX files in $OUT
# (default $OUT or tools/train/runs/gpu/export). Usage:
#   bash tools/train/gpu_run.sh                # PRIOR_MIN=8 RESTORER_MIN=2 DEVICE=cuda by default
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
PRIOR_MIN=${PRIOR_MIN:-8}
RESTORER_MIN=${RESTORER_MIN:-2}
RUN=${RUN:-tools/train/runs/gpu}
EXPORT=${OUT:-$RUN/export}
DATA=${DATA:-.data/utk64_carry.npz}
WORK=${WORK:-.data/gpu}
WORKERS=${WORKERS:-10}
SAMPLE_N=${SAMPLE_N:-16}
SAMPLE_STEPS=${SAMPLE_STEPS:-100}
mkdir -p "$RUN" "$EXPORT"
t0=$(date +%s)
$PY tools/train/pack.py --from-carry "$DATA" "$WORK"
$PY tools/train/prior.py --device "$DEVICE" --threads 8 --run "$RUN/prior" --data "$WORK/utk64_train.npy" \
  --config tools/train/gpu_prior.json --batch 128 --lr 2e-4 --warmup 200 --ema 0.9995 --minutes "$PRIOR_MIN" \
  --ckpt-every 1000 --log-every 100 2>&1 | tee "$RUN/prior.log"
$PY tools/train/restorer.py --device "$DEVICE" --threads 4 --workers "$WORKERS" --run "$RUN/restorer" \
  --hi "$WORK/utk64_train.npy" --lo "$WORK/utk64_train.npy" --val-hi "$WORK/utk64_val.npy" --val-lo "$WORK/utk64_val.npy" \
  --config tools/train/gpu_restorer.json --batch 64 --lr 3e-4 --minutes "$RESTORER_MIN" --ckpt-every 500 --log-every 50 \
  2>&1 | tee "$RUN/restorer.log"
$PY tools/train/prior.py --run "$RUN/prior" --export "$EXPORT/prior.onnx" --samples "$EXPORT/samples.png" --sample-n "$SAMPLE_N" --sample-steps "$SAMPLE_STEPS"
$PY tools/train/restorer.py --run "$RUN/restorer" --export "$EXPORT/restorer.onnx" --eval \
  --val-hi "$WORK/utk64_val.npy" --val-lo "$WORK/utk64_val.npy"
for f in "$EXPORT/prior.onnx" "$EXPORT/restorer.onnx"; do
  s=$(stat -c %s "$f"); echo "$f $s bytes"
  if [ "$s" -ge 16777216 ]; then echo "ERROR: $f is over 16 MiB" >&2; exit 1; fi
done
echo "gpu_run done in $(( $(date +%s) - t0 )) s"
