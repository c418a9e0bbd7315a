"""Read a sweep's TensorBoard event files and write its results: a markdown/CSV table, PNG curves.

    python benchmark/summarize.py runs/halfcheetah_ppo --out benchmark/results/halfcheetah_ppo \
        [--threshold 475] [--last 20] [--plot-tags losses/kl losses/clipfrac]

Runs are the directories runs/<sweep>/<variant>__<env>__<seed>/ written by sweep.py. Per run: the
final return is the mean episodic (training) return of its last --last episodes; with --threshold,
also the first step at which the mean of the last --last episodes reached it; and its training
minutes (training_minutes). Per variant and env: mean and std of those over seeds. Curves: episodic
return binned over environment steps, mean over seeds with a band of +- one std (matplotlib, from
benchmark/requirements.txt; without it the table and the CSV are still written, and one line says
what the plot needs).

--earlier FILE.csv:VARIANT[=NAME] adds to the table the rows of VARIANT in a results CSV this script
wrote earlier (renamed NAME), for runs whose event files are gone: they count in the table's means
with the values the CSV recorded, and have no curves (the plot's legend counts the seeds it drew). A
run present under the sweep directories supersedes an earlier row of the same variant, env and seed.
"""

import argparse
import csv
import glob
import os
import sys
from collections import defaultdict

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def load_events(run_dir: str) -> dict:
    """Every scalar event of a run (all, not a sample):
    {tag: [event(wall_time, step, value), ...]}."""
    accumulator = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: accumulator.Scalars(tag) for tag in accumulator.Tags()["scalars"]}


# Tags renamed in the scripts: new name -> the name older runs logged the same scalar under.
OLDER_NAMES = {"losses/minibatch_approx_kl": "losses/approx_kl",
               "losses/minibatch_old_approx_kl": "losses/old_approx_kl",
               "losses/kl_penalty_beta": "losses/kl_beta"}


def read_scalars(run_dir: str, tags) -> dict:
    """{tag: (steps, values)} for the tags the run logged, one value per step (the last one logged);
    a tag renamed since the run was written is read under its older name (OLDER_NAMES)."""
    events, out = load_events(run_dir), {}
    for tag in tags:
        logged_as = tag if tag in events else OLDER_NAMES.get(tag)
        if logged_as in events:
            points = sorted({e.step: e.value for e in events[logged_as]}.items())
            out[tag] = (np.array([s for s, _ in points]), np.array([v for _, v in points]))
    return out


def read_episodes(run_dir: str):
    """(steps, returns) of every episode, in order of the step at which it ended."""
    events = load_events(run_dir).get("charts/episodic_return", [])
    ordered = sorted((e.step, e.wall_time, e.value) for e in events)
    return np.array([s for s, _, _ in ordered]), np.array([v for _, _, v in ordered])


# Older versions of the scripts logged the seconds of each iteration's phases under these tags.
TIME_TAGS = ("time/rollout_seconds", "time/gae_seconds", "time/update_seconds")
MAX_GAP_SECONDS = 600  # a longer gap between two consecutive events is a pause, not training


def training_minutes(run_dir: str) -> float:
    """Minutes the run spent training, without the pause of a run stopped and resumed later.

    Runs with the time/* scalars (older versions of the scripts): rollouts, GAE and updates summed
    over iterations. Other runs: the gaps between the wall times of consecutive scalar events,
    summed, leaving out gaps longer than MAX_GAP_SECONDS (the first iteration, before the first
    event, is not counted)."""
    scalars = read_scalars(run_dir, TIME_TAGS)
    if scalars:
        return sum(values.sum() for _, values in scalars.values()) / 60
    events = load_events(run_dir)
    gaps = np.diff(np.sort([event.wall_time for tag in events for event in events[tag]]))
    return float(gaps[gaps <= MAX_GAP_SECONDS].sum()) / 60


def steps_to_threshold(steps, returns, threshold: float, window: int):
    """First step at which the mean of the last `window` episodes is at least threshold (None if
    never)."""
    for i in range(window - 1, len(returns)):
        if returns[i - window + 1:i + 1].mean() >= threshold:
            return int(steps[i])
    return None


def steps_staying_above(steps, returns, threshold: float, window: int):
    """First step from which the mean of the last `window` episodes stays at least threshold until
    the end of the run (None if the run ends below it)."""
    first = None
    for i in range(len(returns) - 1, window - 2, -1):
        if returns[i - window + 1:i + 1].mean() < threshold:
            break
        first = i
    return None if first is None else int(steps[first])


