#!/usr/bin/env bash
# The final policies of finished runs with the deterministic (mean) action, 10 episodes each (evaluation seed 1,
# the default), as a markdown table in OUT. OUT is replaced only once every run is evaluated: a run without a
# checkpoint stops it with the script's one `error:` line and leaves the previous table.
#   bash benchmark/eval_runs.sh OUT.md SCRIPT.py RUN_DIR...
set -euo pipefail
if (( $# < 3 )); then
    echo "error: usage: bash benchmark/eval_runs.sh OUT.md SCRIPT.py RUN_DIR..." >&2
    exit 2
fi
out=$1 script=$2
shift 2
trap 'rm -f "$out.tmp"' EXIT
{
    echo "| run | evaluation return over 10 episodes, deterministic action, mean +- std |"
    echo "|---|---|"
    for run in "$@"; do
        result=$(python "$script" --eval-checkpoint "$run/checkpoint.pt" --eval-episodes 10 | tail -n 1)
        echo "| $(basename "$run") | ${result##*return } |"
    done
} > "$out.tmp"
mv "$out.tmp" "$out"
