"""Training throughput of the scripts, against the rate at which the simulator alone can step.

    python benchmark/speed.py [--iterations 6] [--min-steps 12288] [--out benchmark/results/speed]

For every (script, config) below, in one run on this machine:
1. env-only SPS: the script's own vector env (its make_envs: same wrappers, same autoreset mode, the
   script's action scaling) stepped with random actions drawn beforehand, so only envs.step is
   timed. This is the simulator's limit.
2. training SPS: the script itself, run as a subprocess for one warm-up iteration and then at least
   --iterations iterations (and --min-steps steps), writing TensorBoard events to a temporary
   directory. The script logs charts/SPS once per iteration, after the iteration's work; the wall
   times of those events bound the timed iterations, so everything is counted (rollout, GAE,
   update, logging): training SPS = timed steps / (the last event's wall time - the warm-up
   iteration's event's wall time).
3. ratio = training SPS / env-only SPS: the share of the simulator's rate that training keeps.

Configs: A is the classic PPO-paper setting (one env x 2048 steps, hidden 64 64, minibatch 64, 10
epochs); B is the script's defaults. The continuous scripts run HalfCheetah-v4, the discrete one
CartPole-v1. Run it with nothing else busy on the machine: it times wall clock.

    python benchmark/speed.py --ranks 2 [--out benchmark/results/speed_torchrun]

instead measures data parallelism: for each case of RANK_CASES, the training SPS of one process
and of `torchrun --standalone --nproc_per_node 2` with the same flags (the same global --num-envs
and batch), one after the other in the same run, and their ratio.
"""

import argparse
import csv
import importlib
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

from summarize import load_events

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_A = ["--num-envs", "1", "--num-steps", "2048", "--hidden-sizes", "64", "64",
            "--minibatch-size", "64", "--update-epochs", "10"]
CASES = [  # (script, env id, config name, flags)
    # A as measured before PPO's defaults changed (the usual recipe's schedule and initial std, typed)
    ("ppo_continuous", "HalfCheetah-v4", "A",
     CONFIG_A + ["--lr-schedule", "linear", "--log-std-init", "0"]),
    ("ppo_continuous", "HalfCheetah-v4", "B", []),
    ("trpo_continuous", "HalfCheetah-v4", "A", CONFIG_A),
    ("trpo_continuous", "HalfCheetah-v4", "B", []),
    ("ppo_discrete", "CartPole-v1", "A", CONFIG_A),
    ("ppo_discrete", "CartPole-v1", "B", []),
    ("trpo_discrete", "CartPole-v1", "A", CONFIG_A),
    ("trpo_discrete", "CartPole-v1", "B", []),
]
RANK_CASES = [  # (script, env id, config name, flags) for --ranks
    ("ppo_continuous", "HalfCheetah-v4", "B", []),
    ("ppo_continuous", "HalfCheetah-v4", "B-16x256-mb512",
     ["--num-envs", "16", "--minibatch-size", "512"]),
    ("trpo_continuous", "HalfCheetah-v4", "B", []),
    ("ppo_discrete", "CartPole-v1", "B", []),
]


def parse_script_args(script: str, env_id: str, flags: list):
    """The script's Args for these flags, parsed by the script's own CLI (tyro)."""
    import tyro

    module = importlib.import_module(script)
    cli = getattr(module, "RunArgs", module.Args)  # RunArgs: Args and the run's own flags
    return module, tyro.cli(cli, args=["--env-id", env_id, *flags])


def env_only_rate(module, args, steps: int, seed: int = 0) -> float:
    """Steps per second of the script's vector env under random actions (drawn before timing)."""
    options = {"scale_actions": args.scale_actions} if hasattr(args, "scale_actions") else {}
    envs = module.make_envs(args.env_id, args.num_envs, **options)
    envs.action_space.seed(seed)
    envs.reset(seed=seed)
    batches = math.ceil(steps / args.num_envs)
    actions = [envs.action_space.sample() for _ in range(batches)]
    for action in actions[:100]:  # warm-up
        envs.step(action)
    start = time.perf_counter()
    for action in actions:
        envs.step(action)
    seconds = time.perf_counter() - start
    envs.close()
    return batches * args.num_envs / seconds


def sps_from_events(events: list, batch_size: int) -> float:
    """Training SPS from the charts/SPS events of a run, one per iteration, each logged after its
    iteration's work: the steps of every iteration after the first over the wall time between the
    first event and the last."""
    ends = sorted(event.wall_time for event in events)
    if len(ends) < 2 or ends[-1] <= ends[0]:
        raise ValueError(f"{len(ends)} charts/SPS events: too few to time an iteration")
    return (len(ends) - 1) * batch_size / (ends[-1] - ends[0])


