"""Training statistics of a sweep, as numbers: the per-segment means behind the curves of summarize.py.

    python benchmark/training_stats.py runs/halfcheetah_ppo --tags losses/minibatch_approx_kl losses/clipfrac \
        --out benchmark/results/halfcheetah_ppo_stats.md

Per (env, variant) and tag: training is cut into --segments equal parts by iteration (or, with
--bin-steps B, into the step ranges [0, B), [B, 2B), ..., so that runs of different lengths line up);
each cell is the mean of the tag's per-iteration values in that part, averaged over seeds (empty: no
seed reached it). Then the smallest and largest single value over all seeds, and how many iterations
(over all seeds) logged a value > 0.
"""

import argparse
import os
import sys
import warnings
from collections import defaultdict

import numpy as np

from summarize import find_runs, parse_run_name, read_scalars


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", nargs="+", help="runs/<sweep> directories; LABEL=DIR as in summarize.py")
    parser.add_argument("--tags", nargs="+", required=True, help="scalar tags to report")
    parser.add_argument("--segments", type=int, default=8, help="parts of training")
    parser.add_argument("--bin-steps", type=int, default=0, help="parts of this many env steps instead of --segments")
    parser.add_argument("--out", required=True, help="markdown file to write")
    args = parser.parse_args()

    groups = defaultdict(list)
    for label, run_dir in find_runs(args.sweep_dir):
        variant, env, _ = parse_run_name(os.path.basename(run_dir))
        groups[(env, f"{label} {variant}" if label else variant)].append(read_scalars(run_dir, args.tags))
    if not groups:
        print(f"error: no runs under {args.sweep_dir}", file=sys.stderr)
        return 2
    if args.bin_steps:
        last_step = max(run[tag][0].max() for runs in groups.values() for run in runs for tag in run)
        num_parts = int(last_step // args.bin_steps) + 1
        names = [f"{k * args.bin_steps / 1e6:g}-{(k + 1) * args.bin_steps / 1e6:g}M" for k in range(num_parts)]
    else:
        num_parts, names = args.segments, [f"part {i + 1}" for i in range(args.segments)]

    def parts_of(steps, values):
        if not args.bin_steps:
            return [part.mean() for part in np.array_split(values, num_parts)]
        bins = steps // args.bin_steps
        return [values[bins == k].mean() if (bins == k).any() else np.nan for k in range(num_parts)]

    header = "| env | variant | tag | " + " | ".join(names) + " | min | max | iterations > 0 |"
    lines = [header, "|" + "---|" * (num_parts + 6)]
    for (env, variant), runs in sorted(groups.items()):
        for tag in args.tags:
            series = [run[tag] for run in runs if tag in run]
            if not series:
                continue
            with warnings.catch_warnings():  # a part no seed reached is nan, and says nothing
                warnings.simplefilter("ignore", RuntimeWarning)
                parts = np.nanmean([parts_of(steps, values) for steps, values in series], axis=0)
            every = np.concatenate([values for _, values in series])
            lines.append(f"| {env} | {variant} ({len(series)} seeds) | {tag} | "
                         + " | ".join("" if np.isnan(x) else f"{x:.4g}" for x in parts)
                         + f" | {every.min():.4g} | {every.max():.4g} | {(every > 0).sum()} of {len(every)} |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
