#!/usr/bin/env bash
# Everything GPU-related in one go, for a machine with CUDA and PyTorch:
# the CUDA-marked tests (each a real `grade` run) and a timing of grade on the GPU.
# Usage: bash scripts/gpu-check.sh            (uses python3, installs this package)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
$PY - <<'PYEOF'
import torch
print("torch", torch.__version__, "| cuda available:", torch.cuda.is_available(),
      "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no device")
PYEOF
# Install the package (and its `grade` script) without touching the network.
$PY -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
status=0
$PY -m pytest -q -m cuda -p no:cacheprovider tests/test_cuda.py || status=1
for device in cpu cuda; do
  start=$(date +%s.%N)
  grade solutions/ --device $device --format json > /tmp/gpu-check.json || status=1
  end=$(date +%s.%N)
  $PY -c "import json; r=json.load(open('/tmp/gpu-check.json')); print('grade solutions/ --device $device:', r['score'], '/', r['max_score'], 'in %.2f s' % ($end - $start))"
done
start=$(date +%s.%N); $PY -c "import torch; torch.zeros(1, device='cuda')"; end=$(date +%s.%N)
$PY -c "print('python -c import torch + CUDA init: %.2f s' % ($end - $start))"
exit $status
