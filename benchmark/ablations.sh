#!/usr/bin/env bash
# Ablations of PPO (continuous) on HalfCheetah-v4, 3 seeds, 1M steps: each implementation detail turned off
# alone, and the adaptive-KL-penalty objective instead of clipping. The default variant is the sweep of
# halfcheetah_ppo.sh (same code, same seeds), so it is merged in rather than run twice (and run here
# only if missing: finished runs are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
python benchmark/sweep.py --name halfcheetah_ppo --script ppo_continuous.py --envs HalfCheetah-v4 --seeds 1 2 3 --jobs "$JOBS"
python benchmark/sweep.py --name halfcheetah_ablations --script ppo_continuous.py --envs HalfCheetah-v4 \
    --seeds 1 2 3 --jobs "$JOBS" \
    --variant no-value-clip=--no-value-clip \
    --variant no-anneal-lr="--lr-schedule constant" \
    --variant no-bootstrap-truncated=--no-bootstrap-truncated \
    --variant kl-penalty="--objective kl-penalty"
python benchmark/summarize.py runs/halfcheetah_ppo runs/halfcheetah_ablations \
    --out benchmark/results/halfcheetah_ablations --last 20 --title "PPO ablations, " \
    --plot-tags losses/minibatch_approx_kl losses/clipfrac losses/explained_variance losses/entropy
python benchmark/training_stats.py runs/halfcheetah_ppo runs/halfcheetah_ablations \
    --out benchmark/results/halfcheetah_ablations_stats.md \
    --tags losses/minibatch_approx_kl losses/clipfrac losses/kl_penalty_beta charts/policy_std losses/explained_variance
