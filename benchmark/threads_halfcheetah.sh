#!/usr/bin/env bash
# Issue 44: torch on the process's cores changes the order of floating-point sums. Do the defaults
# still train as before? ppo_continuous.py's defaults on HalfCheetah-v4, 1M steps, the fresh seeds
# 11-13 (fresh_ppo.md: 5909 +- 1064 over seeds 11-15, with one thread), now with every core of the
# process: the runs must end within that spread. One run at a time (each uses every core).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="$(getconf _NPROCESSORS_ONLN)"  # every core, as the script's own default
python benchmark/sweep.py --name threads_halfcheetah --script ppo_continuous.py --envs HalfCheetah-v4 \
    --seeds 11 12 13 --jobs 1
python benchmark/summarize.py runs/threads_halfcheetah --out benchmark/results/threads_halfcheetah \
    --last 20
