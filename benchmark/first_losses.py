"""Record or check the losses of the first iterations of a script: the "no numerical change" check.

    python benchmark/first_losses.py --script ppo_continuous.py --base HEAD
    python benchmark/first_losses.py --script ppo_continuous.py \
        --out benchmark/results/first_losses_ppo_continuous.json
    python benchmark/first_losses.py --script ppo_continuous.py \
        --check benchmark/results/first_losses_ppo_continuous.json

The script runs with its default flags (plus any given after "--") in a temporary directory, is
stopped with SIGINT once it has printed --iterations iteration lines, and every losses/* scalar of
those iterations is read back from its TensorBoard events. --out writes them as JSON; --check
compares them with such a file; --base COMMIT first runs the script as it is at COMMIT (a commit,
branch or tag, checked out in a temporary git worktree that is removed afterwards) with the same
flags and iterations, then the working tree's, and compares the two. Either comparison fails
(exit 1) unless every value is bit-identical (float32 as logged). Tags renamed since the file or
the commit are matched through RENAMED; a tag that exists on one side only is listed, not compared.
A script that does not exist at COMMIT is an error (exit 2).

Runs are bit-identical only on the same machine and build (CPU kernels, library versions). To ask
"does my change alter the numbers", use --base: it holds wherever it is run. Use --check only on the
machine that recorded the file.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import OLDER_NAMES, load_events, read_scalars  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RENAMED = {old: new for new, old in OLDER_NAMES.items()}  # recorded tag -> its name now


def first_losses(script: str, iterations: int, flags: list, root: str = ROOT) -> dict:
    """{tag: [value of iteration 1, 2, ...]} for every losses/* tag of the first `iterations`
    iterations of root/script."""
    with tempfile.TemporaryDirectory() as cwd:
        command = [sys.executable, os.path.join(root, script), "--run-name", "first", *flags]
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        printed = 0
        for line in process.stdout:
            printed += line.startswith("step ")
            if printed == iterations:
                process.send_signal(signal.SIGINT)
                break
        process.communicate()
        if printed < iterations:
            raise SystemExit(f"error: {script} printed {printed} iteration lines, exit {process.returncode}")
        run_dir = os.path.join(cwd, "runs", "first")
        events = read_scalars(run_dir, [tag for tag in load_events(run_dir) if tag.startswith("losses/")])
    return {tag: [float(v) for v in values[:iterations]] for tag, (_, values) in sorted(events.items())}


def git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True)


def losses_at(commit: str, script: str, iterations: int, flags: list) -> dict:
    """first_losses() of the script as it is at `commit`, run in a temporary git worktree."""
    with tempfile.TemporaryDirectory() as parent:
        tree = os.path.join(parent, "tree")
        git("worktree", "add", "--detach", tree, commit).check_returncode()
        try:
            return first_losses(script, iterations, flags, tree)
        finally:
            git("worktree", "remove", "--force", tree)


def compare(recorded: dict, measured: dict) -> list:
    """Lines describing every difference; empty when all shared tags agree bit for bit."""
    problems = []
    for old_tag, old_values in recorded.items():
        tag = old_tag if old_tag in measured else RENAMED.get(old_tag, old_tag)
        if tag not in measured:
            problems.append(f"{old_tag}: recorded, not logged now")
        elif measured[tag][:len(old_values)] != old_values:
            problems.append(f"{tag}: recorded {old_values}, now {measured[tag][:len(old_values)]}")
    return problems


def main() -> int:
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", required=True)
    parser.add_argument("--iterations", type=int, default=3)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", help="write the losses to this JSON file")
    group.add_argument("--check", help="compare with this JSON file; exit 1 on any difference")
    group.add_argument("--base", metavar="COMMIT",
                       help="compare with the script at COMMIT, run here; exit 1 on any difference")
    args = parser.parse_args(argv)
    if args.base:
        found = git("cat-file", "-e", f"{args.base}:{args.script}")
        if found.returncode:
            reason = found.stderr.strip()
            print(f"error: no {args.script} at {args.base} ({reason})", file=sys.stderr)
            return 2
        recorded = losses_at(args.base, args.script, args.iterations, flags)
    measured = first_losses(args.script, args.iterations, flags)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"script": args.script, "flags": flags, "losses": measured}, f, indent=1)
        print(f"{args.script}: {len(measured)} tags x {args.iterations} iterations written to {args.out}")
        return 0
    if args.check:
        with open(args.check) as f:
            recorded = json.load(f)["losses"]
    problems = compare(recorded, measured)
    new = sorted(set(measured) - set(recorded) - set(RENAMED.values()))
    for line in problems:
        print(f"DIFFERS {line}")
    which = f"tags at {args.base}" if args.base else "recorded tags"
    print(f"{args.script} {' '.join(flags)}: {len(recorded) - len(problems)} of {len(recorded)} "
          f"{which} identical over {args.iterations} iterations"
          + (f"; new tags {new}" if new else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
