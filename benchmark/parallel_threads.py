"""Runs side by side on one machine: torch's threads left to the script (every core) or one a run.

    python benchmark/parallel_threads.py [--env-id HalfCheetah-v4] [--iterations 16] [--repeats 2]
        [--out benchmark/results/parallel_threads]

Four cases, each run in a temporary directory with the script's defaults for --iterations
iterations: one run alone and two runs at once, each with OMP_NUM_THREADS unset (the script then
gives torch every core of the machine) and with OMP_NUM_THREADS=1. A run's SPS is its last
console line's: steps over the wall time since training began (its first iteration included).
Per case: the median over the repeats of each run's SPS, and of the machine's, the sum over the
runs at once. The cases alternate within each repeat. Run it with nothing else busy.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

from speed import cpu_model, versions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [("1 run, every core", 1, None), ("1 run, one thread", 1, "1"),
         ("2 runs at once, every core each", 2, None), ("2 runs at once, one thread each", 2, "1")]


def run_case(script: str, env_id: str, steps: int, runs: int, threads) -> list:
    """Start `runs` copies of the script at once; returns each one's final SPS."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update({"OMP_NUM_THREADS": threads} if threads else {})
    with tempfile.TemporaryDirectory() as cwd:
        processes = [subprocess.Popen(
            [sys.executable, os.path.join(ROOT, script), "--env-id", env_id, "--seed", str(1 + i),
             "--total-timesteps", str(steps), "--run-name", f"run{i}"],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for i in range(runs)]
        outputs = [process.communicate()[0] for process in processes]
    for process, output in zip(processes, outputs):
        if process.returncode:
            last = output.strip().splitlines()[-1] if output.strip() else "no output"
            sys.exit(f"error: a run exited {process.returncode}: {last}")
    return [int(re.findall(r"SPS\s+(\d+)", output)[-1]) for output in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", default="ppo_continuous.py")
    parser.add_argument("--env-id", default="HalfCheetah-v4")
    parser.add_argument("--iterations", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4096, help="the defaults' batch (16 x 256)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default="benchmark/results/parallel_threads")
    args = parser.parse_args()
    per_run = {name: [] for name, _, _ in CASES}
    machine = {name: [] for name, _, _ in CASES}
    for _ in range(args.repeats):
        for name, runs, threads in CASES:
            sps = run_case(args.script, args.env_id, args.iterations * args.batch, runs, threads)
            per_run[name] += sps
            machine[name].append(sum(sps))
            print(f"{name}: {sps}", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    lines = [f"# Runs side by side: torch's threads per run ({args.script}, {args.env_id})", "",
             f"`python benchmark/parallel_threads.py` at {commit}: the script's defaults for "
             f"{args.iterations} iterations ({args.iterations * args.batch:,} steps), {args.repeats} "
             f"repeats, cases alternating; {os.cpu_count()} cores ({cpu_model()}), {versions()}. "
             "SPS: each run's last console line (steps over the wall time since training began); "
             "the machine's: the sum over the runs at once. Medians over the repeats.", "",
             "| case | SPS of each run | the machine's SPS | every run's SPS |", "|---|---|---|---|"]
    for name, _, _ in CASES:
        lines.append(f"| {name} | {statistics.median(per_run[name]):,.0f} | "
                     f"{statistics.median(machine[name]):,.0f} | "
                     f"{', '.join(map(str, per_run[name]))} |")
    with open(args.out + ".md", "w") as file:
        file.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
