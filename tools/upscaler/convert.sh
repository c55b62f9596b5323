#!/usr/bin/env bash
# Regenerate public/models/common/upscaler/esrgan-slim-x{2,4}.onnx from the TF.js layers models in the npm packages
# @upscalerjs/esrgan-slim and @upscalerjs/esrgan-medium (MIT), check every conversion against TF.js itself (pure-JS
# CPU backend) and rewrite the unit test's fixture (tests/fixtures/upscaler/tfjs-reference.json).
# Downloads go to the git-ignored .data/upscaler/. The medium models are converted for tools/upscaler/compare.ts
# and the speed comparison only (not shipped). Run from anywhere:
#   bash tools/upscaler/convert.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.data/upscaler"
VERSION="${UPSCALERJS_VERSION:-1.0.0}"
PY="${PYTHON:-/usr/bin/python3}"
OUT="$ROOT/public/models/common/upscaler"
ALL="$CACHE/onnx"
mkdir -p "$CACHE" "$OUT" "$ALL"
cd "$CACHE"
for size in slim medium; do
  TGZ="upscalerjs-esrgan-$size-$VERSION.tgz"
  [ -f "$TGZ" ] || npm pack "@upscalerjs/esrgan-$size@$VERSION" --silent
  mkdir -p "$size" && tar xzf "$TGZ" -C "$size" package/models package/LICENSE package/package.json
  for x in 2 4; do
    "$PY" "$ROOT/tools/upscaler/keras_to_onnx.py" "$size/package/models/x$x/model.json" "$ALL/esrgan-$size-x$x.onnx"
  done
done
TFJS_DIR="${TFJS_DIR:-$CACHE/tfjs}"
if [ ! -d "$TFJS_DIR/node_modules/@tensorflow/tfjs" ]; then
  mkdir -p "$TFJS_DIR"
  (cd "$TFJS_DIR" && { [ -f package.json ] || echo '{"name":"upscaler-cache","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --silent @tensorflow/tfjs@4.22.0)
fi
cd "$ROOT"
# fails (exit 1) when any conversion differs from TF.js by more than 1e-4
TFJS_DIR="$TFJS_DIR" npx tsx tools/upscaler/tfjs-reference.ts "$CACHE" "$ALL" slim-x2 slim-x4 medium-x2 medium-x4
cp "$ALL/esrgan-slim-x2.onnx" "$ALL/esrgan-slim-x4.onnx" "$OUT/"
(cd "$OUT" && sha256sum ./*.onnx && ls -l ./*.onnx)
