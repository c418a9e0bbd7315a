"""Data parallelism under torchrun (gloo on CPU): golden values for the merged gradients and statistics,
then end-to-end 2-rank runs of each script (identical ranks, Ctrl-C, resume)."""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import ALL_SCRIPTS, ROOT, SCRIPT_CONFIG, load

RANKS = 2


# ------------------------------------------------------------------------------------------------
# Golden values: what 2 ranks compute together equals a naive computation on the union of their data
# ------------------------------------------------------------------------------------------------
def minibatch(size=8, seed=0):
    """A fixed PPO minibatch for a 3-dim observation, 2-dim action agent."""
    g = torch.Generator().manual_seed(seed)
    return {"obs": torch.randn(size, 3, generator=g), "actions": torch.randn(size, 2, generator=g),
            "log_probs": torch.randn(size, generator=g) - 3.0, "advantages": torch.randn(size, generator=g),
            "values": torch.randn(size, generator=g), "returns": torch.randn(size, generator=g)}


def loss_of(module, agent, part):
    new_log_probs, entropy, values = agent.evaluate_actions(part["obs"], part["actions"])
    loss, _ = module.ppo_loss(new_log_probs, part["log_probs"], part["advantages"], values, part["values"],
                              part["returns"], entropy, entropy_coef=0.01)
    return loss


def observation_batches(rank):
    """Rank r's observation batches for two rollouts (3 then 2 env steps of 2 envs), as float32."""
    g = np.random.default_rng(10 + rank)
    return [[g.normal(rank, 1.0 + rank, (2, 3)).astype(np.float32) for _ in range(n)] for n in (3, 2)]


def worker(rank, store):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(RANKS))  # as torchrun sets them, before the import
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=RANKS)
    module = load("ppo_continuous")
    run = module.DataParallelRun(module.RunArgs())  # what the command line's run does under torchrun
    torch.manual_seed(0)
    agent = module.Agent(3, 2, (8,), 0.0, norm_obs=True)
    part = {key: value.chunk(RANKS)[rank] for key, value in minibatch().items()}  # this rank's half
    loss = loss_of(module, agent, part)
    loss.backward()
    params = list(agent.parameters())
    mean_loss = run.average({"loss": loss.item()}, [p.grad for p in params])["loss"]
    rms = module.RunningMeanStd((3,))
    for rollout in observation_batches(rank):
        for batch in rollout:
            rms.update(torch.from_numpy(batch))
        run.merge(rms)
    x = torch.arange(12, dtype=torch.float32) * (rank + 1) ** 2  # rank r's 12 values
    mean, std = run.mean_std(x)
    torch.save({"grad": torch.cat([p.grad.reshape(-1) for p in params]), "loss": mean_loss,
                "rms": (rms.mean, rms.var, rms.count), "moments": (mean, std)},
               os.path.join(os.path.dirname(store), f"rank{rank}.pt"))
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def ranks_results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ranks")
    mp.spawn(worker, args=(str(directory / "store"),), nprocs=RANKS)
    return [torch.load(directory / f"rank{r}.pt", weights_only=False) for r in range(RANKS)]


def test_gradient_averaged_over_two_ranks_is_the_gradient_of_the_whole_minibatch(ranks_results):
    module = load("ppo_continuous")
    torch.manual_seed(0)
    agent = module.Agent(3, 2, (8,), 0.0, norm_obs=True)
    loss = loss_of(module, agent, minibatch())  # one process, all 8 samples
    loss.backward()
    expected = torch.cat([p.grad.reshape(-1) for p in agent.parameters()])
    for result in ranks_results:
        torch.testing.assert_close(result["grad"], expected, rtol=1e-5, atol=1e-7)
        assert result["loss"] == pytest.approx(loss.item(), rel=1e-6)


def test_merged_running_statistics_are_those_of_the_union_of_the_ranks_data(ranks_results):
    data = np.concatenate([b for r in range(RANKS) for rollout in observation_batches(r) for b in rollout])
    data = data.astype(np.float64)
    # The statistics start as a pseudo-sample of weight 1e-4 with mean 0 and variance 1; pooled with the data:
    prior, n = 1e-4, 1e-4 + len(data)
    mean = data.sum(0) / n
    var = (prior * (1.0 + mean ** 2) + ((data - mean) ** 2).sum(0)) / n
    for result in ranks_results:
        rms_mean, rms_var, count = result["rms"]
        assert count == pytest.approx(n)
        np.testing.assert_allclose(rms_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rms_var.numpy(), var, rtol=1e-5)


