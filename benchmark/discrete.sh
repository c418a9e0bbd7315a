#!/usr/bin/env bash
# Discrete PPO with default flags: CartPole-v1 (5 seeds, 100k steps) and Acrobot-v1 (3 seeds, 500k steps).
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmark/sweep.py --name cartpole_ppo --script ppo_discrete.py --envs CartPole-v1 --seeds 1 2 3 4 5 --jobs 2
python benchmark/sweep.py --name acrobot_ppo --script ppo_discrete.py --envs Acrobot-v1 --seeds 1 2 3 --jobs 2 \
    -- --total-timesteps 500000
python benchmark/summarize.py runs/cartpole_ppo --out benchmark/results/cartpole_ppo --threshold 475 --last 20
python benchmark/summarize.py runs/acrobot_ppo --out benchmark/results/acrobot_ppo --last 20
