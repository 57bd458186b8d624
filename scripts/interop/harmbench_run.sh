#!/usr/bin/env bash
# Re-make tests/interop/fixtures/harmbench with HarmBench's own scripts, unchanged, at a
# pinned commit, against jbgrade's reference target over HTTP.
#
#   scripts/interop/harmbench_run.sh [OUT_DIR]
#
# HARMBENCH_DIR: a checkout of github.com/centerforaisafety/HarmBench (cloned at
#   $HB_COMMIT when absent). HB_VENV: a throwaway virtualenv (default /tmp/tools/harmbench),
#   never jbgrade's. HarmBench is not on PyPI; its requirements.txt pulls vLLM (CUDA torch),
#   so the venv gets the CPU torch wheel and the light packages its API-model path imports
#   (versions of mid-2024, as at the commit: openai 1.34.0, anthropic 0.34.2), and two
#   GPU/image packages it imports at module level but never calls on this path are
#   import stubs (scripts/interop/harmbench_stub: vllm, torchvision).
#
# Pipeline (HarmBench's README, steps 1 and 2):
#   DirectRequest.generate_test_cases + save_test_cases  -> test_cases.json
#   generate_completions.py --model_name gpt-3.5-turbo-1106 -> completions JSON
# gpt-3.5-turbo-1106 is HarmBench's own configs/model_configs/models.yaml entry (its GPT
# API-model class, openai SDK); OPENAI_BASE_URL sends it to the reference target, which
# serves that model name (scripts/interop/harmbench-reference.yaml). Step 3 (classifier,
# cais/HarmBench-Llama-2-13b-cls on vLLM) needs a GPU and 26 GB of weights: not run, so the
# completions carry no `label` and the importer records them as unclassified.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/tests/interop/fixtures/harmbench}
HB_COMMIT=${HB_COMMIT:-8e1604d1171fe8a48d8febecd22f600e462bdcdd}
HARMBENCH_DIR=${HARMBENCH_DIR:-/tmp/tools/HarmBench}
HB_VENV=${HB_VENV:-/tmp/tools/harmbench}
JB=${JBGRADE:-$ROOT/.venv/bin/jbgrade}
PORT=${PORT:-8798}
TORCH_WHEEL=${TORCH_WHEEL:-torch==2.13.0}  # a CPU build; a local wheel path works too

if [ ! -d "$HARMBENCH_DIR" ]; then
  git clone -q https://github.com/centerforaisafety/HarmBench "$HARMBENCH_DIR"
fi
# A git checkout is moved to $HB_COMMIT; an exported tree (git archive of that commit,
# e.g. from a fork's history) names its commit in a .commit file.
if git -C "$HARMBENCH_DIR" rev-parse HEAD > /dev/null 2>&1; then
  git -C "$HARMBENCH_DIR" checkout -q "$HB_COMMIT"
  HB_SOURCE="git checkout"
else
  [ "$(cat "$HARMBENCH_DIR/.commit")" = "$HB_COMMIT" ] || { echo "$HARMBENCH_DIR is not HarmBench $HB_COMMIT" >&2; exit 2; }
  HB_SOURCE="tree export of the commit (.commit)"
fi

if [ ! -x "$HB_VENV/bin/python" ]; then
  python3.11 -m venv "$HB_VENV"
  "$HB_VENV/bin/pip" install -q "$TORCH_WHEEL" 'transformers==4.57.6' accelerate pyyaml tqdm pillow \
    'openai==1.34.0' 'httpx<0.28' 'anthropic==0.34.2' 'mistralai<1' google-generativeai ray fschat \
    huggingface_hub pandas
fi

"$JB" target serve --port "$PORT" --config "$ROOT/scripts/interop/harmbench-reference.yaml" > /tmp/hb-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER' EXIT
sleep 3

WORK=$(mktemp -d)
cp "$ROOT/scripts/interop/harmbench_canary_behaviors.csv" "$WORK/behaviors.csv"
export PYTHONPATH=$ROOT/scripts/interop/harmbench_stub
export OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1
cd "$HARMBENCH_DIR"
# Step 1 through HarmBench's own DirectRequest method (its generate_test_cases.py wrapper
# imports eval_utils, which loads spaCy's en_core_web_sm model at import time: a model
# download, and only needed for its copyright hashing). These lines are that script's
# main() for DirectRequest, calling the same functions.
"$HB_VENV/bin/python" -u - "$WORK" <<'PY'
import csv, sys, yaml
from baselines import get_method_class, init_method
work = sys.argv[1]
with open("configs/method_configs/DirectRequest_config.yaml") as f:
    cfg = yaml.full_load(f)
method_config = cfg["default_method_hyperparameters"] or {}
method_config.update(cfg["default"])
with open(f"{work}/behaviors.csv", encoding="utf-8") as f:
    behaviors = list(csv.DictReader(f))
method = init_method(get_method_class("DirectRequest"), method_config)
test_cases, logs = method.generate_test_cases(behaviors=behaviors, verbose=False)
method.save_test_cases(f"{work}/test_cases", test_cases, logs, method_config=method_config)
PY
"$HB_VENV/bin/python" -u generate_completions.py --model_name gpt-3.5-turbo-1106 \
  --behaviors_path "$WORK/behaviors.csv" --test_cases_path "$WORK/test_cases/test_cases.json" \
  --save_path "$WORK/completions/gpt-3.5-turbo-1106.json" --max_new_tokens 256

mkdir -p "$OUT"
cp "$WORK/behaviors.csv" "$OUT/behaviors.csv"
cp "$WORK/test_cases/test_cases.json" "$OUT/test_cases.json"
cp "$WORK/completions/gpt-3.5-turbo-1106.json" "$OUT/completions.json"
{
  echo "harmbench_commit: $HB_COMMIT"
  echo "harmbench_source: $HB_SOURCE"
  echo "commands:"
  echo "  - HarmBench DirectRequest: init_method + generate_test_cases + save_test_cases on behaviors.csv"
  echo "  - OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1 python generate_completions.py --model_name gpt-3.5-turbo-1106 --behaviors_path behaviors.csv --test_cases_path test_cases.json --save_path completions.json --max_new_tokens 256"
  echo "python: $("$HB_VENV/bin/python" -V 2>&1)"
  echo "packages:"
  "$HB_VENV/bin/pip" list --format=freeze 2>/dev/null \
    | grep -iE '^(torch|transformers|openai|httpx|anthropic|accelerate|pyyaml|fschat|ray|mistralai|google-generativeai)==' \
    | sed 's/^/  - /'
  echo "stubbed: [vllm, torchvision]  # import-only stubs, scripts/interop/harmbench_stub"
  echo "target: $("$JB" --version 2>/dev/null | tail -1), target serve --config scripts/interop/harmbench-reference.yaml"
  echo "date: $(date -u +%Y-%m-%d)"
} > "$OUT/run.yaml"
echo "HarmBench fixture written to $OUT"
