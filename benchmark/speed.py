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

    python benchmark/speed.py --compare CONFIG [CONFIG ...] [--sides OLD NEW] [--repeats 3]
        [--old-env NAME=VALUE ...] [--new-env NAME=VALUE ...] [--out PREFIX]

instead measures a change side by side: the named CONFIGS (A, B-HalfCheetah, B-Humanoid, TRPO-A,
TRPO-HalfCheetah, discrete-B, TRPO-discrete-B) on two sides, old and new. A side is a git revision
(run from a temporary `git worktree add --detach` of it, removed afterwards, also on failure) or
WORKTREE (the working tree as the run starts: a snapshot of its tracked files by `git stash create`,
so edits made during the run do not leak in), plus environment variables for its processes. The two
sides alternate run by run (old 1, new 1, old 2, new 2, ...; each repeat goes through the configs in
the order given). Each run: the side's env-only SPS (its make_envs, in a subprocess), then its
training SPS, timed as above: 1 warm-up iteration, then --iterations / --min-steps timed ones. The
script's start-up (imports, env creation) and first iteration are left out, as one-off costs that
would only dilute the ratio (hence the events' wall times, not the charts/SPS values: those count
from the start of training). Reported per config: each side's median over the repeats, the ratio
new/old of the medians, and training / env-only per side; <out>.md says what was compared
(commits, settings, machine, versions, steps, repeats); <out>.csv holds every run.

    python benchmark/speed.py --compare B-HalfCheetah A --sides HEAD WORKTREE --out /tmp/change
    python benchmark/speed.py --compare A --old-env OMP_NUM_THREADS=1 --new-env OMP_NUM_THREADS=2
    python benchmark/speed.py --compare B-HalfCheetah --sides HEAD~3 HEAD --repeats 5
    python benchmark/speed.py --compare A --repeats 3   # WORKTREE vs itself: the noise floor
"""

import argparse
import contextlib
import csv
import importlib
import importlib.metadata
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from summarize import load_events

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARK = os.path.join(ROOT, "benchmark")
CONFIG_A = ["--num-envs", "1", "--num-steps", "2048", "--hidden-sizes", "64", "64",
            "--minibatch-size", "64", "--update-epochs", "10"]
# A as measured before PPO's defaults changed (the usual recipe's schedule and initial std, typed)
CONFIG_A_PPO = CONFIG_A + ["--lr-schedule", "linear", "--log-std-init", "0"]
CASES = [  # (script, env id, config name, flags)
    ("ppo_continuous", "HalfCheetah-v4", "A", CONFIG_A_PPO),
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
CONFIGS = {  # for --compare: name -> (script, env id, flags)
    "A": ("ppo_continuous", "HalfCheetah-v4", CONFIG_A_PPO),
    "B-HalfCheetah": ("ppo_continuous", "HalfCheetah-v4", []),
    "B-Humanoid": ("ppo_continuous", "Humanoid-v4", []),
    "TRPO-A": ("trpo_continuous", "HalfCheetah-v4", CONFIG_A),
    "TRPO-HalfCheetah": ("trpo_continuous", "HalfCheetah-v4", []),
    "discrete-B": ("ppo_discrete", "CartPole-v1", []),
    "TRPO-discrete-B": ("trpo_discrete", "CartPole-v1", []),
}
WORKTREE = "WORKTREE"  # --sides: the working tree (its tracked files) as the run starts


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
                  ranks: int = 1, root: str = ROOT, env: dict = None) -> float:
    """Training SPS of the script over `iterations` iterations after a warm-up one; ranks > 1: under
    torchrun with that many processes (timed by rank 0's events). root: the directory of the
    script; env: variables added to the process's environment."""
    launcher = [sys.executable]
    if ranks > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks)]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "runs", "run")
        command = [*launcher, os.path.join(root, f"{script}.py"), "--env-id", env_id, *flags,
                   "--total-timesteps", str((1 + iterations) * batch_size), "--run-name", "run",
                   "--checkpoint-every", "0"]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True,
                                env={**os.environ, **(env or {})})
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
                             "--ranks, benchmark/results/speed_compare with --compare)")
    parser.add_argument("--compare", nargs="+", choices=list(CONFIGS), metavar="CONFIG",
                        help=f"measure these configs on two sides: {', '.join(CONFIGS)}")
    parser.add_argument("--sides", nargs=2, metavar=("OLD", "NEW"),
                        help=f"--compare: a git revision or {WORKTREE} each (default: both "
                             f"{WORKTREE})")
    parser.add_argument("--old-env", nargs="+", type=assignment, default=[], metavar="NAME=VALUE",
                        help="--compare: environment variables of the old side's processes")
    parser.add_argument("--new-env", nargs="+", type=assignment, default=[], metavar="NAME=VALUE",
                        help="--compare: environment variables of the new side's processes")
    parser.add_argument("--repeats", type=int, help="--compare: runs per side and config (3)")
    args = parser.parse_args()
    compare_only = args.sides or args.old_env or args.new_env or args.repeats is not None
    if args.compare is None and compare_only:
        parser.error("--sides, --old-env, --new-env and --repeats go with --compare")
    if args.compare and (args.ranks > 1 or args.only):
        parser.error("--compare takes neither --ranks nor --only")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.repeats = args.repeats or 3
    if args.out is None:
        name = "speed_compare" if args.compare else "speed" if args.ranks == 1 else "speed_torchrun"
        args.out = os.path.join(ROOT, "benchmark", "results", name)
    sys.path.insert(0, ROOT)

    load = os.getloadavg()[0]
    header = (f"Machine: {os.cpu_count()} CPU cores ({cpu_model()}), {versions()}, "
              f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; "
              f"load average before the run {load:.2f}.")
    print(header, flush=True)
    if args.ranks > 1:
        return compare_ranks(args, header)
    if args.compare:
        return compare_sides(args, header)
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


