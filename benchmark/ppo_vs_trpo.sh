#!/usr/bin/env bash
# PPO (continuous) vs TRPO on the five v4 MuJoCo tasks, 3 seeds, 1M steps.
# TRPO: its default flags. PPO: its default flags, typed here as the PPO defaults screen's ds (benchmark/ppo_screen.sh,
# stage 19: d with --scale-actions), the users' --no-value-clip on Humanoid. On the four tasks bounded by +-1,
# --scale-actions changes nothing, so the screen's d runs are runs of these flags (the variant keeps the name d);
# on Humanoid the runs are stage 19's. The runs of the committed results are the screens' own runs of these settings
# (same flags, same code numerically), linked into these sweep directories, and TRPO's Walker2d seeds 2-3 (below).
# Resumable: finished runs are skipped; several copies started at once share the runs out.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
ds="--num-envs 16 --minibatch-size 512 --lr-schedule adaptive --adaptive-lr-target-kl 0.02 --log-std-init -1 --scale-actions"
python benchmark/sweep.py --name ppo_vs_trpo_ppo --script ppo_continuous.py \
    --envs HalfCheetah-v4 Hopper-v4 Walker2d-v4 Ant-v4 --seeds 1 2 3 --jobs "$JOBS" --variant "d=$ds"
python benchmark/sweep.py --name ppo_vs_trpo_ppo --script ppo_continuous.py \
    --envs Humanoid-v4 --seeds 1 2 3 --jobs "$JOBS" --variant "d-scale-actions-no-value-clip=$ds --no-value-clip"
python benchmark/sweep.py --name ppo_vs_trpo_trpo --script trpo_continuous.py \
    --envs HalfCheetah-v4 Hopper-v4 Walker2d-v4 Ant-v4 Humanoid-v4 --seeds 1 2 3 --jobs "$JOBS"
# The committed benchmark/results/ppo_vs_trpo5.{md,csv} add TRPO's Walker2d seeds 2-3 (run by trpo.sh into
# runs/trpo_defaults, after the other runs' event files were lost between sessions) to the earlier table:
#   python benchmark/summarize.py trpo=runs/trpo_defaults --earlier "benchmark/results/ppo_vs_trpo5.csv:ppo d" \
#       --earlier "benchmark/results/ppo_vs_trpo5.csv:ppo d-no-value-clip" \
#       --earlier "benchmark/results/ppo_vs_trpo5.csv:trpo default" --out /tmp/pvt5 --last 20
# (its .md and .csv copied over; ppo_vs_trpo5.png is the earlier plot, without TRPO's Walker2d seeds 2-3).
# When --scale-actions became PPO's default, PPO's Humanoid row became stage 19's runs (runs/ppo_screen of the
# screen's worktree), the other rows read from the committed table:
#   python benchmark/summarize.py ppo=<a directory linking the three d-scale-actions-no-value-clip__Humanoid-v4 runs> \
#       --earlier "benchmark/results/ppo_vs_trpo5.csv:ppo d" --earlier "benchmark/results/ppo_vs_trpo5.csv:trpo default" \
#       --out /tmp/pvt5 --last 20
# (its .md and .csv copied over; the plot and ppo_vs_trpo5_stats.md still show d's Humanoid runs, without the flag).
python benchmark/summarize.py ppo=runs/ppo_vs_trpo_ppo trpo=runs/ppo_vs_trpo_trpo \
    --out benchmark/results/ppo_vs_trpo5 --last 20 --title "PPO vs TRPO, " \
    --plot-tags charts/policy_std losses/kl losses/explained_variance
python benchmark/training_stats.py ppo=runs/ppo_vs_trpo_ppo trpo=runs/ppo_vs_trpo_trpo \
    --out benchmark/results/ppo_vs_trpo5_stats.md --tags charts/episodic_return losses/kl charts/policy_std
