"""A hostile tester's inputs: damaged checkpoints, two processes on one run, and the last paths that
ended in a traceback. Each ends in one `error:` line (exit 2 for bad input, 1 for a fault of the
machine), and nothing a user produced is lost or mixed."""

import glob
import os
import resource
import signal
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

from conftest import ALL_SCRIPTS, CONTINUOUS_SCRIPTS, ROOT, load, tiny
from test_failures import one_error_line, snapshot

pytestmark = pytest.mark.parametrize("name", ALL_SCRIPTS)


def damaged_checkpoints(state: dict) -> dict:
    """{what is wrong: checkpoint} for a sound checkpoint's state."""
    optimizer = "critic_optimizer" if "critic_optimizer" in state else "optimizer"
    weight = next(key for key in state["agent"] if key.endswith("weight"))
    cases = {f"no {key}": {k: v for k, v in state.items() if k != key}
             for key in state if key != "format"}
    cases["a weight of the wrong shape"] = {**state, "agent": {**state["agent"],
                                                               weight: torch.zeros(3, 5)}}
    cases["an empty optimizer state"] = {**state, optimizer: {}}
    cases["an unknown setting"] = {**state, "args": {**state["args"], "no_such_setting": 1}}
    cases["settings that are no dict"] = {**state, "args": [1, 2]}
    cases["the env of other sizes"] = {**state, "args": {**state["args"], "env_id": "Ant-v4"}}
    cases["NaN weights"] = {**state, "agent": {k: torch.full_like(v, float("nan"))
                                               if torch.is_tensor(v) else v
                                               for k, v in state["agent"].items()}}
    return cases


def test_a_damaged_checkpoint_is_one_line_and_nothing_is_written(name, trained, cli):
    module = load(name)
    state = torch.load(trained, weights_only=True)
    before = snapshot(trained.parent)
    for what, damaged in damaged_checkpoints(state).items():
        path = str(trained.parent / "damaged.pt")
        torch.save(damaged, path)
        for flag in ("--resume", "--eval-checkpoint"):
            code, lines = cli(flag, path)
            assert code == 2 and len(lines) == 1, (what, flag, code, lines)
            assert lines[0].startswith(f"error: {path}: "), (what, lines)
        with pytest.raises(module.UserError) as error:
            module.load_policy(path)
        assert f"error: {error.value}" == lines[0], what
        os.remove(path)
        assert snapshot(trained.parent) == before, what  # no events file of a failed resume
    assert "not all finite" in lines[0]


def test_load_policy_on_cuda_without_a_gpu_does_not_blame_the_file(name, trained):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(load(name).UserError) as error:
        load(name).load_policy(str(trained), device="cuda")
    assert "cannot read" not in str(error.value) and "CUDA" in str(error.value)


def test_load_policy_leaves_the_callers_random_state_and_kernels(name, trained):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    torch.use_deterministic_algorithms(False)  # the checkpoint's run had them on (its checks start it)
    load(name).load_policy(str(trained))
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.equal(torch.rand(3), expected)


def test_an_env_that_cannot_be_made_here_is_one_line_in_evaluation(name, trained, cli):
    state = torch.load(trained, weights_only=True)
    torch.save({**state, "args": {**state["args"], "env_id": "no_such_module:X-v0"}}, "gone.pt")
    one_error_line(cli("--eval-checkpoint", "gone.pt"), "cannot make no_such_module:X-v0")


