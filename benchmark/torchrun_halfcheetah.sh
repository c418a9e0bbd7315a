#!/usr/bin/env bash
# Data parallelism learns the same thing (issue 17): ppo_continuous.py on HalfCheetah-v4, 1M steps, 3 seeds,
# under torchrun --nproc_per_node 2, with the flags of the PPO defaults screen's candidate d, whose
# single-process runs (benchmark/ppo_screen.sh, 3 seeds) are the comparison. Those flags, not the defaults,
# because with them 2 ranks run faster than one process on this machine (benchmark/speed.py --ranks 2).
# One run at a time: each uses both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
d="--num-envs 16 --minibatch-size 512 --lr-schedule adaptive --adaptive-lr-target-kl 0.02 --log-std-init -1"
python benchmark/sweep.py --name torchrun_halfcheetah --script ppo_continuous.py --envs HalfCheetah-v4 \
    --seeds 1 2 3 --jobs "${JOBS:-1}" --torchrun 2 --variant "d-torchrun-2=$d" -- --total-timesteps 1000000
python benchmark/summarize.py runs/torchrun_halfcheetah --out benchmark/results/torchrun_halfcheetah --last 20 \
    --title "PPO, 2 ranks under torchrun, " --plot-tags losses/kl losses/clipfrac charts/learning_rate