def binned(steps, values, edges):
    """Mean of values in each bin of steps (carrying the last value forward through empty bins)."""
    out, last = [], np.nan
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = values[(steps > lo) & (steps <= hi)]
        last = inside.mean() if len(inside) else last
        out.append(last)
    return np.array(out)


def parse_run_name(name: str):
    variant, env, seed = name.split("__")
    return variant, env, int(seed)


def find_runs(sweep_dirs) -> list:
    """(label, run_dir) of every run under the sweep directories; "LABEL=DIR" labels DIR's runs."""
    labelled = [sweep.split("=", 1) if "=" in sweep else ("", sweep) for sweep in sweep_dirs]
    return sorted((label, d) for label, sweep in labelled
                  for d in glob.glob(os.path.join(sweep, "*__*__*")) if os.path.isdir(d))


def csv_columns(last: int) -> list:
    return ["variant", "env", "seed", "finished", "last_episode_step", f"final_return_last{last}",
            "steps_to_threshold", "steps_staying_above_threshold", "training_minutes"]


def earlier_rows(spec: str, last: int) -> list:
    """The per-run rows of one --earlier FILE.csv:VARIANT[=NAME], as main() keeps them (without
    curves)."""
    path, _, selection = spec.rpartition(":")
    variant, _, name = selection.partition("=")
    if not path or not variant:
        raise ValueError(f"{spec!r} must look like FILE.csv:VARIANT or FILE.csv:VARIANT=NAME")
    rows = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in csv_columns(last) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} is not a results CSV of this script with --last {last} "
                             f"(no column {missing[0]})")
        for row in reader:
            if row["variant"] != variant:
                continue
            to_threshold, stays_above = (row["steps_to_threshold"],
                                         row["steps_staying_above_threshold"])
            rows.append({
                "variant": name or variant, "env": row["env"], "seed": int(row["seed"]),
                "done": row["finished"] == "True", "last_step": int(row["last_episode_step"]),
                "final": float(row[f"final_return_last{last}"]),
                "minutes": float(row["training_minutes"]),
                "to_threshold": int(to_threshold) if to_threshold else None,
                "stays_above": int(stays_above) if stays_above else None,
            })
    if not rows:
        raise ValueError(f"{path} has no rows of variant {variant!r}")
    return rows


def run_row(label: str, run_dir: str, args):
    """The row of one run (None if it finished no episode)."""
    variant, env, seed = parse_run_name(os.path.basename(run_dir))
    steps, returns = read_episodes(run_dir)
    if len(returns) == 0:
        return None
    threshold = args.threshold
    return {
        "variant": f"{label} {variant}" if label else variant, "env": env, "seed": seed,
        "run_dir": run_dir, "steps": steps, "returns": returns,
        "done": os.path.exists(os.path.join(run_dir, "DONE")), "last_step": int(steps[-1]),
        "final": float(returns[-args.last:].mean()), "minutes": training_minutes(run_dir),
        "to_threshold": None if threshold is None else steps_to_threshold(steps, returns, threshold,
                                                                          args.last),
        "stays_above": None if threshold is None else steps_staying_above(steps, returns, threshold,
                                                                          args.last),
    }


def write_csv(path: str, per_run: list, last: int) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_columns(last))
        for r in per_run:
            writer.writerow([r["variant"], r["env"], r["seed"], r["done"], r["last_step"],
                             f"{r['final']:.1f}",
                             "" if r["to_threshold"] is None else r["to_threshold"],
                             "" if r["stays_above"] is None else r["stays_above"],
                             f"{r['minutes']:.1f}"])


def interquartile_mean(values) -> float:
    """The mean of the middle half: the sorted values without the lowest and the highest
    floor(n / 4) (as scipy.stats.trim_mean(values, 0.25)); for n < 4, the plain mean."""
    values, cut = np.sort(values), len(values) // 4
    return float(values[cut:len(values) - cut].mean())


def table_lines(groups: dict, args) -> list:
    """The markdown table: one row per (env, variant)."""
    threshold = args.threshold
    header = (f"| env | variant | seeds | steps | final return (mean of last {args.last} "
              f"episodes), mean +- std over seeds (population std) | per seed | interquartile mean |")
    rule = "|---|---|---|---|---|---|---|"
    if threshold is not None:
        header += f" steps to {threshold:g} | at least {threshold:g} from step |"
        rule += "---|---|"
    lines = [header + " training minutes per seed |", rule + "---|"]
    for (env, variant), rs in sorted(groups.items()):
        finals = np.array([r["final"] for r in rs])
        seeds = f"{len(rs)}{'' if all(r['done'] for r in rs) else ' (unfinished)'}"
        row = (f"| {env} | {variant} | {seeds} | {min(r['last_step'] for r in rs):,} | "
               f"{finals.mean():.1f} +- {finals.std():.1f} | "
               f"{', '.join(f'{x:.0f}' for x in finals)} | {interquartile_mean(finals):.1f} |")
        if threshold is not None:
            for key in ("to_threshold", "stays_above"):
                cells = ("never" if r[key] is None else f"{r[key]:,}" for r in rs)
                row += " " + ", ".join(cells) + " |"
        row += " " + ", ".join(f"{r['minutes']:.0f}" for r in rs) + " |"
        lines.append(row)
    if args.earlier:
        lines += ["", "Rows include runs read from earlier results (no curves): "
                  + "; ".join(args.earlier)]
    return lines