# ------------------------------------------------------------------------------------------------
# Two processes, one run
# ------------------------------------------------------------------------------------------------
def test_a_run_in_use_by_another_process_is_refused_until_that_process_dies(name, trained):
    module = load(name)
    state = torch.load(trained, weights_only=True)
    state["args"]["total_timesteps"] = 10 ** 8  # the first resume trains on while the second tries
    torch.save(state, trained)
    first = subprocess.Popen([sys.executable, os.path.join(ROOT, f"{name}.py"), "--resume",
                              str(trained)], cwd=trained.parent.parent.parent, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        while not first.stdout.readline().startswith("step "):  # then it trains, its run locked
            assert first.poll() is None
        before = snapshot(trained.parent)
        second = subprocess.run([sys.executable, os.path.join(ROOT, f"{name}.py"), "--resume",
                                 str(trained)], cwd=trained.parent.parent.parent, text=True,
                                capture_output=True, timeout=60)
        assert second.returncode == 2, second.stderr
        assert second.stderr.splitlines() == [
            f"error: {os.path.join('runs', 'c')} is in use by another process"]
        assert set(snapshot(trained.parent)) == set(before)  # no events file of its own
    finally:
        first.kill()  # as kill -9: the OS releases the lock
        first.wait()
    state["args"]["total_timesteps"] = 512
    torch.save(state, trained)
    assert module.main(["--resume", str(trained)]) == 0


def test_runs_with_default_names_started_in_the_same_second_are_two_runs(name, in_tmp):
    # the clock starts at the same second in both, and moves on 0.1 ms a call
    frozen = ("import itertools, runpy, sys, time; calls = itertools.count(); "
              "time.time = lambda: 1e9 + next(calls) * 1e-4; sys.argv = sys.argv[1:]; "
              "runpy.run_path(sys.argv[0], run_name='__main__')")
    argv = [sys.executable, "-c", frozen, os.path.join(ROOT, f"{name}.py"), *tiny(name)]
    runs = [subprocess.Popen(argv, cwd=in_tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()
    made = glob.glob(str(in_tmp / "runs" / "*"))
    assert len(made) == 2 and all("__1000000000" in path for path in made)


# ------------------------------------------------------------------------------------------------
# The remaining traceback paths
# ------------------------------------------------------------------------------------------------
def test_evaluation_with_capture_video_without_moviepy_is_one_line(name, trained, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "moviepy", None)
    one_error_line(cli("--eval-checkpoint", str(trained), "--capture-video"),
                   "--capture-video needs moviepy")
    assert not os.path.exists("videos")


def test_a_disk_that_fills_while_a_checkpoint_is_written(name, trained):
    def at_most_half_a_megabyte():  # as a full disk: writes past it fail (EFBIG, not ENOSPC)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (500_000, 500_000))

    argv = tiny(name, "--run-name", "big", "--hidden-sizes", "256", "256", "--save-model",
                "--total-timesteps", "512")
    big = subprocess.run([sys.executable, os.path.join(ROOT, f"{name}.py"), *argv], text=True,
                         capture_output=True, timeout=120)
    assert big.returncode == 0 and os.path.getsize("runs/big/checkpoint.pt") > 500_000
    state = torch.load("runs/big/checkpoint.pt", weights_only=True)
    state["args"]["total_timesteps"], state["iteration"] = 1024, 2
    torch.save(state, "runs/big/checkpoint.pt")
    old = open("runs/big/checkpoint.pt", "rb").read()
    full = subprocess.run([sys.executable, os.path.join(ROOT, f"{name}.py"), "--resume",
                           "runs/big/checkpoint.pt", "--checkpoint-every", "1"], text=True,
                          capture_output=True, timeout=120, preexec_fn=at_most_half_a_megabyte)
    lines = full.stderr.strip().splitlines()
    assert full.returncode == 1 and len(lines) == 1, full.stderr
    assert lines[0].startswith("error: [Errno 27] File too large"), lines
    assert open("runs/big/checkpoint.pt", "rb").read() == old
    assert not glob.glob("runs/big/*.tmp")


class MatrixActions(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (2, 2), np.float32)


class NaNObservations(gym.Env):
    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)

    def __init__(self, discrete=False):
        self.action_space = gym.spaces.Discrete(2) if discrete else gym.spaces.Box(-1, 1, (1,))
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.full(2, np.nan if self.t > 10 else 0.0, np.float32)
        return obs, 1.0, False, False, {}


gym.register("MatrixActions-v0", entry_point=MatrixActions)
gym.register("NaNObservations-v0", entry_point=NaNObservations, max_episode_steps=50)
gym.register("NaNObservationsDiscrete-v0", entry_point=NaNObservations, max_episode_steps=50,
             kwargs={"discrete": True})


def test_a_box_action_space_that_is_not_flat_is_refused_up_front(name, cli, in_tmp):
    if name not in CONTINUOUS_SCRIPTS:
        pytest.skip("discrete actions have no shape")
    one_error_line(cli(*tiny(name, "--env-id", "MatrixActions-v0")), "needs flat Box actions")
    assert not os.path.exists(in_tmp / "runs")


def test_networks_too_large_for_memory_are_one_line_and_leave_no_directory(name, cli, in_tmp):
    code, lines = cli(*tiny(name, "--run-name", "huge", "--hidden-sizes", "10000000", "10000000"))
    one_error_line((code, lines), "memory")
    assert not os.path.exists(in_tmp / "runs")


def test_an_env_that_emits_nan_observations_is_one_line(name, cli, in_tmp):
    env_id = "NaNObservationsDiscrete-v0" if name.endswith("discrete") else "NaNObservations-v0"
    one_error_line(cli(*tiny(name, "--env-id", env_id, "--run-name", "n")),
                   "the env returned a non-finite observation", status=1)


def test_run_names_that_are_empty_unprintable_or_too_long_are_refused(name, cli, in_tmp):
    for run_name in ("", "a\nb", "tab\there", "x" * 300):
        one_error_line(cli(*tiny(name, "--run-name", run_name)),
                       "--run-name must be 1 to 255 bytes of printable characters")
    assert not os.path.exists(in_tmp / "runs")


def test_flags_that_a_checkpoints_command_would_ignore_are_refused(name, trained, cli):
    before = snapshot(trained.parent)
    for flags, refused in [(["--resume", str(trained)], "--resume"),
                           (["--save-model"], "--save-model"),
                           (["--checkpoint-every", "5"], "--checkpoint-every"),
                           (["--track"], "--track")]:
        one_error_line(cli("--eval-checkpoint", str(trained), *flags),
                       f"{refused} may not be given with a checkpoint")
    assert snapshot(trained.parent) == before
