#!/usr/bin/env bash
# The users' command with a 10M budget: python ppo_continuous.py --env-id Humanoid-v4 --no-value-clip
# --total-timesteps 10000000, default flags otherwise, on seeds 21 and 22 (no screen touched them).
# Target: at least 9000 on both. About 2.5 training hours a run with both runs side by side on the
# 2-core machine: checkpoints every 20 iterations, and a second invocation resumes the runs (finished
# ones are skipped), so they can go on across sessions.
# Into runs/humanoid10m and benchmark/results/humanoid10m*. The previous defaults' results,
# benchmark/results/humanoid_defaults_scaled* (seeds 1-2, before the scripts drew their streams from
# SeedSequence), are this script's at ddd10bc; humanoid_defaults* (--no-scale-actions) at cf2f3be.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
name=humanoid10m
python benchmark/sweep.py --name "$name" --script ppo_continuous.py --envs Humanoid-v4 --seeds 21 22 \
    --jobs "$JOBS" --variant "default-no-value-clip=--no-value-clip" -- --total-timesteps 10000000
python benchmark/summarize.py "runs/$name" --out "benchmark/results/$name" --last 20 \
    --threshold 9000 --title "Users' command, 10M steps, " \
    --plot-tags losses/kl losses/clipfrac charts/learning_rate charts/policy_std
python benchmark/training_stats.py "runs/$name" --bin-steps 1000000 \
    --out "benchmark/results/${name}_stats.md" \
    --tags charts/episodic_return losses/kl losses/clipfrac charts/learning_rate charts/policy_std \
    losses/update_undone
bash benchmark/eval_runs.sh "benchmark/results/${name}_eval.md" ppo_continuous.py \
    "runs/$name"/default-no-value-clip__*/
