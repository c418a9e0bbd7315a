#!/usr/bin/env bash
# Humanoid-v4, 10M steps, 2 seeds (issue 8): the candidate the screen chose (benchmark/humanoid_screen.sh).
# c2: 16 envs x 256 steps (batch 4096), minibatch 512, 10 epochs, learning rate 1e-4 annealed to 0,
# initial policy std e^-1 = 0.37 (the actions are bounded to +-0.4), no value clipping; the rest default.
# Resumable: finished runs are skipped, unfinished ones resume from their checkpoint (runs/humanoid/).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
# --no-scale-actions: these runs predate --scale-actions, which the defaults now turn on.
C2="--num-envs 16 --num-steps 256 --minibatch-size 512 --learning-rate 1e-4 --lr-schedule linear --log-std-init -1 --no-value-clip --no-scale-actions"
python benchmark/sweep.py --name humanoid --script ppo_continuous.py --envs Humanoid-v4 --seeds 1 2 \
    --jobs "$JOBS" --variant "c2=$C2" -- --total-timesteps 10000000
python benchmark/summarize.py runs/humanoid --out benchmark/results/humanoid --last 20 --threshold 5000 \
    --title "10M steps, " --plot-tags losses/minibatch_approx_kl losses/clipfrac charts/policy_std
python benchmark/training_stats.py runs/humanoid --bin-steps 1000000 --out benchmark/results/humanoid_stats.md \
    --tags charts/episodic_return losses/minibatch_approx_kl losses/clipfrac charts/policy_std losses/explained_variance
bash benchmark/eval_runs.sh benchmark/results/humanoid_eval.md ppo_continuous.py runs/humanoid/c2__*
