#!/usr/bin/env bash
# PPO (continuous) vs TRPO with default flags on HalfCheetah-v4 and Hopper-v4, 3 seeds, 1M steps.
# PPO on HalfCheetah is the sweep of halfcheetah_ppo.sh and TRPO the sweep of trpo.sh; finished runs are
# skipped, so this only runs what is missing. Several copies started at once share the runs out.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
python benchmark/sweep.py --name trpo_mujoco --script trpo_continuous.py --envs HalfCheetah-v4 Hopper-v4 \
    --seeds 1 2 3 --jobs "$JOBS"
python benchmark/sweep.py --name halfcheetah_ppo --script ppo_continuous.py --envs HalfCheetah-v4 --seeds 1 2 3 --jobs "$JOBS"
python benchmark/sweep.py --name hopper_ppo --script ppo_continuous.py --envs Hopper-v4 --seeds 1 2 3 --jobs "$JOBS"
python benchmark/summarize.py ppo=runs/halfcheetah_ppo ppo=runs/hopper_ppo trpo=runs/trpo_mujoco \
    --out benchmark/results/ppo_vs_trpo --last 20 --title "PPO vs TRPO, " \
    --plot-tags charts/policy_std losses/explained_variance
