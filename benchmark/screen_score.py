"""A screen's decision rule, applied to summarize.py's CSV: each candidate against a baseline.

    python benchmark/screen_score.py benchmark/results/ppo_defaults_screen.csv --base base \
        --worst-floor 0.9 --min-score 1.05 [--envs Hopper-v4 Humanoid-v4] [--seeds 201 202 203 204]
        [--median]

For each candidate c (a variant of the CSV) and task t: I(c, t), the interquartile mean of its
seeds' final returns (summarize.py's: for n < 4 seeds, the plain mean; with --median, the median),
and w(c, t), its worst seed, each beside the baseline's on the same task. The score of c is min over t of I(c, t) / I(base, t),
over the tasks where both have every seed given (a candidate run on fewer tasks is scored on those).
c passes if its score is above --min-score and w(c, t) >= --worst-floor x w(base, t) on every
task. Prints a markdown table and each candidate's verdict; --out writes them to a file too.
"""

import argparse
import csv
import statistics
from collections import defaultdict

from summarize import interquartile_mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--base", required=True, help="the baseline's variant name")
    parser.add_argument("--worst-floor", type=float, default=0.9)
    parser.add_argument("--min-score", type=float, default=1.05)
    parser.add_argument("--envs", nargs="+", help="only these tasks (default: all in the CSV)")
    parser.add_argument("--seeds", nargs="+", type=int, help="only these seeds (default: all)")
    parser.add_argument("--out", help="also write the output to this file")
    parser.add_argument("--median", action="store_true", help="the seeds' median instead of the IQM")
    args = parser.parse_args()
    finals = defaultdict(dict)  # (variant, env) -> {seed: final return}
    with open(args.csv) as file:
        for row in csv.DictReader(file):
            if (args.envs and row["env"] not in args.envs) or row["finished"] != "True":
                continue
            if args.seeds and int(row["seed"]) not in args.seeds:
                continue
            finals[row["variant"], row["env"]][int(row["seed"])] = float(row["final_return_last20"])
    lines = ["| candidate | task | seeds | IQM | worst seed | IQM / base's | worst / base's |",
             "|---|---|---|---|---|---|---|"]
    verdicts, centre = [], statistics.median if args.median else interquartile_mean
    lines[0] = lines[0].replace("IQM", "median") if args.median else lines[0]
    for variant in sorted({v for v, _ in finals} - {args.base}):
        ratios, floors_held = [], True
        for env in sorted(env for v, env in finals if v == variant):
            runs, base = finals[variant, env], finals.get((args.base, env), {})
            if not base or set(base) != set(runs):
                lines.append(f"| {variant} | {env} | {len(runs)} | | | not compared: the baseline's "
                             f"seeds are {sorted(base)}, these {sorted(runs)} | |")
                continue
            iqm, worst = centre(list(runs.values())), min(runs.values())
            base_iqm, base_worst = centre(list(base.values())), min(base.values())
            ratios.append(iqm / base_iqm)
            floors_held &= worst >= args.worst_floor * base_worst
            lines.append(f"| {variant} | {env} | {len(runs)} | {iqm:.0f} (base {base_iqm:.0f}) | "
                         f"{worst:.0f} (base {base_worst:.0f}) | {iqm / base_iqm:.3f} | "
                         f"{worst / base_worst:.3f} |")
        if ratios:
            score = min(ratios)
            passes = score > args.min_score and floors_held
            verdicts.append(f"- {variant}: score {score:.3f} on {len(ratios)} task(s); worst seeds "
                            f"{'held' if floors_held else 'not held'} (floor {args.worst_floor} x "
                            f"base's): **{'passes' if passes else 'fails'}**")
    text = "\n".join(lines + [""] + verdicts) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as file:
            file.write(text)


if __name__ == "__main__":
    main()
