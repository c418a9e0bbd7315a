#!/usr/bin/env bash
# Issue 45: ppo_continuous.py defaults that take off on every seed. 1M steps, v4 tasks, selection
# seeds 201-204 (no earlier screen used them); the training return (mean of the last 20 episodes).
# The baseline is today's defaults, and on Humanoid the users' command (defaults + --no-value-clip).
# Candidates, each one change from the baseline (on Humanoid each keeps --no-value-clip):
#   nvc  --no-value-clip (Hopper only: on Humanoid it is the baseline)
#   vn   --norm-value: the critic fits returns normalized by their running mean and std
#   kl4  --adaptive-lr-target-kl 0.04: the adaptive rate aims at twice today's KL on every task
#   kpd  --kl-per-action-dim --adaptive-lr-target-kl 0.005 (a flag at ba5cedd, gone since it failed
#        stage 1): the rate reads the KL per action dimension (summed targets: Hopper 0.015,
#        Walker2d and HalfCheetah 0.03, Ant 0.04, Humanoid 0.085)
# Not screened again: the initial log-std (benchmark/README.md's PPO screen, n1: -0.5 lifted Hopper
# and cost Humanoid and Ant); the penalty on |mu| > 1 waits for losses/mean_beyond_1 to show that
# the means leave the bounds.
# Decision rule, written before the runs. I(c, t) is the interquartile mean of candidate c's four
# seeds on task t (the mean of the middle two), w(c, t) its worst seed.
#   Stage 1 (Hopper, Humanoid): c passes if w(c, t) >= 0.9 w(base, t) on both tasks and its score
#     s(c) = min over the two tasks of I(c, t) / I(base, t) is above 1.05. (nvc is scored on Hopper
#     alone: on Humanoid it is the baseline. Said before nvc's runs, which the first line missed.)
#   Stage 2 (Hopper, Humanoid): the passing candidates together (of kl4 and kpd only the one with
#     the higher score), if two or more pass; the combination is the choice if it passes and scores
#     higher than the best single candidate, else that candidate is.
#   Stage 3 (Walker2d, Ant, HalfCheetah, seeds 201-203, base beside it): the choice becomes the
#     defaults if on each task I(c, t) >= 0.95 I(base, t) and w(c, t) >= 0.8 w(base, t); else the
#     passing candidate with the next highest score goes to stage 3. If none passes, the defaults
#     stay. Then the result runs on seeds 21-25 (benchmark/fresh_seeds.sh).
#   Stage D (ppo_discrete.py, if the choice is --norm-value, which is not about the action
#     distribution; added after stage 2, before its runs): CartPole-v1 at 100k steps and Acrobot-v1
#     at 500k, seeds 201-204, base against vn. It becomes ppo_discrete's default too if it helps
#     there: I(vn, Acrobot) > I(base, Acrobot) + 2 (returns are negative, CartPole's sit at the cap
#     of 500), and on each task I(vn, t) >= I(base, t) - 5 and w(vn, t) >= w(base, t) - 5. Else
#     ppo_discrete.py does not take the flag.
#   Stage 4 (written after stage 3 rejected vn, Ant's I at 0.946 of the baseline's, and kl4,
#     Walker2d's at 0.931 and Ant's worst seed at 0.74, and before stage 4's runs):
#     fl  --adaptive-lr-min 1e-4: the adaptive rate stops at a third of its initial value. On
#     Humanoid the baseline's rate sat below 1e-4 in 218-226 of its 244 iterations (4e-5 to 9e-5,
#     the KL inside the rule's dead band). On the other four tasks the baseline's runs (seeds
#     201-204 on Hopper, 201-203 on the rest) never set it below 1.33e-4, so there the floor never
#     binds and fl's runs are the baseline's, bit for bit; Hopper seed 201 is run to show it.
#     fl becomes the default if, on Humanoid (seeds 201-204, --no-value-clip), I(fl) > 1.05
#     I(base) and w(fl) >= 0.9 w(base), and Hopper seed 201 ends exactly where the baseline's
#     did; if Hopper's run differs, fl runs stages 1 and 3 in full before it can.
#   Stage 5 (written after stage 4 made the floor the default, and before stage 5's runs):
#     cap  --adaptive-lr-max 1e-3: the adaptive rate stays within about 3x of its initial 3e-4, as
#     the floor keeps it above a third of it. Only Hopper's rate passes 1e-3: 18-93 of 244
#     iterations in the baseline's runs (seeds 201-204), 44-133 in the fresh runs (seeds 21-25; the
#     most, 133, in seed 22, the one that never hops, at 333). On the other four tasks no run of
#     the baseline (seeds 201-203, Humanoid 201-204) nor of the defaults on seeds 21-25 set it above
#     6.75e-4, so there the cap never binds; Walker2d seed 201 (the highest of them) is run to show
#     it. cap becomes the default if, on Hopper (seeds 201-204), I(cap) > 1.05 I(base) and w(cap)
#     >= 0.9 w(base), and Walker2d seed 201 ends exactly where the baseline's did; if it differs,
#     cap runs stage 3 in full before it can. The baseline's Hopper runs stand for today's
#     defaults: the floor never binds on Hopper (stage 4). Then Hopper's results on seeds 21-25
#     are measured again; the other tasks' stand, for the same reason.
#   Stage 6 (written after stage 5 failed, and before stage 6's runs): vn on today's defaults
#     (the floor). On Hopper, Walker2d, Ant and HalfCheetah, vn's runs of stages 1 and 3 never set
#     the rate below 1.33e-4, so the floor never binds there and they stand for vn on the floor
#     (as Hopper seed 201 showed for the baseline in stage 4). vn failed stage 3 only on Ant, at
#     0.946 of the baseline's IQM on three seeds; stage 6 runs Ant on four more seeds (204-207),
#     base and vn, and Humanoid (201-204, --no-value-clip) with vn on the floor (vnfl).
#     vn becomes the default if (i) on Humanoid I(vnfl) >= 0.95 I(fl) and w(vnfl) >= 0.9 w(fl),
#     fl being today's users' command; and (ii) on Ant over seeds 201-207 I(vn) >= 0.95 I(base)
#     and w(vn) >= 0.8 w(base). Hopper (stage 1), Walker2d and HalfCheetah (stage 3) passed. If vn
#     becomes the default, stage D decides ppo_discrete.py, and the result runs follow.
#   Stage 7 (written after stage 6, and before stage 7's runs): does the floor cost the long run?
#     At 10M steps (humanoid10m) it held the rate at 1e-4 from about 0.4M steps on, the KL after
#     the update at 13-50x its target from 3M on. early: the floor for the first million steps
#     only, then the KL rule alone (floor 1e-6, as before stage 4); every run of up to 1M steps
#     stays as it is. Stage 4's fl runs of Humanoid (--no-value-clip, seeds 201 and 202) are each
#     copied twice at their 1M-step checkpoint and resumed to 10M steps: floor10m with the floor,
#     early10m with 1e-6. early becomes the default (a floor that holds for the first 1M steps)
#     if on both seeds early10m's final return is at least floor10m's and its mean over the two
#     is at least 1.05 times floor10m's; then the 10M result runs on seeds 21-22 again. Else the
#     floor stays as it is.
#   Stage 8 (written after stage 7, and before stage 8's runs): fl2  --adaptive-lr-min 2e-4. The
#     floor of 1e-4 lifted Humanoid's IQM from 1075 to 2491 and the rule's target of 0.04 (kl4,
#     which keeps the rate higher) to 2919; a floor at two thirds of the initial rate asks whether
#     more of the same lifts Humanoid further. Unlike 1e-4 it can bind elsewhere (the baseline's
#     rate reached 1.33e-4 on Ant and HalfCheetah, 2e-4 on Hopper and Walker2d). (i) Humanoid
#     (seeds 201-204, --no-value-clip): fl2 goes on if I(fl2) > 1.05 I(fl) and w(fl2) >= 0.9 w(fl).
#     (ii) Then Hopper (201-204) and Walker2d, Ant, HalfCheetah (201-203) against base (today's
#     defaults there, where 1e-4 never bound): fl2 becomes the default if on each I(fl2) >= 0.95
#     I(base) and w(fl2) >= 0.8 w(base); then the result runs on seeds 21-25 and at 10M.
#   Stage 9 (written after stage 8, and before stage 9's runs): does the 2e-4 floor cost the long
#     run? At 10M steps the default's result run on seed 21 (humanoid10m) held the rate at 2e-4
#     throughout; from 4M steps on the KL after the update was 2-6 (target 0.02) and the undo guard
#     undid 30-83% of the updates, so the floor and the guard worked against each other. early2:
#     the floor of 2e-4 for the first million steps only, then the KL rule alone (floor 1e-6);
#     every run of up to 1M steps stays as it is. Stage 8's fl2 runs of Humanoid (seeds 201, 202)
#     are each copied twice at their 1M-step checkpoint and resumed to 10M steps: fl2-10m with the
#     floor, early2-10m with 1e-6; seed 201's pair first. m(v, s): the mean training return of
#     variant v on seed s over 9-10M steps (training_stats.py, 1M-step parts; every episode, so
#     less noisy than the last 20). early2 becomes the default (a floor that holds for the first
#     1M steps) if on both seeds m(early2-10m) >= m(fl2-10m), and the mean over the two seeds of
#     early2-10m's final return (last 20 episodes) is at least 0.95 times fl2-10m's; then the 10M
#     result runs on seeds 21-22 again. Else the floor stays as it is. The screen stops once seed
#     201's pair has decided it (m(early2-10m) < m(fl2-10m) on seed 201 fails the rule).
#   Stage 10 (written after stage 9, and before stage 10's runs): bc  --mean-bound-coef 1 (a flag
#     at 100bdfe, gone since it failed stage 10): the loss pulls an action mean past +-1.1 back.
#     With --scale-actions the env clips actions at +-1,
#     so past it the surrogate does not pull a mean back; losses/mean_beyond_1 reached 10% on
#     Hopper, under 1% on Humanoid. At 1, a mean 1 past the soft bound feels a pull of 2 per
#     sample, about the surrogate's |A| / sigma (normalized advantages, sigma near 0.3). The runs
#     of stages 1-9 went with their machine, and another machine computes other numbers, so
#     today's defaults run again beside bc, as base10, into runs/ppo_defaults_screen10.
#     (i) Hopper, seeds 201-204: bc goes on if I(bc) > 1.05 I(base10) and w(bc) >= 0.9 w(base10).
#     (ii) STAGE=10b, Humanoid (201-204, --no-value-clip), Walker2d, Ant, HalfCheetah (201-203):
#     bc becomes the default if on each I(bc) >= 0.95 I(base10) and w(bc) >= 0.8 w(base10); then
#     the result runs on seeds 21-25 and at 10M.
#   Stage 11 (written after stage 10, and before stage 11's runs): vn2  --norm-value on today's
#     defaults (the 2e-4 floor for the first 1M steps). vn lifted Hopper's worst seed most (stage 1:
#     seed 203 from 780 to 3011; IQM 2312 against 1761, worst 1421 against 780) and three of the
#     other tasks, but on stage 6's 1e-4 floor it cost Humanoid (0.81); the 2e-4 floor, which binds
#     on Humanoid, Ant and HalfCheetah, was never tried with it. The baseline is stage 8's fl2 runs
#     (today's defaults for runs of up to 1M steps; this machine reproduces them, stage 10).
#     (i) STAGE=11, Humanoid (201-204, --no-value-clip) and Hopper (201-204): vn2 goes on if on
#     Humanoid I(vn2) > 0.95 I(fl2) and w(vn2) >= 0.9 w(fl2), and on Hopper I(vn2) > 1.05 I(fl2)
#     and w(vn2) >= 0.9 w(fl2). (ii) STAGE=11b, Walker2d, Ant, HalfCheetah (201-203): vn2 becomes
#     the default if on each I(vn2) > 0.95 I(fl2) and w(vn2) >= 0.8 w(fl2); then stage D decides
#     ppo_discrete.py, and the result runs on seeds 21-25 and at 10M follow.
#   Stage 12 (written after stage 11's Humanoid runs of seeds 201-202, vn2 at 1927 and 2006 against
#     fl2's 3308 and 3954, and before stage 12's runs): fl3  --adaptive-lr-min 3e-4, the floor at
#     the initial rate, so that in the first 1M steps the KL rule can only raise the rate. From
#     1e-4 to 2e-4 the floor lifted Humanoid's IQM from 2491 to 3631 (stage 8); on Humanoid the
#     rate sat on the 2e-4 floor in every iteration, with the KL after the update at 0.06-0.36.
#     fl2's rate reached 2e-4 on every other task too, so 3e-4 binds everywhere. The baseline is
#     fl2's runs, as in stage 11. (i) STAGE=12, Humanoid (201-204, --no-value-clip): fl3 goes on
#     if I(fl3) > 1.05 I(fl2) and w(fl3) >= 0.9 w(fl2). (ii) STAGE=12b, Hopper (201-204),
#     Walker2d, Ant, HalfCheetah (201-203): fl3 becomes the default if on each I(fl3) > 0.95
#     I(fl2) and w(fl3) >= 0.8 w(fl2); then the result runs on seeds 21-25 and at 10M follow.
#   Stage 13 (written after stage 12, and before stage 13's runs): two settings that Andrychowicz et
#     al. 2021 ("What Matters In On-Policy RL") recommend and this screen has not tried on today's
#     defaults, each one change from them. ls7  --log-std-init -0.7 (a std of 0.5, their choice;
#     today's 0.37; the old screen's -0.5 lifted Hopper and cost Humanoid and Ant without a floor).
#     lam9  --gae-lambda 0.9 (their choice; today's 0.95). Hopper first, as it is the cheaper gap.
#     The baseline is fl2's runs. (i) STAGE=13, Hopper (201-204): c goes on if I(c) > 1.05 I(fl2)
#     and w(c) >= 0.9 w(fl2). (ii) STAGE=13h with CHOICE=<c> (the one with the higher score if both
#     go on), Humanoid (201-204, --no-value-clip): c goes on if I(c) > 0.95 I(fl2) and w(c) >= 0.9
#     w(fl2). (iii) STAGE=13b, Walker2d, Ant, HalfCheetah (201-203): c becomes the default if on
#     each I(c) > 0.95 I(fl2) and w(c) >= 0.8 w(fl2); then the result runs on seeds 21-25 and at
#     10M follow.
#   Stage 14 (written after stage 13b's Ant runs, ls7 at 3628, 3118 and 1838 against fl2's 3200,
#     2337 and 3008: a mean of 1.00 of fl2's but a worst seed of 0.79, which fails 13b's rule,
#     and before stage 14's runs; the numbers first written here, 3615, 3066 and 1588, were the
#     console's from the second-to-last iteration): as stage 6 did for vn, Ant on four more seeds
#     (204-207), fl2 (today's defaults) and ls7. ls7 becomes the default if over seeds 201-207 on
#     Ant I(ls7) > 0.95 I(fl2) and w(ls7) >= 0.8 w(fl2), and 13b passed on Walker2d and
#     HalfCheetah; then the result runs on seeds 21-25 and at 10M follow. Else the defaults stay.
# What came of it (benchmark/README.md): stage 3 ran twice under the variant name "choice", with
# CHOICE="--norm-value" and then "--adaptive-lr-target-kl 0.04" (stopped once Walker2d and Ant had
# decided it); each time the runs were renamed vn__* and kl4__* before the next. Stage 4's score,
# ppo_defaults_screen_score4.md, is screen_score.py's on the base and fl rows of Humanoid: fl passes
# and is the default. Stage D did not run its Acrobot part: --norm-value was not chosen.
# Stage 6: vnfl on Humanoid ended at 2436, 1593, 909 and 4478 (IQM 2015, 0.81 of fl's; worst seed
# 0.87 of fl's), which fails (i); its Ant runs were stopped once that had decided it, and removed.
# Stage 7 (seed 201): early10m ended at 8487, floor10m at 8675, which fails the rule, so the floor
# stays; seed 202's pair was stopped at about 1.3M steps once that had decided it. Its statistics
# by million steps are in ppo_defaults_screen_stats10m.md, made by training_stats.py on the two
# runs' directories alone. Over 8-10M the mean return is higher without the floor (8521 and 8876
# against 7485 and 7768); the rule reads the last 20 episodes.
# Stage 8: fl2 passes (i), Humanoid 3308, 3954, 4724, 1695 (IQM 3631, 1.46 of fl's; worst 1.62),
# and (ii): Hopper and Walker2d are the baseline's runs, bit for bit (the floor never bound); Ant
# 3200, 2337, 3008 (0.96 / 0.83), HalfCheetah 5339, 6657, 4428 (1.11 / 1.12). The floor is 2e-4
# by default since; the result runs on seeds 21-25 and at 10M follow.
# Stage 9, seed 201: m(early2-10m) 7076 against m(fl2-10m) 3154 (final 20 episodes 6050 against
# 3869); seed 202: 8916 against 6341 (final 9895 against 7397). early2 passes: the floor holds for
# the first 1M steps (--adaptive-lr-min-steps); the 10M result runs on seeds 21-22 follow.
# Stage 10 (i): bc fails. Hopper 2415, 2430, 476, 3072 (IQM 2423, 1.38 of base10's; worst seed
# 0.61 of base10's 780). base10 reproduced stage 1's base runs exactly (2859, 2167, 780, 1356): this
# machine computes the same numbers as the one before it. losses/mean_beyond_1 stayed near 9%.
# Stage 11 (i): vn2 fails on Humanoid, 1954, 2228, 1851, 2114 (IQM 2034, 0.56 of fl2's 3631; worst
# 1.09 of its 1695); on Hopper it passes, 3340, 1612, 3011, 1421 (IQM 1.31, worst 1.82 of fl2's):
# stage 1's vn runs to the integer, as the floor never binds there. 11b did not run.
# Stage 12 (i): fl3 fails on Humanoid. Seeds 201 and 202 ended at 1072 and 754 (fl2: 3308, 3954),
# the clip fraction at 0.56-0.76 and 13 of 488 updates undone; a worst seed of at most 754 is below
# 0.9 of fl2's 1695, which decides the rule, so seeds 203-204 were stopped and removed (their
# score, ppo_defaults_screen12_score_humanoid.md, is of seeds 201-202).
# Stage 13 (i), Hopper: ls7 passes, 3106, 958, 2325, 2344 (IQM 2334, 1.33 of fl2's; worst 1.23);
# lam9 fails, 1963, 2965, 2281, 541 (IQM 1.21; worst 0.69). ls7 goes on to Humanoid (13h).
# Stage 13 (ii), Humanoid: ls7 passes, IQM 4426 (1.22 of fl2's), worst seed 3906 (2.31). STAGE=13b
# was started while 13h's last two runs went on, to count only if 13h passed.
# Stage 13 (iii): ls7 fails on Ant's worst seed. Walker2d 3854, 3720, 3434 (0.985 / 0.98 of fl2's
# mean / worst), Ant 3628, 3118, 1838 (1.005 / 0.786), HalfCheetah 6945, 5682, 5915 (1.13 / 1.28).
# Run with STAGE=1 (the default), 2 to 14, 8b, 10b, 11b, 12b, 13h, 13b or D, and the chosen flags
# in CHOICE for stages 2, 3, 13h and 13b.
# Resumable: finished runs are skipped, unfinished ones resume from their checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
STAGE="${STAGE:-1}"
NAME=ppo_defaults_screen
sweep() { python benchmark/sweep.py --name $NAME --script ppo_continuous.py --jobs "$JOBS" "$@"; }
copies_to_10m() {  # SOURCE VARIANT=FLOOR...: SOURCE's Humanoid runs (seeds 201, 202), copied at
    # their 1M-step checkpoint as each VARIANT, whose checkpoint's settings go on to 10M steps there
    python - "$@" <<'PY'
import os, shutil, sys, torch
source, variants = sys.argv[1], [argument.split("=") for argument in sys.argv[2:]]
for seed in (201, 202):
    for variant, floor in variants:
        copy = f"runs/ppo_defaults_screen/{variant}__Humanoid-v4__{seed}"
        if os.path.exists(copy):
            continue
        shutil.copytree(f"runs/ppo_defaults_screen/{source}__Humanoid-v4__{seed}", copy,
                        ignore=shutil.ignore_patterns("DONE"))
        checkpoint = torch.load(f"{copy}/checkpoint.pt", weights_only=True)
        checkpoint["format"] = "ppo_continuous/5"  # /4 had no floor; stage 4's fl runs typed it
        checkpoint["args"].update(total_timesteps=10_000_000, adaptive_lr_min=float(floor))
        torch.save(checkpoint, f"{copy}/checkpoint.pt")
PY
}
against_fl2() {  # [TAG ...]: summarize runs/$NAME, and put stage 8's fl2 runs (today's defaults
    # for runs of up to 1M steps) beside its rows for score_fl2
    python benchmark/summarize.py runs/$NAME --out benchmark/results/$NAME --last 20 \
        --plot-tags charts/learning_rate losses/kl
    python benchmark/training_stats.py runs/$NAME --out benchmark/results/${NAME}_stats.md \
        --tags charts/learning_rate losses/kl losses/clipfrac charts/policy_std "$@"
    (cat benchmark/results/$NAME.csv; grep '^fl2,' benchmark/results/ppo_defaults_screen.csv) \
        > benchmark/results/${NAME}_with_fl2.csv
}
score_fl2() {  # SUFFIX SCREEN_SCORE_ARGS...: the rule against fl2, into ${NAME}_score<SUFFIX>.md
    python benchmark/screen_score.py benchmark/results/${NAME}_with_fl2.csv --base fl2 "${@:2}" \
        --out "benchmark/results/${NAME}_score$1.md"
}
if [ "$STAGE" = 1 ]; then
    sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
        --variant "base=--no-value-clip" \
        --variant "vn=--no-value-clip --norm-value" \
        --variant "kl4=--no-value-clip --adaptive-lr-target-kl 0.04" \
        --variant "kpd=--no-value-clip --kl-per-action-dim --adaptive-lr-target-kl 0.005"
    sweep --envs Hopper-v4 --seeds 201 202 203 204 \
        --variant "base=" --variant "nvc=--no-value-clip" --variant "vn=--norm-value" \
        --variant "kl4=--adaptive-lr-target-kl 0.04" \
        --variant "kpd=--kl-per-action-dim --adaptive-lr-target-kl 0.005"