def assignment(text: str) -> tuple:
    """NAME=VALUE of --old-env / --new-env as (name, value)."""
    name, equals, value = text.partition("=")
    if not name or not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def versions() -> str:
    """The versions of the packages that set the speed, as this interpreter has them."""
    found = []
    for package in ("torch", "gymnasium", "mujoco"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"no {package}")
    return ", ".join(found)


def git(*argv) -> str:
    done = subprocess.run(["git", "-C", ROOT, *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: git {' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout.strip()


def resolve(revision: str) -> tuple:
    """(the commit to run, what it is in words) of a --sides entry."""
    if revision != WORKTREE:
        commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
        subject = git("log", "-1", "--format=%s", commit)
        subject = subject if len(subject) <= 80 else subject[:77] + "..."
        return commit, f"commit {commit} ({revision}: {subject})"
    head, changed = git("rev-parse", "HEAD"), git("diff", "HEAD", "--name-only").split()
    if not changed:
        return head, f"the working tree, no uncommitted changes: HEAD {head}"
    snapshot = git("stash", "create")
    return snapshot, (f"the working tree: HEAD {head} with the uncommitted changes to "
                      f"{', '.join(changed)}, run from their snapshot, commit {snapshot} "
                      f"(git stash create; untracked files are not in it)")


@contextlib.contextmanager
def checkout(commit: str):
    """A temporary detached git worktree of commit, removed afterwards, also on failure."""
    path = tempfile.mkdtemp(prefix="speed-")
    try:
        git("worktree", "add", "--detach", path, commit)
        yield path
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path],
                       capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


def probe(script: str, env_id: str, flags: list, min_steps: int) -> dict:
    """Run in a side's process, its checkout first on sys.path: the batch size of the flags there
    and the env-only SPS of that script's vector env."""
    module, run_args = parse_script_args(script, env_id, flags)
    batch_size = run_args.num_envs * run_args.num_steps
    steps = max(min_steps, 2 * batch_size)
    return {"batch": batch_size, "env_sps": env_only_rate(module, run_args, steps)}


PROBE = ("import json, sys; sys.path[:0] = sys.argv[1:3]; import speed; "
         "print(json.dumps(speed.probe(*json.loads(sys.argv[3]))))")


def measure(root: str, env: dict, script: str, env_id: str, flags: list, args) -> dict:
    """One run of one side: batch, timed steps, env-only SPS and training SPS of the script in
    root, its processes with env added to their environment."""
    command = [sys.executable, "-c", PROBE, root, BENCHMARK,
               json.dumps([script, env_id, flags, args.min_steps])]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True,
                            env={**os.environ, **env})
    if result.returncode != 0:
        raise RuntimeError(f"env-only {script} {' '.join(flags)} in {root} failed:\n"
                           f"{result.stderr[-2000:]}")
    probed = json.loads(result.stdout.splitlines()[-1])
    batch = probed["batch"]
    iterations = max(args.iterations, math.ceil(args.min_steps / batch))
    train_sps = training_rate(script, env_id, flags, batch, iterations, root=root, env=env)
    return {"batch": batch, "timed_steps": iterations * batch, "env_sps": probed["env_sps"],
            "train_sps": train_sps}


def compare_sides(args, header: str) -> int:
    """--compare: the configs on the old and the new side, alternating run by run."""
    revisions = args.sides or [WORKTREE] * 2
    resolved, sides = {revision: resolve(revision) for revision in dict.fromkeys(revisions)}, {}
    for name, revision, env in zip(("old", "new"), revisions,
                                   (dict(args.old_env), dict(args.new_env))):
        commit, described = resolved[revision]
        settings = " ".join(f"{k}={v}" for k, v in env.items()) or "no variables added"
        sides[name] = {"commit": commit, "env": env, "said": f"{described}; {settings}"}
    rows = []
    with contextlib.ExitStack() as stack:
        roots = {commit: stack.enter_context(checkout(commit))
                 for commit in dict.fromkeys(side["commit"] for side in sides.values())}
        for repeat in range(1, args.repeats + 1):
            for config in args.compare:
                script, env_id, flags = CONFIGS[config]
                for name, side in sides.items():
                    row = {"config": config, "side": name, "repeat": repeat,
                           **measure(roots[side["commit"]], side["env"], script, env_id,
                                     flags + args.extra, args)}
                    rows.append(row)
                    print(f"{config:16} {name} {repeat}: env-only {row['env_sps']:8.0f} SPS | "
                          f"training {row['train_sps']:6.0f} SPS", flush=True)
    write_results(args.out, compare_report(args, header, sides, rows), rows)
    return 0


def compare_report(args, header: str, sides: dict, rows: list) -> list:
    """The lines of --compare's <out>.md: what was compared, how, and the table."""
    inherited = [f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                 if k in os.environ]
    lines = ["# Training speed side by side", "",
             f"- old: {sides['old']['said']}", f"- new: {sides['new']['said']}",
             f"- {header} Both sides run with {sys.executable}; inherited thread settings: "
             f"{' '.join(inherited) or 'none'} (the scripts use one torch thread unless "
             f"OMP_NUM_THREADS is set).",
             f"- Repeats: {args.repeats}; in each, the configs in the order below, each config's "
             f"old run, then its new run. A run: the side's env-only SPS (its make_envs stepped "
             f"with random actions, max(--min-steps {args.min_steps}, 2 batches) steps), then its "
             f"script for 1 warm-up iteration and the timed steps below (at least --iterations "
             f"{args.iterations} iterations and --min-steps {args.min_steps} steps). Training SPS: "
             f"the timed steps over the wall time between the warm-up iteration's charts/SPS event "
             f"and the last one: start-up and the first iteration are left out.",
             f"- Extra flags on every run: {' '.join(args.extra) or 'none'}.", "",
             "| config | script | env | flags | timed steps per run | old SPS | new SPS | "
             "new/old | old runs | new runs | old training / env-only | new training / env-only |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for config in args.compare:
        script, env_id, flags = CONFIGS[config]
        mine = {name: [r for r in rows if r["config"] == config and r["side"] == name]
                for name in sides}
        train = {name: np.median([r["train_sps"] for r in own]) for name, own in mine.items()}
        share = {name: train[name] / np.median([r["env_sps"] for r in own])
                 for name, own in mine.items()}
        runs = {name: " ".join(f"{r['train_sps']:,.0f}" for r in own)
                for name, own in mine.items()}
        steps = " / ".join(dict.fromkeys(str(r["timed_steps"]) for r in rows
                                         if r["config"] == config))
        lines.append(f"| {config} | {script}.py | {env_id} | {' '.join(flags) or '(defaults)'} | "
                     f"{steps} | {train['old']:,.0f} | {train['new']:,.0f} | "
                     f"{train['new'] / train['old']:.3f} | {runs['old']} | {runs['new']} | "
                     f"{share['old']:.3f} | {share['new']:.3f} |")
    lines += ["", "SPS: the median over the repeats; new/old: the ratio of the medians; runs: each "
              "repeat's training SPS in order; training / env-only: the medians' ratio. "
              f"Every run in {os.path.basename(args.out)}.csv."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
