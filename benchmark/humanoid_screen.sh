#!/usr/bin/env bash
# Humanoid-v4 screen (issue 8): 2M-step runs that pick the settings for Humanoid before any 10M run.
# Candidate c1, seeds 1 2 3: 16 envs x 256 steps (batch 4096), minibatch 512, initial policy std
# e^-1 = 0.37 to match the action bounds of +-0.4, no value clipping; the rest default. Then c1 with one of
# its changes undone per variant (seed 1), the usual PPO MuJoCo recipe (the script's defaults at the time, named
# "default" in the committed results: 8 envs x 256 steps, minibatch 64, 10 epochs, std 1, value clipping,
# linear annealing; seeds 1 2), and two more changes to c1 (seed 1). The learning rate (3e-4)
# anneals to 0 over each run's 2M steps. Resumable: finished runs are skipped, unfinished ones resume from
# their checkpoint (runs/humanoid_screen/); several copies started at once share the runs out.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
# --no-scale-actions: these runs predate --scale-actions, which the defaults now turn on.
C1="--num-envs 16 --num-steps 256 --minibatch-size 512 --lr-schedule linear --log-std-init -1 --no-value-clip --no-scale-actions"
SWEEP="python benchmark/sweep.py --name humanoid_screen --script ppo_continuous.py --envs Humanoid-v4 --jobs $JOBS"
$SWEEP --seeds 1 2 3 --variant "c1=$C1" -- --total-timesteps 2000000
$SWEEP --seeds 1 \
    --variant "c1-log-std-0=${C1/--log-std-init -1/--log-std-init 0}" \
    --variant "c1-value-clip=${C1/ --no-value-clip/}" \
    -- --total-timesteps 2000000
COURSE="--num-envs 8 --num-steps 256 --minibatch-size 64 --update-epochs 10 --learning-rate 3e-4 --lr-schedule linear --log-std-init 0 --no-scale-actions"
$SWEEP --seeds 1 2 --variant "course-recipe=$COURSE" -- --total-timesteps 2000000
$SWEEP --seeds 1 \
    --variant "c1-minibatch-2048=${C1/--minibatch-size 512/--minibatch-size 2048}" \
    --variant "c1-gamma-0.995=$C1 --gamma 0.995" \
    -- --total-timesteps 2000000
# runs/humanoid_c1_10m, read by training_stats.py below but not run here: c1 on the 10M learning-rate schedule,
# seed 1, stopped by hand (SIGTERM) at 1.48M steps once its KL per iteration had grown past 1 (commit 558685b):
#   python benchmark/sweep.py --name humanoid_c1_10m --script ppo_continuous.py --envs Humanoid-v4 --seeds 1 \
#       --variant "c1=$C1" -- --total-timesteps 10000000
python benchmark/summarize.py runs/humanoid_screen --out benchmark/results/humanoid_screen --last 20 --threshold 5000 \
    --title "2M-step screen, " --plot-tags losses/minibatch_approx_kl losses/clipfrac charts/policy_std
python benchmark/training_stats.py runs/humanoid_screen c1-10M-schedule=runs/humanoid_c1_10m --bin-steps 500000 \
    --out benchmark/results/humanoid_screen_stats.md \
    --tags charts/episodic_return losses/minibatch_approx_kl losses/clipfrac charts/policy_std losses/explained_variance
