#!/usr/bin/env bash
# Humanoid-v4 screen (issue 8), stage 1: the default flags for 2M steps on 2 seeds, as the baseline that
# the screened settings are compared with. Resumable; more variants are added here as they are screened.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
python benchmark/sweep.py --name humanoid_screen --script ppo_continuous.py --envs Humanoid-v4 --seeds 1 2 \
    --jobs "$JOBS" --variant default= -- --total-timesteps 2000000
python benchmark/summarize.py runs/humanoid_screen --out benchmark/results/humanoid_screen --last 20 \
    --title "Humanoid screen, " --plot-tags losses/approx_kl losses/clipfrac charts/policy_std
