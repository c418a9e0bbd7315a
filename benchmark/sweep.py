"""Run one of the scripts over envs x seeds x flag variants, as parallel processes, resumably.

    python benchmark/sweep.py --name halfcheetah --script ppo_continuous.py --envs HalfCheetah-v4 \
        --seeds 1 2 3 --variant default= --variant no-value-clip=--no-value-clip --jobs 2 -- --total-timesteps 1000000

Each run logs to runs/<name>/<variant>__<env>__<seed>/ (TensorBoard events, checkpoint.pt, stdout.log).
A run that exited 0 leaves a file DONE there and is skipped by the next invocation; an unfinished one
is resumed from its last checkpoint (runs write one every --checkpoint-every iterations, and a last one
at the end with --save-model, so a finished run's checkpoint.pt holds its final policy), or restarted
when it has none (the scripts refuse to start a fresh run in an existing directory, so the failed
attempt's directory moves to runs/<name>/failed-attempts/<run>-<time>/ first). Beside the run's
directory, a run in progress holds a file <run>.RUNNING (its sweep's pid), so several sweep processes
started on the same runs share them out, and writes its console to <run>.stdout.log, which is appended
to the run's stdout.log when it exits. Arguments after "--" go to every run. --torchrun N runs each
run data-parallel under `torchrun --standalone --nproc_per_node N` (a run then uses N cores).
Each run gets one torch thread (OMP_NUM_THREADS=1) unless OMP_NUM_THREADS is set: the README's
results are one thread's, and runs at once that each take every core slow each other down
(benchmark/results/parallel_threads.md).
"""

import argparse
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_variant(text: str):
    name, _, flags = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"variant {text!r} must look like NAME=FLAGS")
    return name, shlex.split(flags)


def run_one(script: str, run_name: str, argv: list, checkpoint_every: int, ranks: int = 1) -> tuple:
    run_dir = os.path.join(ROOT, "runs", run_name)
    if os.path.exists(os.path.join(run_dir, "DONE")):
        return run_name, "skipped (done)", 0.0
    os.makedirs(os.path.dirname(run_dir), exist_ok=True)  # not run_dir: a fresh run creates it itself
    if not claim(run_dir + ".RUNNING"):
        return run_name, "skipped (running in another sweep process)", 0.0
    try:
        return run_claimed(script, run_name, run_dir, argv, checkpoint_every, ranks)
    finally:
        os.remove(run_dir + ".RUNNING")


def claim(lock: str) -> bool:
    """Create the file lock holding our pid, unless a live process holds it: several sweep processes
    over the same runs then share them out instead of running one twice."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(lock) as f:
                    os.kill(int(f.read().strip() or 0), 0)  # raises if that process is gone
                return False
            except (ProcessLookupError, ValueError, FileNotFoundError):
                try:
                    os.remove(lock)  # stale: its sweep died
                except FileNotFoundError:
                    pass
                continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return True
    return False


def run_claimed(script: str, run_name: str, run_dir: str, argv: list, checkpoint_every: int, ranks: int = 1) -> tuple:
    launcher = [sys.executable] if ranks == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                   "--nproc_per_node", str(ranks)]
    command = [*launcher, os.path.join(ROOT, script), "--checkpoint-every", str(checkpoint_every),
               "--save-model"]
    checkpoint = os.path.join(run_dir, "checkpoint.pt")
    if os.path.exists(checkpoint):  # its settings hold: the scripts refuse training flags with it
        command += ["--resume", checkpoint]
    else:
        command += ["--run-name", run_name, *argv]
    if not os.path.exists(checkpoint) and os.path.exists(run_dir):
        # restarted from scratch: the scripts refuse an existing directory, so it moves aside
        attempts = os.path.join(os.path.dirname(run_dir), "failed-attempts")
        os.makedirs(attempts, exist_ok=True)
        os.rename(run_dir, os.path.join(attempts, f"{os.path.basename(run_dir)}-{int(time.time())}"))
    start = time.time()
    with open(run_dir + ".stdout.log", "w") as log:
        log.write(f"$ {shlex.join(command)}\n")
        log.flush()
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        code = subprocess.call(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    elapsed = time.time() - start
    os.makedirs(run_dir, exist_ok=True)  # a run that failed before creating it still keeps its log
    with open(run_dir + ".stdout.log") as console, open(os.path.join(run_dir, "stdout.log"), "a") as log:
        log.write(console.read())
    os.remove(run_dir + ".stdout.log")
    if code == 0:
        with open(os.path.join(run_dir, "DONE"), "w") as f:
            f.write(f"{elapsed:.0f} s\n")
        return run_name, "done", elapsed
    return run_name, f"FAILED (exit {code}, see {run_dir}/stdout.log)", elapsed


def main() -> int:
    argv = sys.argv[1:]
    passthrough = []
    if "--" in argv:
        argv, passthrough = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="sweep name: runs go to runs/<name>/")
    parser.add_argument("--script", required=True, help="ppo_continuous.py, ppo_discrete.py or trpo_continuous.py")
    parser.add_argument("--envs", nargs="+", required=True, help="env ids")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="seeds")
    parser.add_argument("--variant", action="append", type=parse_variant, default=None,
                        help="NAME=FLAGS, repeatable (default: one variant 'default' with no flags)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--checkpoint-every", type=int, default=20, help="iterations between checkpoints")
    parser.add_argument("--torchrun", type=int, default=1, metavar="N",
                        help="run each run under torchrun with N processes (default 1: plain python)")
    args = parser.parse_args(argv)
    variants = args.variant or [("default", [])]

    runs = [(f"{args.name}/{variant}__{env}__{seed}", ["--env-id", env, "--seed", str(seed), *flags, *passthrough])
            for variant, flags in variants for env in args.envs for seed in args.seeds]
    print(f"{len(runs)} runs, {args.jobs} at a time, into runs/{args.name}/", flush=True)
    failed = 0
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, args.script, name, run_argv, args.checkpoint_every, args.torchrun) for name, run_argv in runs]
        for future in futures:
            name, outcome, elapsed = future.result()
            failed += outcome.startswith("FAILED")
            print(f"{name}: {outcome} ({elapsed / 60:.1f} min)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
