#!/usr/bin/env bash
# PPO (continuous) vs TRPO on the five v4 MuJoCo tasks, 3 seeds, 1M steps.
# TRPO: its default flags. PPO: until the PPO defaults issue lands, the PPO defaults screen's lead d
# (benchmark/ppo_screen.sh), with the users' --no-value-clip on Humanoid as in that screen; the README says
# which PPO settings the table used. The runs of this comparison done so far are the screens' own runs of
# these settings (same flags, same code numerically), linked into these sweep directories.
# Resumable: finished runs are skipped; several copies started at once share the runs out.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
d="--num-envs 16 --minibatch-size 512 --lr-schedule adaptive --adaptive-lr-target-kl 0.02 --log-std-init -1"
python benchmark/sweep.py --name ppo_vs_trpo_ppo --script ppo_continuous.py \
    --envs HalfCheetah-v4 Hopper-v4 Walker2d-v4 Ant-v4 --seeds 1 2 3 --jobs "$JOBS" --variant "d=$d"
python benchmark/sweep.py --name ppo_vs_trpo_ppo --script ppo_continuous.py \
    --envs Humanoid-v4 --seeds 1 2 3 --jobs "$JOBS" --variant "d-no-value-clip=$d --no-value-clip"
python benchmark/sweep.py --name ppo_vs_trpo_trpo --script trpo_continuous.py \
    --envs HalfCheetah-v4 Hopper-v4 Walker2d-v4 Ant-v4 Humanoid-v4 --seeds 1 2 3 --jobs "$JOBS"
python benchmark/summarize.py ppo=runs/ppo_vs_trpo_ppo trpo=runs/ppo_vs_trpo_trpo \
    --out benchmark/results/ppo_vs_trpo5 --last 20 --title "PPO vs TRPO, " \
    --plot-tags charts/policy_std losses/kl losses/explained_variance
python benchmark/training_stats.py ppo=runs/ppo_vs_trpo_ppo trpo=runs/ppo_vs_trpo_trpo \
    --out benchmark/results/ppo_vs_trpo5_stats.md --tags charts/episodic_return losses/kl charts/policy_std
