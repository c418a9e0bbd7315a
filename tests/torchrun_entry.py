"""Test helper, run under torchrun: train one of the scripts like its command line does, then save this
rank's final state to <out>/rank<r>.pt, so that a test can compare the ranks.

    torchrun --standalone --nproc_per_node 2 tests/torchrun_entry.py <script> <out dir> [script flags...]
"""

import os
import sys

import torch
import torch.distributed as dist
import tyro

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    name, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    module = __import__(name)
    runs = []
    train = module.train
    module.train = lambda run: (runs.append(run), train(run))[1]  # keep the run to read its final state
    code = module.main(tyro.cli(module.Args, args=argv), module.given_flags(argv))
    run = runs[0]
    optimizer = run.critic_optimizer if hasattr(run, "critic_optimizer") else run.optimizer
    torch.save({"agent": run.agent.state_dict(), "optimizer": optimizer.state_dict(),
                "obs_count": run.agent.obs_rms.count, "return_count": run.reward_scaler.return_rms.count,
                "return_rms": run.reward_scaler.return_rms.state_dict(), "iteration": run.iteration},
               os.path.join(out, f"rank{dist.get_rank()}.pt"))
    module.exit_process(code)  # as the script's command line ends
