#!/usr/bin/env bash
# The users' command with a 10M budget (issue 15): python ppo_continuous.py --env-id Humanoid-v4 --no-value-clip
# --total-timesteps 10000000, default flags otherwise, seeds 1 and 2. Target: at least 6000 at 10M on both.
# About 160 training minutes a run with both runs side by side on the 2-core machine (c2's 10M runs, the same
# batch of 16 x 256, took 157-164): start it at the beginning of a session, with nothing else running.
# Resumable: finished runs are skipped, unfinished ones resume from their 20-iteration checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
python benchmark/sweep.py --name humanoid_defaults --script ppo_continuous.py --envs Humanoid-v4 --seeds 1 2 \
    --jobs "$JOBS" --variant "default-no-value-clip=--no-value-clip" -- --total-timesteps 10000000
python benchmark/summarize.py runs/humanoid_defaults --out benchmark/results/humanoid_defaults --last 20 \
    --threshold 6000 --title "Users' command, 10M steps, " --plot-tags losses/kl losses/clipfrac charts/learning_rate \
    charts/policy_std
python benchmark/training_stats.py runs/humanoid_defaults --bin-steps 1000000 \
    --out benchmark/results/humanoid_defaults_stats.md \
    --tags charts/episodic_return losses/kl losses/clipfrac charts/learning_rate charts/policy_std
bash benchmark/eval_runs.sh benchmark/results/humanoid_defaults_eval.md ppo_continuous.py \
    runs/humanoid_defaults/default-no-value-clip__*