elif [ "$STAGE" = 2 ]; then
    sweep --envs Humanoid-v4 --seeds 201 202 203 204 --variant "combined=--no-value-clip $CHOICE"
    sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "combined=$CHOICE"
elif [ "$STAGE" = 4 ]; then
    sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
        --variant "fl=--no-value-clip --adaptive-lr-min 1e-4"
    sweep --envs Hopper-v4 --seeds 201 --variant "fl=--adaptive-lr-min 1e-4"
elif [ "$STAGE" = 5 ]; then
    sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "cap=--adaptive-lr-max 1e-3"
    sweep --envs Walker2d-v4 --seeds 201 --variant "cap=--adaptive-lr-max 1e-3"
    python - <<'PY'  # the rule's identity check: every logged value of the two runs (SPS aside)
import sys; sys.path.insert(0, "benchmark")
from summarize import load_events
runs = [load_events(f"runs/ppo_defaults_screen/{v}__Walker2d-v4__201") for v in ("base", "cap")]
tags = sorted(set(runs[0]) - {"charts/SPS"})
same = all([(e.step, e.value) for e in runs[0][t]] == [(e.step, e.value) for e in runs[1].get(t, [])]
           for t in tags)
print(f"Walker2d-v4 seed 201, cap against base: {'identical' if same else 'NOT identical'} in "
      f"{len(tags)} tags")
