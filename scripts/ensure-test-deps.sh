#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages: Debian's Chromium (headless WebGPU).
# Never `npx playwright install`: it downloads a browser build, which cannot reach this network.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing Debian chromium for the e2e tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The e2e tests need Debian's chromium at /usr/bin/chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
if [ ! -d node_modules ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
