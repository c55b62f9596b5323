#!/usr/bin/env bash
# Export the trained checkpoints into the bundled set and write its manifest:
#   bash tools/train/ship.sh [PRIOR_RUN] [RESTORER_RUN]
# (defaults: the CPU runs tools/train/runs/prior64 and tools/train/runs/restorer64; for the GPU run pass
#  tools/train/runs/gpu/prior tools/train/runs/gpu/restorer). Identity networks are H3's files in
# public/models/common/identity/, referenced by relative path (not copied).
set -euo pipefail
cd "$(dirname "$0")/../.."
PRIOR_RUN=${1:-tools/train/runs/prior64}
RESTORER_RUN=${2:-tools/train/runs/restorer64}
SET=public/models/pgdiff-utk
/usr/bin/python3 tools/train/prior.py --run "$PRIOR_RUN" --export "$SET/prior.onnx"
/usr/bin/python3 tools/train/restorer.py --run "$RESTORER_RUN" --export "$SET/restorer.onnx"
# the parity check files stay out of the public folder
mkdir -p tools/train/runs/export-checks
mv -f "$SET"/*.npy tools/train/runs/export-checks/
npx tsx tools/make-manifest.ts tools/train/pgdiff-utk.spec.json "$SET/manifest.json"
ls -l "$SET"
