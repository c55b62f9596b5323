#!/usr/bin/env bash
# Regenerate public/models/common/identity/faceapi-resnet{,-vjp}.onnx from @vladmandic/face-api (MIT),
# npm-packed on demand into the git-ignored tools/identity/.cache/.
#   FIXTURES=1  also rebuilds tests/fixtures/identity/vjp-faceapi.json (float64 PyTorch autograd + FD)
#   WITH_TFJS=1 also rebuilds tests/fixtures/identity/faceapi-embeddings.json by running face-api itself
#               (@tensorflow/tfjs pure-JS CPU backend, installed into the cache, never a project dependency)
set -euo pipefail
cd "$(dirname "$0")/../.."
VER=1.7.15
CACHE=tools/identity/.cache
OUT=public/models/common/identity
FIX=tests/fixtures/identity
PY=/usr/bin/python3
mkdir -p "$CACHE" "$OUT"
TGZ="$CACHE/vladmandic-face-api-$VER.tgz"
[ -f "$TGZ" ] || (cd "$CACHE" && npm pack "@vladmandic/face-api@$VER")
tar xzf "$TGZ" -C "$CACHE" package/LICENSE package/model/face_recognition_model.bin \
  package/model/face_recognition_model-weights_manifest.json package/dist/face-api.esm-nobundle.js
MANIFEST="$CACHE/package/model/face_recognition_model-weights_manifest.json"
$PY tools/identity/faceapi_resnet.py "$MANIFEST" "$OUT"
if [ "${FIXTURES:-0}" = 1 ]; then
  $PY tools/identity/faceapi_resnet.py "$MANIFEST" --fixtures "$FIX"
fi
if [ "${WITH_TFJS:-0}" = 1 ]; then
  [ -d "$CACHE/tfjs/node_modules/@tensorflow/tfjs-backend-wasm" ] || \
    npm install --prefix "$CACHE/tfjs" --no-save --ignore-scripts @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
  npx tsx tools/identity/faceapi-reference.ts
fi
(cd "$OUT" && sha256sum ./faceapi-resnet*.onnx && ls -l ./faceapi-resnet*.onnx)