def plot(groups: dict, args, plt) -> None:
    """<out>.png: per env, the episodic return (and each --plot-tags tag) of every variant, binned
    over steps, mean over seeds +- one std."""
    envs = sorted({env for env, _ in groups})
    panels = ([("charts/episodic_return", env) for env in envs]
              + [(tag, env) for tag in args.plot_tags for env in envs])
    columns = min(len(panels), 3)
    rows = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4 * rows), squeeze=False)
    for ax, (tag, env) in zip(axes.flat, panels):
        for (group_env, variant), rs in sorted(groups.items()):
            if group_env != env:
                continue
            edges = np.linspace(0, max(r["last_step"] for r in rs), args.bins + 1)
            curves = []
            for r in rs:
                if "run_dir" not in r:  # an --earlier row: its event files are gone
                    continue
                if tag == "charts/episodic_return":
                    steps, values = r["steps"], r["returns"]
                else:
                    scalars = read_scalars(r["run_dir"], [tag])
                    if tag not in scalars:
                        continue
                    steps, values = scalars[tag]
                curves.append(binned(steps, values, edges))
            if not curves:
                continue
            curves = np.array(curves)
            mean, std = np.nanmean(curves, 0), np.nanstd(curves, 0)
            ax.plot(edges[1:], mean, label=f"{variant} ({len(curves)} seeds)")
            ax.fill_between(edges[1:], mean - std, mean + std, alpha=0.2)
        ax.set_title(f"{args.title}{env}: {tag.split('/')[-1]}")
        ax.set_xlabel("environment steps")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(f"{args.out}.png", dpi=90)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", nargs="+",
                        help="runs/<sweep> directories (several are merged); LABEL=DIR names the "
                             "variants of DIR 'LABEL <variant>', to tell apart sweeps of different "
                             "scripts")
    parser.add_argument("--out", required=True,
                        help="output prefix: <out>.md, <out>.csv, <out>.png")
    parser.add_argument("--last", type=int, default=20,
                        help="episodes averaged for the final return")
    parser.add_argument("--threshold", type=float, default=None,
                        help="report steps to reach this return")
    parser.add_argument("--plot-tags", nargs="*", default=[],
                        help="also plot these scalar tags over training")
    parser.add_argument("--bins", type=int, default=50, help="points on each curve")
    parser.add_argument("--title", default="", help="title prefix of the plots")
    parser.add_argument("--earlier", action="append", default=[], metavar="FILE.csv:VARIANT[=NAME]",
                        help="also the rows of VARIANT (renamed NAME) in a results CSV written "
                             "earlier, for runs whose event files are gone (in the table, without "
                             "curves); repeatable")
    args = parser.parse_args()

    runs = find_runs(args.sweep_dir)
    if not runs:
        print(f"error: no runs under {args.sweep_dir}", file=sys.stderr)
        return 2
    try:
        earlier = [row for spec in args.earlier for row in earlier_rows(spec, args.last)]
    except (OSError, ValueError, KeyError) as error:
        print(f"error: --earlier: {error}", file=sys.stderr)
        return 2
    per_run = [row for label, run_dir in runs if (row := run_row(label, run_dir, args))]
    # an earlier row of a run that is also here (the same variant, env and seed) is superseded
    present = {(r["variant"], r["env"], r["seed"]) for r in per_run}
    per_run = [r for r in earlier if (r["variant"], r["env"], r["seed"]) not in present] + per_run

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_csv(f"{args.out}.csv", per_run, args.last)
    groups = defaultdict(list)
    for r in per_run:
        groups[(r["env"], r["variant"])].append(r)
    lines = table_lines(groups, args)
    with open(f"{args.out}.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    try:
        import matplotlib
    except ImportError:
        print(f"wrote {args.out}.md, {args.out}.csv; no plot: it needs matplotlib "
              f"(pip install -r benchmark/requirements.txt)")
        return 0
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot(groups, args, plt)
    print(f"wrote {args.out}.md, {args.out}.csv, {args.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
