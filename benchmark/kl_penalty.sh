#!/usr/bin/env bash
# --objective kl-penalty with its default rate, which is now constant (the PPO paper's algorithm): the
# row of the ablations table (benchmark/ablations.sh) whose adaptive rate fought the penalty. PPO
# (continuous) on HalfCheetah-v4, seeds 1-3 as in that table, 1M steps.
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmark/sweep.py --name kl_penalty_default --script ppo_continuous.py --envs HalfCheetah-v4 \
    --seeds 1 2 3 --jobs "${JOBS:-2}" --variant "kl-penalty=--objective kl-penalty"
python benchmark/summarize.py runs/kl_penalty_default --out benchmark/results/kl_penalty_default --last 20
python benchmark/training_stats.py runs/kl_penalty_default --out benchmark/results/kl_penalty_default_stats.md \
    --tags charts/learning_rate losses/kl losses/kl_penalty_beta losses/clipfrac losses/explained_variance
