"""Where the time of ppo_continuous.py's update goes, and what torch.compile would save there.

    python benchmark/profile_update.py [--threads 1] [--out benchmark/results/profile_update.md]

For config A (64-64 networks, 2048 samples, minibatches of 64) and config B (the defaults: 256-256,
4096 samples, minibatches of 512), both 10 epochs, on a batch of HalfCheetah's sizes (17
observations, 6 actions) drawn at random, the script's own ppo_update runs:
1. eager, under torch.profiler: the share of the update's CPU time of each op (self time);
2. the wall time per update, eager and with torch.compile of Agent.evaluate_actions and ppo_loss
   (the forward and backward of the minibatch loss; the optimizer step stays eager), and the
   compile's start-up cost (the first update's extra time, with an empty compile cache);
3. a microbenchmark of the elementwise ops of config B's hidden layers at their size (512 x 256)
   beside its matrix product.
The numbers are one process's on this machine; run it with nothing else busy.
"""

import argparse
import os
import platform
import sys
import tempfile
import time

os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp()  # a cold start: compile from scratch
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ppo_continuous as ppo  # noqa: E402

CONFIGS = {"A": dict(hidden_sizes=(64, 64), batch=2048, minibatch_size=64),
           "B": dict(hidden_sizes=(256, 256), batch=4096, minibatch_size=512)}


def setup(config: dict):
    torch.manual_seed(0)
    n = config["batch"]
    agent = ppo.Agent(17, 6, config["hidden_sizes"], -1.0, True)
    optimizer = torch.optim.Adam(agent.parameters(), lr=3e-4, eps=1e-5, fused=True)
    batch = dict(obs=torch.randn(n, 17), actions=torch.randn(n, 6), log_probs=torch.randn(n) - 8,
                 values=torch.randn(n), returns=torch.randn(n), advantages=torch.randn(n))
    args = ppo.Args(hidden_sizes=config["hidden_sizes"], minibatch_size=config["minibatch_size"])
    return agent, optimizer, batch, args


def timed_updates(config: dict, compiled: bool, repeats: int):
    """(the first update's wall time, the median of the next repeats)."""
    agent, optimizer, batch, args = setup(config)
    loss = ppo.ppo_loss
    if compiled:
        agent.evaluate_actions = torch.compile(agent.evaluate_actions)
        ppo.ppo_loss = torch.compile(loss)
    try:
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            ppo.ppo_update(agent, optimizer, batch, args, 0.0)
            times.append(time.perf_counter() - start)
    finally:
        ppo.ppo_loss = loss
    return times[0], sorted(times[1:])[repeats // 2]


def op_shares(config: dict, rows: int):
    agent, optimizer, batch, args = setup(config)
    ppo.ppo_update(agent, optimizer, batch, args, 0.0)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        ppo.ppo_update(agent, optimizer, batch, args, 0.0)
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    return [(e.key, e.count, e.self_cpu_time_total / total) for e in events[:rows]], total / 1e6


def microseconds(fn, repeats=200) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="benchmark/results/profile_update.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    lines = ["# Where the update's time goes (ppo_continuous.py)", "",
             f"- Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}),"
             f" torch {torch.__version__} (CPU capability {torch.backends.cpu.get_cpu_capability()}),"
             f" {args.threads} torch thread(s), load average before the run {load:.2f}.",
             "- `python benchmark/profile_update.py`: synthetic batches of HalfCheetah's sizes,"
             " 10 epochs; see its docstring.", ""]
    for name, config in CONFIGS.items():
        shares, total = op_shares(config, 12)
        lines += [f"## Config {name}: {config['hidden_sizes']} networks, {config['batch']} samples,"
                  f" minibatches of {config['minibatch_size']}", "",
                  f"One update under the profiler: {total:.2f} s of CPU time (self times).", "",
                  "| op | calls | share of the update's CPU time |", "|---|---|---|"]
        lines += [f"| {key} | {count} | {share:.1%} |" for key, count, share in shares]
        eager_first, eager = timed_updates(config, False, args.repeats)
        compiled_first, compiled = timed_updates(config, True, args.repeats)
        lines += ["", "| update | first update (s) | median of the next "
                  f"{args.repeats} (s) | speed-up |", "|---|---|---|---|",
                  f"| eager | {eager_first:.2f} | {eager:.3f} | 1.00 |",
                  f"| torch.compile (loss and its backward) | {compiled_first:.1f} | "
                  f"{compiled:.3f} | {eager / compiled:.2f} |", ""]
        print("\n".join(lines[-4:]), flush=True)
    x, w = torch.randn(512, 256), torch.randn(256, 256)
    ops = {"x @ W (256 x 256)": lambda: x @ w, "torch.tanh": lambda: torch.tanh(x),
           "torch.sigmoid": lambda: torch.sigmoid(x), "torch.exp": lambda: torch.exp(x),
           "torch.relu": lambda: torch.relu(x),
           "tanh backward": lambda: torch.ops.aten.tanh_backward(x, x)}
    lines += ["## One hidden layer of config B (512 x 256), microseconds per call", "",
              "| op | microseconds |", "|---|---|"]
    lines += [f"| {key} | {microseconds(fn):.0f} |" for key, fn in ops.items()]
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as file:
        file.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
