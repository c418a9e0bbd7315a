#!/usr/bin/env bash
# The README's headline results, on seeds that no screen touched: `bash benchmark/fresh_seeds.sh ppo`
# runs PPO (continuous, defaults; Humanoid with --no-value-clip, the users' command) on the five v4
# MuJoCo tasks at 1M steps, seeds 21-25; `... trpo` runs TRPO (defaults) on them, seeds 21-23, and
# evaluates the final policies with the mean action (as sb3-contrib's published results do). Seed
# by seed, so that a partial sweep covers every task; a second invocation resumes it (sweep.py skips
# finished runs, and resumes unfinished ones from their checkpoints).
# The previous defaults' results (fresh_ppo, seeds 11-15; fresh_trpo, seeds 11-13) are this script's
# at commit fe6750f.
set -euo pipefail
cd "$(dirname "$0")/.."
MUJOCO="HalfCheetah-v4 Hopper-v4 Walker2d-v4 Ant-v4"
sweep() { python benchmark/sweep.py --jobs "${JOBS:-2}" "$@"; }
if [ "${1:-}" = ppo ]; then
    for seed in 21 22 23 24 25; do
        sweep --name fresh21_ppo --script ppo_continuous.py --envs Humanoid-v4 --seeds $seed \
            -- --no-value-clip
        sweep --name fresh21_ppo --script ppo_continuous.py --envs $MUJOCO --seeds $seed
    done
    python benchmark/summarize.py runs/fresh21_ppo --out benchmark/results/fresh21_ppo --last 20 \
        --plot-tags charts/learning_rate losses/kl losses/clipfrac
    python benchmark/training_stats.py runs/fresh21_ppo --out benchmark/results/fresh21_ppo_stats.md \
        --tags losses/update_undone losses/kl charts/learning_rate losses/clipfrac
elif [ "${1:-}" = trpo ]; then
    for seed in 21 22 23; do
        sweep --name fresh21_trpo --script trpo_continuous.py --envs $MUJOCO Humanoid-v4 --seeds $seed
    done
    python benchmark/summarize.py runs/fresh21_trpo --out benchmark/results/fresh21_trpo --last 20
    python benchmark/training_stats.py runs/fresh21_trpo --out benchmark/results/fresh21_trpo_stats.md \
        --tags losses/kl losses/step_accepted losses/backtracks
    bash benchmark/eval_runs.sh benchmark/results/fresh21_trpo_eval.md trpo_continuous.py \
        runs/fresh21_trpo/*/
else
    echo "usage: bash benchmark/fresh_seeds.sh ppo|trpo" >&2
    exit 2
fi
