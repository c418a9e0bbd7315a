#!/usr/bin/env bash
# The README's headline results on seeds that no screen used (the screens used seeds 1-5): PPO
# (continuous, defaults; Humanoid with --no-value-clip) on the five v4 MuJoCo tasks at 1M steps,
# seeds 11-15, and TRPO (defaults) on the same tasks, seeds 11-13. Seed by seed, so that a partial
# sweep covers every task; a second invocation resumes it (sweep.py skips finished runs).
set -euo pipefail
cd "$(dirname "$0")/.."
MUJOCO="HalfCheetah-v4 Hopper-v4 Walker2d-v4 Ant-v4"
for seed in 11 12 13 14 15; do
    python benchmark/sweep.py --name fresh_ppo --script ppo_continuous.py --envs $MUJOCO --seeds $seed \
        --jobs "${JOBS:-2}"
    python benchmark/sweep.py --name fresh_ppo --script ppo_continuous.py --envs Humanoid-v4 --seeds $seed \
        --jobs "${JOBS:-2}" -- --no-value-clip
done
for seed in 11 12 13; do
    python benchmark/sweep.py --name fresh_trpo --script trpo_continuous.py --envs $MUJOCO Humanoid-v4 \
        --seeds $seed --jobs "${JOBS:-2}"
done
python benchmark/summarize.py runs/fresh_ppo --out benchmark/results/fresh_ppo --last 20
python benchmark/summarize.py runs/fresh_trpo --out benchmark/results/fresh_trpo --last 20
python benchmark/training_stats.py runs/fresh_ppo --tags losses/update_undone losses/kl charts/learning_rate \
    losses/clipfrac --out benchmark/results/fresh_ppo_stats.md
python benchmark/training_stats.py runs/fresh_trpo --tags losses/kl losses/step_accepted losses/backtracks \
    --out benchmark/results/fresh_trpo_stats.md
