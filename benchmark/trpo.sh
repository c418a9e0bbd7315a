#!/usr/bin/env bash
# TRPO with default flags on the five v4 MuJoCo tasks, 3 seeds, 1M steps (issue 16's suite).
# Into runs/trpo_defaults: runs/trpo_suite and benchmark/results/trpo_suite* hold the runs of the previous
# defaults (max KL 0.01, initial log-std 0), which must not mix with these.
# Resumable: finished runs are skipped, unfinished ones resume from their checkpoint; several copies
# started at once share the runs out. JOBS sets the runs at a time per copy (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
python benchmark/sweep.py --name trpo_defaults --script trpo_continuous.py \
    --envs Walker2d-v4 Ant-v4 Humanoid-v4 HalfCheetah-v4 Hopper-v4 --seeds 1 2 3 --jobs "$JOBS"
python benchmark/summarize.py runs/trpo_defaults --out benchmark/results/trpo_defaults --last 20 --title "TRPO " \
    --plot-tags losses/kl losses/backtracks losses/surrogate_improvement losses/explained_variance
python benchmark/training_stats.py runs/trpo_defaults --out benchmark/results/trpo_defaults_stats.md \
    --tags losses/kl losses/backtracks losses/step_accepted charts/policy_std losses/explained_variance
# The committed benchmark/results/trpo_defaults* came from Walker2d seeds 2-3 run here and the screen's runs of
# the same flags (benchmark/trpo_screen.sh, variant log-std-1-max-kl-0.02), whose event files were lost between
# sessions, read from its results CSV:
#   python benchmark/summarize.py runs/trpo_defaults \
#       --earlier benchmark/results/trpo_screen.csv:log-std-1-max-kl-0.02=default --out benchmark/results/trpo_defaults ...
