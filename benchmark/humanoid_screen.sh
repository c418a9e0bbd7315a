#!/usr/bin/env bash
# Humanoid-v4 screen (issue 8): short runs (2M steps, seed 1) that discard settings before any 10M run.
# Stage 0 is the script's defaults (8 envs x 256 steps, minibatch 64, 10 epochs, log-std 0, value clipping).
# Stage 1 is candidate c1 (16 envs x 256 steps, minibatch 512, initial policy std e^-1 = 0.37 to match the
# action bounds of +-0.4, no value clipping) and one change to it per variant. Resumable: finished runs are
# skipped, unfinished ones resume from their checkpoint (runs/humanoid_screen/).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-1}"
C1="--num-envs 16 --num-steps 256 --minibatch-size 512 --log-std-init -1 --no-value-clip"
python benchmark/sweep.py --name humanoid_screen --script ppo_continuous.py --envs Humanoid-v4 --seeds 1 \
    --jobs "$JOBS" \
    --variant "c1=$C1" \
    --variant "c1-log-std-0=--num-envs 16 --num-steps 256 --minibatch-size 512 --log-std-init 0 --no-value-clip" \
    --variant "c1-value-clip=--num-envs 16 --num-steps 256 --minibatch-size 512 --log-std-init -1" \
    --variant "c1-mb-2048=--num-envs 16 --num-steps 256 --minibatch-size 2048 --log-std-init -1 --no-value-clip" \
    --variant "c1-gamma-0.995=$C1 --gamma 0.995" \
    --variant "default=" \
    -- --total-timesteps 2000000
python benchmark/summarize.py runs/humanoid_screen --out benchmark/results/humanoid_screen --last 20 \
    --title "Humanoid-v4 screen, " --plot-tags losses/approx_kl losses/clipfrac charts/policy_std
