#!/usr/bin/env bash
# The undo guard (--undo-kl, on by default: 0.2 at first, 2.0 since the fresh-seed runs) on the case
# where the benchmark notes saw the adaptive rate run away (screen step 10: Hopper-v4, --gamma 0.995,
# seed 3, the rate at 26 times its initial value, then one update's KL of 80): PPO (continuous), 1M
# steps, with the guard and without it (--undo-kl 0). Seeds now come from numpy's SeedSequence, so
# seed 3 is not that run's streams. And a runaway forced on the same task: the adaptive rate starting
# at its cap, --learning-rate 1e-2.
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmark/sweep.py --name guard_hopper --script ppo_continuous.py --envs Hopper-v4 --seeds 3 \
    --jobs "${JOBS:-2}" --variant "guard=--gamma 0.995" --variant "no-guard=--gamma 0.995 --undo-kl 0" \
    --variant "lr-1e-2-guard=--gamma 0.995 --learning-rate 1e-2" \
    --variant "lr-1e-2-no-guard=--gamma 0.995 --learning-rate 1e-2 --undo-kl 0" \
    --variant "lr-1e-2-guard0.2=--gamma 0.995 --learning-rate 1e-2 --undo-kl 0.2"
python benchmark/summarize.py runs/guard_hopper --out benchmark/results/guard_hopper --last 20 \
    --plot-tags charts/learning_rate losses/kl losses/update_undone
python benchmark/training_stats.py runs/guard_hopper --out benchmark/results/guard_hopper_stats.md \
    --tags charts/learning_rate losses/kl losses/update_undone
