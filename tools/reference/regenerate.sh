#!/bin/sh
# Regenerates every artefact owned by tools/pgdiff_models and tools/reference, from the repo root.
# Byte-reproducible: running it twice leaves `git status` clean.
set -e
cd "$(dirname "$0")/../.."
/usr/bin/python3 -m tools.pgdiff_models.verify
/usr/bin/python3 -m tools.pgdiff_models.make_fixtures
/usr/bin/python3 -m tools.reference.make_goldens
