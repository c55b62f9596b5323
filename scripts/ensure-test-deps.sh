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
# Python tooling tests (training smoke runs, VJP tool) use Debian's torch, onnx, numpy, PIL, scipy
if ! /usr/bin/python3 -c "import torch, onnx, numpy, PIL, scipy" >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing Debian python3-torch, python3-onnx, ... for the tooling tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision python3-onnx python3-pil python3-numpy python3-scipy >/dev/null
  else
    echo "The tooling tests need: sudo apt-get install -y python3-torch python3-onnx python3-pil python3-numpy python3-scipy" >&2
    exit 1
  fi
fi
if [ ! -d node_modules ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