PY
elif [ "$STAGE" = 6 ]; then
    sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
        --variant "vnfl=--no-value-clip --norm-value --adaptive-lr-min 1e-4"
    sweep --envs Ant-v4 --seeds 204 205 206 207 --variant "base=" --variant "vn=--norm-value"
elif [ "$STAGE" = 7 ]; then
    copies_to_10m fl floor10m=1e-4 early10m=1e-6
    for seed in 201 202; do
        sweep --envs Humanoid-v4 --seeds $seed --variant "floor10m=" --variant "early10m="
    done
    python benchmark/summarize.py runs/$NAME --out benchmark/results/$NAME --last 20
    python benchmark/training_stats.py runs/$NAME --out benchmark/results/${NAME}_stats10m.md \
        --tags charts/learning_rate losses/kl losses/clipfrac charts/policy_std --bin-steps 1000000
    exit
elif [ "$STAGE" = 10 ] || [ "$STAGE" = 10b ]; then
    NAME=ppo_defaults_screen10
    if [ "$STAGE" = 10 ]; then
        sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "base10=" \
            --variant "bc=--mean-bound-coef 1"
        envs="Hopper-v4" floors="--worst-floor 0.9 --min-score 1.05"
    else
        sweep --envs Humanoid-v4 --seeds 201 202 203 204 --variant "base10=--no-value-clip" \
            --variant "bc=--no-value-clip --mean-bound-coef 1"
        sweep --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --seeds 201 202 203 --variant "base10=" \
            --variant "bc=--mean-bound-coef 1"
        envs="Humanoid-v4 Walker2d-v4 Ant-v4 HalfCheetah-v4"
        floors="--worst-floor 0.8 --min-score 0.95"
    fi
    python benchmark/summarize.py runs/$NAME --out benchmark/results/$NAME --last 20 \
        --plot-tags losses/mean_beyond_1 charts/learning_rate losses/kl
    python benchmark/training_stats.py runs/$NAME --out benchmark/results/${NAME}_stats.md \
        --tags losses/mean_beyond_1 charts/learning_rate losses/kl losses/clipfrac charts/policy_std
    # shellcheck disable=SC2086
    (cd benchmark && python screen_score.py results/$NAME.csv --base base10 --envs $envs \
        $floors --out results/${NAME}_score$STAGE.md)
    exit
