#!/usr/bin/env bash
# PPO (continuous) with the usual PPO MuJoCo recipe (the defaults until the defaults screen, benchmark/ppo_screen.sh)
# on HalfCheetah-v4, 3 seeds, 1M steps (488 iterations x 2048 = 999,424). The committed results
# (benchmark/results/halfcheetah_ppo*) name these runs "default": they ran when the recipe was the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
python benchmark/sweep.py --name halfcheetah_ppo --script ppo_continuous.py --envs HalfCheetah-v4 --seeds 1 2 3 --jobs 2 \
    --variant "course-recipe=--num-envs 8 --num-steps 256 --minibatch-size 64 --update-epochs 10 --learning-rate 3e-4 --lr-schedule linear --log-std-init 0 --no-scale-actions"
python benchmark/summarize.py runs/halfcheetah_ppo --out benchmark/results/halfcheetah_ppo --last 20 \
    --plot-tags losses/minibatch_approx_kl losses/clipfrac losses/explained_variance losses/entropy
python benchmark/training_stats.py runs/halfcheetah_ppo --out benchmark/results/halfcheetah_ppo_stats.md \
    --tags losses/minibatch_approx_kl losses/clipfrac charts/policy_std losses/explained_variance losses/grad_norm