def test_global_mean_and_std_are_those_of_the_concatenated_values(ranks_results):
    values = np.concatenate([np.arange(12, dtype=np.float64) * (r + 1) ** 2 for r in range(RANKS)])
    for result in ranks_results:
        mean, std = result["moments"]
        assert mean.item() == pytest.approx(values.mean(), rel=1e-6)
        assert std.item() == pytest.approx(values.std(ddof=1), rel=1e-6)


@pytest.mark.parametrize("name", ALL_SCRIPTS)
@pytest.mark.parametrize("cuda,gpus,calls,device", [
    (True, 2, [0, "nccl"], "cuda:0"),  # a GPU for each of the 2 ranks on this machine
    (True, 1, ["gloo"], "cpu"),  # NCCL needs a GPU per rank: gloo on CPU
    (False, 2, ["gloo"], "cpu"),  # --no-cuda
])
def test_ranks_use_nccl_only_when_each_has_a_gpu_of_its_own(name, cuda, gpus, calls, device, monkeypatch):
    # Any machine: the GPUs and the process group are faked, and we record what init_distributed asks.
    module = load(name)
    monkeypatch.setattr(module, "WORLD_SIZE", 2)
    for key, value in {"LOCAL_WORLD_SIZE": "2", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    recorded = []
    monkeypatch.setattr(torch.cuda, "set_device", recorded.append)
    monkeypatch.setattr(dist, "init_process_group", recorded.append)
    assert str(module.init_distributed(cuda)) == device
    assert recorded == calls


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_under_torchrun_a_rank_ends_without_the_interpreters_shutdown(name, monkeypatch):
    # Gloo's worker threads may still hold the last collective's tensors when a rank ends; the
    # interpreter's shutdown then aborted a rank (SIGABRT) in 16 of 77 two-rank TRPO runs on the
    # 2-core machine (0 of 30 with os._exit). So under torchrun a rank leaves the process group,
    # flushes what sys.exit would, and ends with os._exit.
    module = load(name)
    calls = []

    class Ended(Exception):
        pass

    def record(what):
        def end(code):
            calls.append((what, code))
            raise Ended
        return end

    monkeypatch.setattr(module, "main", lambda argv: 3)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("destroy"))
    monkeypatch.setattr(os, "_exit", record("os._exit"))
    monkeypatch.setattr(sys, "exit", record("sys.exit"))
    monkeypatch.setattr(sys, "stdout", Stream("stdout", calls))
    monkeypatch.setattr(sys, "stderr", Stream("stderr", calls))
    with pytest.raises(Ended):
        module.cli()
    assert calls == ["destroy", "flush stdout", "flush stderr", ("os._exit", 3)]


class Stream:
    """A stand-in for sys.stdout or sys.stderr that records its flushes."""

    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def flush(self):
        self.calls.append(f"flush {self.name}")