elif [ "$STAGE" = 14 ]; then
    NAME=ppo_defaults_screen14
    sweep --envs Ant-v4 --seeds 204 205 206 207 --variant "fl2=" --variant "ls7=--log-std-init -0.7"
    python benchmark/summarize.py runs/$NAME --out benchmark/results/$NAME --last 20
    cd benchmark/results
    (cat $NAME.csv; grep -E '^(fl2|ls7),Ant-v4' ppo_defaults_screen.csv ppo_defaults_screen13.csv \
        | cut -d: -f2) > ${NAME}_with_201-203.csv
    python ../screen_score.py ${NAME}_with_201-203.csv --base fl2 --worst-floor 0.8 \
        --min-score 0.95 --out ${NAME}_score.md
    exit
elif [ "$STAGE" = 13 ] || [ "$STAGE" = 13h ] || [ "$STAGE" = 13b ]; then
    NAME=ppo_defaults_screen13
    declare -A FLAGS=([ls7]="--log-std-init -0.7" [lam9]="--gae-lambda 0.9")
    if [ "$STAGE" = 13 ]; then
        sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "ls7=${FLAGS[ls7]}" \
            --variant "lam9=${FLAGS[lam9]}"
    elif [ "$STAGE" = 13h ]; then
        sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
            --variant "$CHOICE=--no-value-clip ${FLAGS[$CHOICE]}"
    else
        sweep --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --seeds 201 202 203 \
            --variant "$CHOICE=${FLAGS[$CHOICE]}"
    fi
    against_fl2
    score_fl2 _hopper --envs Hopper-v4 --worst-floor 0.9 --min-score 1.05
    score_fl2 _humanoid --envs Humanoid-v4 --worst-floor 0.9 --min-score 0.95
    score_fl2 13b --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --worst-floor 0.8 --min-score 0.95
    exit
