#!/usr/bin/env bash
# TRPO with default flags on HalfCheetah-v4 and Hopper-v4, 3 seeds, 1M steps.
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmark/sweep.py --name trpo_mujoco --script trpo_continuous.py --envs HalfCheetah-v4 Hopper-v4 \
    --seeds 1 2 3 --jobs 2
python benchmark/summarize.py runs/trpo_mujoco --out benchmark/results/trpo_mujoco --last 20 --title "TRPO " \
    --plot-tags losses/kl losses/backtracks losses/surrogate_improvement losses/explained_variance
python benchmark/training_stats.py runs/trpo_mujoco --out benchmark/results/trpo_mujoco_stats.md \
    --tags losses/kl losses/backtracks losses/step_accepted charts/policy_std losses/explained_variance
