#!/usr/bin/env bash
# trpo_discrete.py with default flags (issue 37): CartPole-v1 (5 seeds, 100k steps), its training speed beside
# ppo_discrete.py's (both with their defaults, in one run of speed.py) and Acrobot-v1 (3 seeds, 500k steps).
# The defaults were chosen on seeds 101-102 (benchmark/trpo_discrete_screen.sh); these are seeds 1-5.
# STAGE=cartpole, speed, acrobot or eval runs one part; one run at a time unless JOBS says otherwise. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-1}"
STAGE="${STAGE:-all}"
if [[ "$STAGE" == cartpole || "$STAGE" == all ]]; then
    python benchmark/sweep.py --name cartpole_trpo --script trpo_discrete.py --envs CartPole-v1 \
        --seeds 1 2 3 4 5 --jobs "$JOBS"
    python benchmark/summarize.py runs/cartpole_trpo --out benchmark/results/cartpole_trpo --threshold 475 --last 20 \
        --title "trpo_discrete.py, " --plot-tags losses/kl losses/backtracks losses/explained_variance
fi
if [[ "$STAGE" == speed || "$STAGE" == all ]]; then  # nothing else running: it times wall clock
    python benchmark/speed.py --only ppo_discrete trpo_discrete --min-steps 50000 \
        --out benchmark/results/speed_trpo_discrete
fi
if [[ "$STAGE" == acrobot || "$STAGE" == all ]]; then
    python benchmark/sweep.py --name acrobot_trpo --script trpo_discrete.py --envs Acrobot-v1 --seeds 1 2 3 \
        --jobs "$JOBS" -- --total-timesteps 500000
    python benchmark/summarize.py runs/acrobot_trpo --out benchmark/results/acrobot_trpo --last 20 \
        --title "trpo_discrete.py, " --plot-tags losses/kl losses/backtracks losses/explained_variance
fi
if [[ "$STAGE" == eval || "$STAGE" == all ]]; then  # RL Zoo's protocol: the final policy, most probable action
    bash benchmark/eval_runs.sh benchmark/results/cartpole_trpo_eval.md trpo_discrete.py runs/cartpole_trpo/*
fi
