#!/usr/bin/env bash
# Everything GPU-related in one go, for a machine with CUDA:
# the CUDA-marked tests and a full grading run on the GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
status=0
$PY -m pytest -q -m cuda -p no:cacheprovider tests || status=1
for seed in 1 2 3; do
  $PY -m grader.cli.main solutions/ --device cuda --seed "$seed" --format json | $PY -c "import json,sys; r=json.load(sys.stdin); print('solutions on cuda, seed', r['seed'], r['score'], '/', r['max_score']); sys.exit(r['score'] != r['max_score'])" || status=1
done
$PY -m grader.cli.main exercises/ --device cuda --format json | $PY -c "import json,sys; r=json.load(sys.stdin); print('stubs on cuda', r['score']); sys.exit(r['score'] != 0)" || status=1
exit $status
