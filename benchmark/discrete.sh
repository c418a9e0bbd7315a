#!/usr/bin/env bash
# Discrete PPO with default flags on seeds that no screen used: CartPole-v1 (5 seeds, 100k steps) and
# Acrobot-v1 (3 seeds, 500k steps). Resumable (sweep.py skips finished runs).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
python benchmark/sweep.py --name cartpole_ppo --script ppo_discrete.py --envs CartPole-v1 \
    --seeds 11 12 13 14 15 --jobs "$JOBS"
python benchmark/sweep.py --name acrobot_ppo --script ppo_discrete.py --envs Acrobot-v1 --seeds 11 12 13 \
    --jobs "$JOBS" -- --total-timesteps 500000
python benchmark/summarize.py runs/cartpole_ppo --out benchmark/results/cartpole_ppo --threshold 475 --last 20
python benchmark/summarize.py runs/acrobot_ppo --out benchmark/results/acrobot_ppo --last 20