def training_rate(script: str, env_id: str, flags: list, batch_size: int, iterations: int,
                  ranks: int = 1) -> float:
    """Training SPS of the script over `iterations` iterations after a warm-up one; ranks > 1: under
    torchrun with that many processes (timed by rank 0's events)."""
    launcher = [sys.executable]
    if ranks > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks)]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "runs", "run")
        command = [*launcher, os.path.join(ROOT, f"{script}.py"), "--env-id", env_id, *flags,
                   "--total-timesteps", str((1 + iterations) * batch_size), "--run-name", "run",
                   "--checkpoint-every", "0"]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
        events = load_events(run_dir)["charts/SPS"]
    return sps_from_events(events, batch_size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=6,
                        help="timed iterations after the warm-up (at least)")
    parser.add_argument("--min-steps", type=int, default=12288,
                        help="timed environment steps (at least)")
    parser.add_argument("--only", nargs="*", default=None, help="run only these scripts")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="flags added to every training run (e.g. --extra --no-cuda)")
    parser.add_argument("--ranks", type=int, default=1,
                        help="above 1: compare one process with torchrun --nproc_per_node RANKS "
                             "(RANK_CASES)")
    parser.add_argument("--out", default=None,
                        help="output prefix: <out>.md and <out>.csv (default: "
                             "benchmark/results/speed, or benchmark/results/speed_torchrun with "
                             "--ranks)")
    args = parser.parse_args()
    if args.out is None:
        name = "speed" if args.ranks == 1 else "speed_torchrun"
        args.out = os.path.join(ROOT, "benchmark", "results", name)
    sys.path.insert(0, ROOT)
    import torch

    load = os.getloadavg()[0]
    cpu = platform.processor() or platform.machine()
    header = (f"Machine: {os.cpu_count()} CPU cores ({cpu}), "
              f"torch {torch.__version__}, Python {platform.python_version()}, "
              f"{time.strftime('%Y-%m-%d')}; load average before the run {load:.2f}.")
    print(header, flush=True)
    if args.ranks > 1:
        return compare_ranks(args, header)
    rows = []
    for case in cases(CASES, args):
        script, env_id, config, flags, module, run_args, batch_size, iterations = case
        env_sps = env_only_rate(module, run_args, steps=max(args.min_steps, 2 * batch_size))
        train_sps = training_rate(script, env_id, flags, batch_size, iterations)
        row = {"script": f"{script}.py", "env": env_id, "config": config,
               "flags": " ".join(flags) or "(defaults)", "batch": batch_size, "env_sps": env_sps,
               "train_sps": train_sps, "ratio": train_sps / env_sps}
        rows.append(row)
        print(f"{row['script']:20} {config} {env_id:15} env-only {env_sps:8.0f} SPS | "
              f"training {train_sps:6.0f} SPS | ratio {row['ratio']:.2f}", flush=True)

    lines = [header, "",
             "| script | env | config | batch | env-only SPS | training SPS | ratio |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['script']} | {r['env']} | {r['config']} | {r['batch']} | "
                     f"{r['env_sps']:,.0f} | {r['train_sps']:,.0f} | {r['ratio']:.2f} |")
    lines += ["", "Config A: " + " ".join(CONFIG_A) + " (ppo_continuous.py also --lr-schedule "
              "linear --log-std-init 0, its earlier defaults). Config B: the script's defaults. "
              "Ratio: training SPS / env-only SPS."]
    write_results(args.out, lines, rows)
    return 0


def cases(table: list, args):
    """The cases of table that --only selects, with --extra added to their flags, each with the
    script's module, its parsed Args, its batch size and the number of timed iterations."""
    for script, env_id, config, flags in table:
        if args.only and script not in args.only:
            continue
        flags = flags + args.extra
        module, run_args = parse_script_args(script, env_id, flags)
        batch_size = run_args.num_envs * run_args.num_steps
        yield (script, env_id, config, flags, module, run_args, batch_size,
               max(args.iterations, math.ceil(args.min_steps / batch_size)))


def write_results(out: str, lines: list, rows: list) -> None:
    """<out>.md (the table lines) and <out>.csv (the rows, floats to 4 decimals)."""
    with open(f"{out}.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(f"{out}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in r.items()}
                         for r in rows)
    print(f"wrote {out}.md, {out}.csv")


def compare_ranks(args, header: str) -> int:
    """--ranks N: training SPS of one process and of N torchrun processes, same flags, side by
    side."""
    latency = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
         str(args.ranks), os.path.join(ROOT, "benchmark", "allreduce_latency.py")],
        capture_output=True, text=True, check=True).stdout.strip()
    header += f" Measured first (benchmark/allreduce_latency.py): {latency}."
    print(latency, flush=True)
    n, rows = args.ranks, []
    for script, env_id, config, flags, _, _, batch_size, iterations in cases(RANK_CASES, args):
        single = training_rate(script, env_id, flags, batch_size, iterations)
        parallel = training_rate(script, env_id, flags, batch_size, iterations, ranks=n)
        row = {"script": f"{script}.py", "env": env_id, "config": config,
               "flags": " ".join(flags) or "(defaults)", "batch": batch_size, "sps_1": single,
               f"sps_{n}": parallel, "speedup": parallel / single}
        rows.append(row)
        print(f"{row['script']:20} {config:15} {env_id:15} 1 process {single:6.0f} SPS | {n} ranks "
              f"{parallel:6.0f} SPS | x{row['speedup']:.2f}", flush=True)
    lines = [header, "",
             f"| script | env | config | batch | 1 process SPS | {n} ranks SPS | speedup |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['script']} | {r['env']} | {r['config']} | {r['batch']} | "
                     f"{r['sps_1']:,.0f} | {r[f'sps_{n}']:,.0f} | {r['speedup']:.2f} |")
    lines += ["", f"{n} ranks: torchrun --standalone --nproc_per_node {n}, gloo, one torch thread "
              f"per process; the same flags, so the same global envs, batch and minibatch. B: the "
              f"script's defaults."]
    write_results(args.out, lines, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