elif [ "$STAGE" = 12 ] || [ "$STAGE" = 12b ]; then
    NAME=ppo_defaults_screen12
    if [ "$STAGE" = 12 ]; then
        sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
            --variant "fl3=--no-value-clip --adaptive-lr-min 3e-4"
    else
        sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "fl3=--adaptive-lr-min 3e-4"
        sweep --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --seeds 201 202 203 \
            --variant "fl3=--adaptive-lr-min 3e-4"
    fi
    against_fl2 losses/update_undone
    score_fl2 _humanoid --envs Humanoid-v4 --worst-floor 0.9 --min-score 1.05
    score_fl2 12b --envs Hopper-v4 Walker2d-v4 Ant-v4 HalfCheetah-v4 --worst-floor 0.8 \
        --min-score 0.95
    exit
elif [ "$STAGE" = 11 ] || [ "$STAGE" = 11b ]; then
    NAME=ppo_defaults_screen11
    if [ "$STAGE" = 11 ]; then
        sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
            --variant "vn2=--no-value-clip --norm-value"
        sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "vn2=--norm-value"
    else
        sweep --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --seeds 201 202 203 \
            --variant "vn2=--norm-value"
    fi
    against_fl2
    score_fl2 _humanoid --envs Humanoid-v4 --worst-floor 0.9 --min-score 0.95
    score_fl2 _hopper --envs Hopper-v4 --worst-floor 0.9 --min-score 1.05
    score_fl2 11b --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --worst-floor 0.8 --min-score 0.95
    exit
