"""Test helper, run under torchrun: run one of the scripts as its command line does, and save this
rank's final training state (what a checkpoint holds) to <out>/rank<r>.pt, so that a test can compare the ranks.

    torchrun --standalone --nproc_per_node 2 tests/torchrun_entry.py <script> <out dir> [flags...]
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    name, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    module = __import__(name)
    train = module.train

    def train_and_keep(args, device, run):
        agent = train(args, device, run)
        if isinstance(run, module.ManagedRun):  # not the start check's run
            torch.save(run.state(), os.path.join(out, f"rank{run.rank}.pt"))
        return agent

    module.train = train_and_keep
    sys.argv = [f"{name}.py", *argv]
    module.cli()
