"""Training statistics of a sweep, as numbers: the per-segment means behind the curves of summarize.py.

    python benchmark/training_stats.py runs/halfcheetah_ppo --tags losses/approx_kl losses/clipfrac \
        --out benchmark/results/halfcheetah_ppo_stats.md

Per (env, variant) and tag: training is cut into --segments equal parts by iteration; each cell is the
mean of the tag's per-iteration values in that part, averaged over seeds. Then the smallest and largest
single value over all seeds, and how many iterations (over all seeds) logged a value > 0.
"""

import argparse
import os
import sys
from collections import defaultdict

import numpy as np

from summarize import find_runs, parse_run_name, read_scalars


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", nargs="+", help="runs/<sweep> directories; LABEL=DIR as in summarize.py")
    parser.add_argument("--tags", nargs="+", required=True, help="scalar tags to report")
    parser.add_argument("--segments", type=int, default=8, help="parts of training")
    parser.add_argument("--out", required=True, help="markdown file to write")
    args = parser.parse_args()

    groups = defaultdict(list)
    for label, run_dir in find_runs(args.sweep_dir):
        variant, env, _ = parse_run_name(os.path.basename(run_dir))
        groups[(env, f"{label} {variant}" if label else variant)].append(read_scalars(run_dir, args.tags))
    if not groups:
        print(f"error: no runs under {args.sweep_dir}", file=sys.stderr)
        return 2
    header = ("| env | variant | tag | " + " | ".join(f"part {i + 1}" for i in range(args.segments))
              + " | min | max | iterations > 0 |")
    lines = [header, "|" + "---|" * (args.segments + 6)]
    for (env, variant), runs in sorted(groups.items()):
        for tag in args.tags:
            values = [run[tag][1] for run in runs if tag in run]
            if not values:
                continue
            parts = np.mean([[part.mean() for part in np.array_split(v, args.segments)] for v in values], axis=0)
            every = np.concatenate(values)
            lines.append(f"| {env} | {variant} ({len(values)} seeds) | {tag} | "
                         + " | ".join(f"{x:.4g}" for x in parts)
                         + f" | {every.min():.4g} | {every.max():.4g} | {(every > 0).sum()} of {len(every)} |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