elif [ "$STAGE" = 9 ]; then
    copies_to_10m fl2 fl2-10m=2e-4 early2-10m=1e-6
    for seed in ${SEEDS:-201 202}; do
        sweep --envs Humanoid-v4 --seeds $seed --variant "fl2-10m=" --variant "early2-10m="
    done
    for seed in ${SEEDS:-201 202}; do  # each pair alone: m(v, s) is its episodic_return, 9-10M
        mkdir -p runs/stage9/$seed
        for run in runs/$NAME/{fl2-10m,early2-10m}__Humanoid-v4__$seed; do
            if [ -d "$run" ]; then ln -sfn "$PWD/$run" runs/stage9/$seed/; fi
        done
        python benchmark/training_stats.py runs/stage9/$seed --bin-steps 1000000 \
            --out benchmark/results/${NAME}_stats10m2_$seed.md \
            --tags charts/episodic_return charts/learning_rate losses/kl losses/clipfrac \
            losses/update_undone charts/policy_std
    done
    python benchmark/summarize.py runs/stage9/* --out benchmark/results/${NAME}9 --last 20
    exit
elif [ "$STAGE" = 8 ]; then  # (i); STAGE=8b runs (ii)
    sweep --envs Humanoid-v4 --seeds 201 202 203 204 \
        --variant "fl2=--no-value-clip --adaptive-lr-min 2e-4"
elif [ "$STAGE" = 8b ]; then
    sweep --envs Hopper-v4 --seeds 201 202 203 204 --variant "fl2=--adaptive-lr-min 2e-4"
    sweep --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --seeds 201 202 203 \
        --variant "fl2=--adaptive-lr-min 2e-4"
elif [ "$STAGE" = D ]; then
    discrete() { python benchmark/sweep.py --name ppo_defaults_screen_discrete \
        --script ppo_discrete.py --jobs "$JOBS" --seeds 201 202 203 204 "$@"; }
    discrete --envs CartPole-v1 --variant "base=" --variant "vn=--norm-value"
    discrete --envs Acrobot-v1 --variant "base=" --variant "vn=--norm-value" \
        -- --total-timesteps 500000
    python benchmark/summarize.py runs/ppo_defaults_screen_discrete --last 20 \
        --out benchmark/results/ppo_defaults_screen_discrete
    exit
else
    sweep --envs Walker2d-v4 Ant-v4 HalfCheetah-v4 --seeds 201 202 203 \
        --variant "base=" --variant "choice=$CHOICE"
fi
python benchmark/summarize.py runs/$NAME --out benchmark/results/$NAME --last 20 \
    --plot-tags charts/learning_rate losses/kl losses/clipfrac losses/mean_beyond_1
python benchmark/training_stats.py runs/$NAME --out benchmark/results/${NAME}_stats.md \
    --tags charts/learning_rate losses/kl losses/clipfrac losses/mean_beyond_1
if [ "$STAGE" = 8 ]; then
    (cd benchmark && python screen_score.py results/$NAME.csv --base fl --envs Humanoid-v4 \
        --worst-floor 0.9 --min-score 1.05 --out results/${NAME}_score8.md)
elif [ "$STAGE" = 8b ]; then
    (cd benchmark && python screen_score.py results/$NAME.csv --base base --envs Hopper-v4 \
        Walker2d-v4 Ant-v4 HalfCheetah-v4 --worst-floor 0.8 --min-score 0.95 \
        --out results/${NAME}_score8b.md)
elif [ "$STAGE" = 6 ]; then
    (cd benchmark && python screen_score.py results/$NAME.csv --base fl --envs Humanoid-v4 \
        --worst-floor 0.9 --min-score 0.95 --out results/${NAME}_score6_humanoid.md)
    (cd benchmark && python screen_score.py results/$NAME.csv --base base --envs Ant-v4 \
        --worst-floor 0.8 --min-score 0.95 --out results/${NAME}_score6_ant.md)
elif [ "$STAGE" = 5 ]; then
    (cd benchmark && python screen_score.py results/$NAME.csv --base base --envs Hopper-v4 \
        --worst-floor 0.9 --min-score 1.05 --out results/${NAME}_score5.md)
elif [ "$STAGE" = 3 ]; then  # the rule's numbers by stage; screen_score.py's docstring says how
    (cd benchmark && python screen_score.py results/$NAME.csv --base base --envs Walker2d-v4 Ant-v4 \
        HalfCheetah-v4 --worst-floor 0.8 --min-score 0.95 --out results/${NAME}_score3.md)
else
    (cd benchmark && python screen_score.py results/$NAME.csv --base base --envs Hopper-v4 \
        Humanoid-v4 --worst-floor 0.9 --min-score 1.05 --out results/${NAME}_score.md)
fi