# ------------------------------------------------------------------------------------------------
# End to end: torchrun --nproc_per_node 2 on each script
# ------------------------------------------------------------------------------------------------
def torchrun(*argv, cwd, **kwargs):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(RANKS), *argv]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, **kwargs)


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_two_ranks_train_one_run_and_end_identical(name, tmp_path):
    # PPO: with an early stop that fires within the first epoch, decided on the KL averaged over the
    # ranks (a rank deciding on its own KL could stop while the other waits in the next all-reduce).
    early_stop = [] if name.startswith("trpo") else ["--update-epochs", "4", "--target-kl", "0.0001"]
    process = torchrun(os.path.join(ROOT, "tests", "torchrun_entry.py"), name, str(tmp_path),
                       *SCRIPT_CONFIG[name]["tiny"], *early_stop, "--run-name", "dp", "--save-model",
                       cwd=tmp_path)
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    assert len(re.findall(r"^step +\d+/256 ", stdout, re.M)) == 2  # rank 0's console lines only
    run_dir = tmp_path / "runs" / "dp"
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1 and os.listdir(tmp_path / "runs") == ["dp"]
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["world_size"] == RANKS
    first, second = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(RANKS))
    assert first["iteration"] == second["iteration"] == 2
    optimizer = "critic_optimizer" if name.startswith("trpo") else "optimizer"
    for part in ("agent", "reward_scaler"):
        for key, value in first[part].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(second[part][key])), key
    # The statistics count both ranks' data (1 env each): the prior's 1e-4, plus per env the reset
    # observation and 2 iterations x 64 steps of observations; rewards: 2 x 64 per env.
    assert first["agent"]["obs_rms._extra_state"] == pytest.approx(1e-4 + 2 * (1 + 2 * 64))
    assert first["reward_scaler"]["return_rms._extra_state"] == pytest.approx(1e-4 + 2 * 2 * 64)
    for key, value in first[optimizer]["state"][0].items():
        assert torch.equal(value, second[optimizer]["state"][0][key])
    for key, value in first["agent"].items():  # and the run is the checkpoint's
        assert torch.equal(torch.as_tensor(value), torch.as_tensor(checkpoint["agent"][key])), key


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_ctrl_c_on_torchrun_stops_every_rank_with_a_checkpoint_and_resume_works(name, tmp_path):
    script = os.path.join(ROOT, f"{name}.py")
    flags = [*SCRIPT_CONFIG[name]["tiny"], "--total-timesteps", "100000", "--run-name", "dp"]
    process = torchrun(script, *flags, cwd=tmp_path)
    for line in process.stdout:
        if line.startswith("step "):
            process.send_signal(signal.SIGINT)  # what Ctrl-C sends to torchrun; it passes it on
            break
    out, stderr = process.communicate(timeout=120)
    # rank 0 alone says how to resume; both ranks exit with 130, so torchrun reports a failure
    said = f"stopped; resume with: torchrun --nproc_per_node {RANKS} {script} --resume runs/dp/checkpoint.pt"
    assert out.splitlines().count(said) == 1, (out, stderr)
    checkpoint = tmp_path / "runs" / "dp" / "checkpoint.pt"
    stopped_at = torch.load(checkpoint, weights_only=True)["iteration"]
    assert stopped_at >= 1

    # Another number of processes is refused, in one line, before anything is written.
    result = subprocess.run([sys.executable, script, "--resume", str(checkpoint)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"error: {checkpoint} was written by 2 process(es); resume it with as many"]

    process = torchrun(script, "--resume", str(checkpoint), cwd=tmp_path)
    for line in process.stdout:
        if line.startswith("step "):
            assert f"step {(stopped_at + 1) * 128:>9}/" in line  # continues right after the checkpoint
            process.send_signal(signal.SIGINT)
            break
    out, stderr = process.communicate(timeout=120)
    assert "resume with:" in out, stderr
    assert torch.load(checkpoint, weights_only=True)["iteration"] > stopped_at, (out, stderr)


def test_an_env_count_not_divisible_by_the_ranks_is_one_error_line(tmp_path):
    # the batch (3 x 256 = 768) divides into minibatches of 256, so the env count is the only bad input
    process = torchrun(os.path.join(ROOT, "ppo_continuous.py"), "--num-envs", "3", "--minibatch-size", "256",
                       cwd=tmp_path)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    lines = [line for line in stderr.splitlines() if "error: " in line]
    assert len(lines) == 1 and lines[0].endswith(
        "error: --num-envs and --minibatch-size must divide by the 2 ranks"), stderr
    assert not (tmp_path / "runs").exists()


def test_a_rank_that_dies_leaves_the_other_with_one_error_line(tmp_path):
    """A rank killed outright (a crash, the OOM killer): the other stops with one line, no traceback."""
    process = torchrun(os.path.join(ROOT, "ppo_continuous.py"), *SCRIPT_CONFIG["ppo_continuous"]["tiny"],
                       "--total-timesteps", "100000", "--run-name", "dp", cwd=tmp_path)
    for line in process.stdout:
        if line.startswith("step "):
            break
    workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert len(workers) == RANKS
    os.kill(int(workers[0]), signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert re.search(r"^(\[rank\d\]: )?error: rank \d stops: another rank has stopped$", stderr, re.M), stderr
    assert 'ppo_continuous.py", line' not in stderr  # no traceback of the script (torchrun has its own)
