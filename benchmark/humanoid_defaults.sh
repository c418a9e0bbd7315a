#!/usr/bin/env bash
# The users' command with a 10M budget (issue 15): python ppo_continuous.py --env-id Humanoid-v4 --no-value-clip
# --total-timesteps 10000000, default flags otherwise, seeds 1 and 2. Target: at least 6000 at 10M on both.
# About 125 training minutes a run with both runs side by side on the 2-core machine (d's took 122 and 128; c2's,
# the same batch of 16 x 256 on an older machine, 157-164): start it at the beginning of a session, with nothing
# else running.
# Resumable: finished runs are skipped, unfinished ones resume from their 20-iteration checkpoints.
# Into runs/humanoid_defaults_scaled and benchmark/results/humanoid_defaults_scaled*: the defaults since
# --scale-actions became one (on Humanoid, the only one of the five tasks it changes). The results of the
# defaults before it (d), benchmark/results/humanoid_defaults*, are this script's at commit cf2f3be (its runs
# in runs/humanoid_defaults, variant default-no-value-clip; the same as typing --no-scale-actions now).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
name=humanoid_defaults_scaled
python benchmark/sweep.py --name "$name" --script ppo_continuous.py --envs Humanoid-v4 --seeds 1 2 \
    --jobs "$JOBS" --variant "default-no-value-clip=--no-value-clip" -- --total-timesteps 10000000
python benchmark/summarize.py "runs/$name" --out "benchmark/results/$name" --last 20 \
    --threshold 6000 --title "Users' command, 10M steps, " --plot-tags losses/kl losses/clipfrac charts/learning_rate \
    charts/policy_std
python benchmark/training_stats.py "runs/$name" --bin-steps 1000000 \
    --out "benchmark/results/${name}_stats.md" \
    --tags charts/episodic_return losses/kl losses/clipfrac charts/learning_rate charts/policy_std
bash benchmark/eval_runs.sh "benchmark/results/${name}_eval.md" ppo_continuous.py \
    "runs/$name"/default-no-value-clip__*
