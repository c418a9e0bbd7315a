"""Time of one torch.distributed all-reduce between the ranks of this machine (gloo on CPU), for a small
tensor (40 floats: a statistic) and one of 140,000 floats (the gradient of the default 256-256 actor and
critic of ppo_continuous.py on HalfCheetah). Run under torchrun; rank 0 prints one line:

    torchrun --standalone --nproc_per_node 2 benchmark/allreduce_latency.py
"""

import time

import torch
import torch.distributed as dist


def mean_seconds(tensor: torch.Tensor, repeats: int) -> float:
    dist.all_reduce(tensor)  # warm-up
    dist.barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        dist.all_reduce(tensor)
    return (time.perf_counter() - start) / repeats


if __name__ == "__main__":
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    small, large = mean_seconds(torch.ones(40), 500), mean_seconds(torch.ones(140_000), 200)
    if dist.get_rank() == 0:
        print(f"all-reduce over {dist.get_world_size()} gloo ranks: {small * 1e6:.0f} us for 40 floats, "
              f"{large * 1e3:.2f} ms for 140,000 floats")
    dist.destroy_process_group()
