#!/usr/bin/env bash
# Everything GPU-related in one go, for a machine with CUDA and PyTorch (no network):
# the CUDA-marked tests (each a real `grade` run; 16 and 32 at once among them), the
# sandbox's namespaces with CUDA (grade doctor, tests/test_sandbox.py), grade timings
# on CPU and GPU, and grade batch on many cores and on the GPU (bench/scaling.py).
# Usage: bash scripts/gpu-check.sh   (PYTHON=... to pick the interpreter)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# A `grade` command that runs this checkout, without installing anything.
bin=$(mktemp -d)
printf '#!/bin/sh\nexec %s -m grader.cli.main "$@"\n' "$(command -v "$PY")" > "$bin/grade"
chmod +x "$bin/grade"
export PATH="$bin:$PATH"
$PY - <<'PYEOF'
import torch
print("torch", torch.__version__, "| cuda available:", torch.cuda.is_available(),
      "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no device")
PYEOF
status=0
$PY -m pytest -q -s -m cuda -p no:cacheprovider tests/test_cuda.py || status=1
HOSTILE_DEVICE=cuda $PY -m pytest -q -m cuda -p no:cacheprovider tests/test_hostile.py || status=1
# The sandbox's namespaces with CUDA: what holds here (the doctor's probe computes
# on the GPU from inside), then the escape attempts and the reference solutions on
# the GPU, as root and as the user nobody (tests/ordinary_user.py builds its venv
# from this Python's packages; GRADER_TEST_PYTHON names an interpreter nobody can run).
grade doctor || status=1
HOSTILE_DEVICE=cuda $PY -m pytest -q -p no:cacheprovider tests/test_sandbox.py || status=1
$PY bench/sandbox.py --runs 20 || status=1
for device in cpu cuda; do
  start=$(date +%s.%N)
  grade solutions/ --device $device --format json > "$bin/out.json" || status=1
  end=$(date +%s.%N)
  $PY -c "import json; r=json.load(open('$bin/out.json')); print('grade solutions/ --device $device:', r['score'], '/', r['max_score'], 'in %.2f s' % ($end - $start))"
done
# Throughput: a class on two cores against every core (target: 0.7 x cores/2), and
# a class of 200 on the GPU (target: under 60 s, every reference at full marks).
$PY bench/scaling.py -n 320 || status=1
$PY bench/scaling.py -n 200 --device cuda --only-all || status=1
start=$(date +%s.%N); $PY -c "import torch"; end=$(date +%s.%N)
$PY -c "print('python -c \"import torch\": %.2f s' % ($end - $start))"
exit $status
