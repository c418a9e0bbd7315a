#!/usr/bin/env bash
# Data parallelism learns the same thing (issue 17): ppo_continuous.py on HalfCheetah-v4 with default flags,
# 1M steps, 3 seeds, under torchrun --nproc_per_node 2, against the single-process runs of
# benchmark/halfcheetah_ppo.sh (variant "default", same flags). One run at a time: each uses both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmark/sweep.py --name torchrun_halfcheetah --script ppo_continuous.py --envs HalfCheetah-v4 \
    --seeds 1 2 3 --jobs "${JOBS:-1}" --torchrun 2 --variant "torchrun-2=" -- --total-timesteps 1000000
python benchmark/summarize.py runs/torchrun_halfcheetah --out benchmark/results/torchrun_halfcheetah --last 20 \
    --title "PPO, 2 ranks under torchrun, " --plot-tags losses/kl losses/clipfrac
