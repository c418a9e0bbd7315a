"""Nothing lost, nothing silent: run directories, the resume rules, and every failure ends in one line
(exit 2 for bad input, 1 for a fault of the machine) with the logs and the last good checkpoint kept."""

import errno
import glob
import os
import re
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from tensorboard.summary.writer.record_writer import RecordWriter

from conftest import ALL_SCRIPTS, ROOT, SCRIPT_CONFIG, load, scalars, tiny

pytestmark = pytest.mark.parametrize("name", ALL_SCRIPTS)


def one_error_line(result, expected, status=2):
    code, lines = result
    lines = [line for line in lines if not line.startswith("step ")]  # training's progress lines
    assert code == status, (code, lines)
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines


def snapshot(run_dir):
    """{file: bytes} of a run directory: to show that nothing in it changed."""
    return {path: open(path, "rb").read() for path in sorted(glob.glob(os.path.join(run_dir, "*")))}


# ------------------------------------------------------------------------------------------------
# Run directories and resume
# ------------------------------------------------------------------------------------------------
def test_the_same_run_name_twice_is_refused_and_the_first_run_kept(name, trained, cli):
    before = snapshot(trained.parent)
    one_error_line(cli(*tiny(name, "--run-name", "c")),
                   "runs/c exists; continue it with --resume runs/c/checkpoint.pt")
    assert snapshot(trained.parent) == before


def test_run_names_that_leave_runs_are_refused(name, cli, in_tmp):
    for run_name in ("../outside", "/tmp/absolute", "a/../../b", "."):
        one_error_line(cli(*tiny(name, "--run-name", run_name)), "must be inside runs/")
    assert not os.path.exists(in_tmp / "outside") and not os.path.exists(in_tmp / "runs")


def test_resume_takes_only_run_management_flags_whatever_their_value(name, trained, cli):
    args = load(name).Args()
    before = snapshot(trained.parent)
    for typed, shown in [(["--learning-rate", str(args.learning_rate)], "--learning-rate"),
                         (["--norm-obs"], "--norm-obs"), (["--no-norm-obs"], "--norm-obs"),
                         (["--env-id", args.env_id], "--env-id"), (["--seed=1"], "--seed"),
                         (["--run-name", "c"], "--run-name")]:
        one_error_line(cli("--resume", str(trained), *typed), f"{shown} may not be given")
    assert snapshot(trained.parent) == before
    # run-management flags are taken: here a finished run, with a checkpoint written again
    code, _ = cli("--resume", str(trained), "--no-cuda", "--checkpoint-every", "1", "--save-model")
    assert code == 0


def test_evaluation_takes_the_checkpoints_settings_and_only_run_flags_and_a_seed(name, trained, cli):
    one_error_line(cli("--eval-checkpoint", str(trained), "--env-id", "Walker2d-v4"),
                   "--env-id may not be given with a checkpoint")
    one_error_line(cli("--eval-checkpoint", str(trained), "--eval-episodes", "0"),
                   "--eval-episodes must be positive, got 0")
    code, lines = cli("--eval-checkpoint", str(trained), "--eval-episodes", "1", "--seed", "3")
    assert code == 0 and re.fullmatch(r"return -?\d+\.\d \+- 0\.0 \(1 episodes\)", lines[-1]), lines


def test_a_resume_drops_what_a_killed_run_logged_after_its_checkpoint(name, trained, cli):
    module = load(name)
    assert module.main(tiny(name, "--run-name", "k", "--total-timesteps", "512")) == 0
    # As after kill -9 between checkpoints: the events reach step 512, the checkpoint is of step 256.
    state = torch.load(trained, weights_only=True)
    state["iteration"], state["args"]["run_name"], state["args"]["total_timesteps"] = 2, "k", 512
    torch.save(state, "runs/k/checkpoint.pt")
    assert module.main(["--resume", "runs/k/checkpoint.pt"]) == 0
    steps = [step for step, _ in scalars("runs/k")["losses/value_loss"]]
    assert steps == [128, 256, 384, 512]  # one value per step, read with TensorBoard's own reader


def test_resume_needs_as_many_processes_as_the_run_had(name, trained, cli):
    state = torch.load(trained, weights_only=True)
    torch.save({**state, "world_size": 2}, "two.pt")
    one_error_line(cli("--resume", "two.pt"), "two.pt was written by 2 process(es); resume it with as many")


# ------------------------------------------------------------------------------------------------
# Bad input: one line, exit 2, nothing written
# ------------------------------------------------------------------------------------------------
def test_non_finite_and_out_of_range_numbers_are_refused(name, cli, in_tmp):
    cases = [("--learning-rate", "inf", "must be a finite number, got inf"),
             ("--gamma", "nan", "must be a finite number, got nan"),
             ("--max-grad-norm", "-inf", "must be a finite number"),
             ("--learning-rate", "0", "--learning-rate must be positive, got 0"),
             ("--num-envs", "0", "--num-envs must be positive, got 0"),
             ("--total-timesteps", "-5", "--total-timesteps must be positive"),
             ("--seed", "-1", "--seed must be positive or 0, got -1"),
             ("--max-grad-norm", "-1", "--max-grad-norm must be positive or 0"),
             ("--gae-lambda", "1.5", "--gae-lambda must be at most 1"),
             ("--hidden-sizes", "0", "--hidden-sizes must be positive")]
    if name.startswith("trpo"):
        cases += [("--max-kl", "nan", "finite"), ("--cg-damping", "-1", "--cg-damping must be")]
    else:
        cases += [("--clip-eps", "0", "--clip-eps must be positive"), ("--value-coef", "nan", "finite")]
    for flag, value, expected in cases:
        one_error_line(cli(flag, value), expected)
    if name == "ppo_continuous":  # a rate below the adaptive rate's floor would be raised to it
        for flags in (["--learning-rate", "5e-5"], ["--adaptive-lr-min", "0.1"]):
            one_error_line(cli(*flags), "--learning-rate must lie within --adaptive-lr-min and")
        script = load(name)  # the floor binds only the adaptive schedule
        script.check_args(script.RunArgs(learning_rate=5e-5, lr_schedule="linear", num_envs=2))
    one_error_line(cli("--num-envs", "3", "--num-steps", "5", "--minibatch-size", "4"),
                   "must be divisible by --minibatch-size")
    one_error_line(cli(*tiny(name, "--total-timesteps", "64")), "at most --total-timesteps")
    one = ["--minibatch-size", "1"]  # PPO: one sample a minibatch
    if name.startswith("trpo"):  # TRPO normalizes over the batch: one env, one step
        one += ["--num-steps", "1", "--num-envs", "1"]
    one_error_line(cli(*one), "--norm-adv needs")  # the std of one advantage is NaN
    assert not os.path.exists(in_tmp / "runs")


def test_missing_corrupt_and_other_scripts_checkpoints_are_one_line(name, trained, cli):
    truncated = trained.parent / "truncated.pt"
    truncated.write_bytes(trained.read_bytes()[:1000])
    other = [s for s in ALL_SCRIPTS if s != name][0]
    torch.save({**torch.load(trained, weights_only=True), "format": f"{other}/4"}, "other.pt")
    torch.save({**torch.load(trained, weights_only=True), "format": f"{name}/3"}, "older.pt")
    for flag in ("--resume", "--eval-checkpoint"):
        one_error_line(cli(flag, "no/such.pt"), "cannot read checkpoint no/such.pt (FileNotFoundError)")
        one_error_line(cli(flag, str(truncated)), f"cannot read checkpoint {truncated}")
        one_error_line(cli(flag, "runs/c"), "cannot read checkpoint runs/c (IsADirectoryError)")
        one_error_line(cli(flag, "other.pt"), f"other.pt is a {other}/4 checkpoint; this script reads")
        one_error_line(cli(flag, "older.pt"),
                       f"older.pt is a {name}/3 checkpoint; this script reads {load(name).CHECKPOINT_FORMAT}")
    assert not glob.glob("**/*.tmp", recursive=True)


def test_envs_the_script_cannot_train_are_one_line(name, cli, monkeypatch, tmp_path):
    one_error_line(cli("--env-id", "HalfCheeta-v4"), "cannot make HalfCheeta-v4: Environment `HalfCheeta`")
    other_env, other_script = SCRIPT_CONFIG[name]["other_kind_env"]
    one_error_line(cli("--env-id", other_env), other_script)
    one_error_line(cli("--env-id", "ImageObs-v0"), "ImageObs-v0")
    one_error_line(cli("--env-id", "no_such_module:X-v0"), "no_such_module")


def test_module_colon_env_ids_import_the_users_module(name, cli, in_tmp, monkeypatch):
    kind = "Discrete(2)" if name.endswith("discrete") else "Box(-1.0, 1.0, (1,), np.float32)"
    (in_tmp / f"my_envs_{name}.py").write_text(f'''
import gymnasium as gym
import numpy as np


class Walk(gym.Env):
    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
    action_space = gym.spaces.{kind}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2), {{}}

    def step(self, action):
        return self.np_random.normal(size=2), 1.0, False, False, {{}}


gym.register("MyWalk{name}-v0", entry_point=Walk, max_episode_steps=20)
''')
    monkeypatch.syspath_prepend(str(in_tmp))
    env_id = f"my_envs_{name}:MyWalk{name}-v0"  # a module of its own: each test imports it anew
    assert cli(*tiny(name, "--env-id", env_id, "--run-name", "mine"))[0] == 0
    assert scalars(in_tmp / "runs" / "mine")["charts/episodic_return"][0][1] == 20.0


def test_tyro_errors_exit_2_and_say_what_is_wrong(name, cli, capsys):
    for argv, said in [(["--no-such-flag"], "--no-such-flag"), (["--num-envs", "many"], "many")]:
        code, lines = cli(*argv)
        assert code == 2 and said in "\n".join(lines)


def test_capture_video_without_moviepy_is_one_line(name, trained, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "moviepy", None)
    one_error_line(cli(*tiny(name, "--run-name", "v", "--capture-video")), "--capture-video needs moviepy")
    assert not os.path.exists("runs/v")


# ------------------------------------------------------------------------------------------------
# Faults of the machine: one line, exit 1, the last good checkpoint kept, no temporary file
# ------------------------------------------------------------------------------------------------
def test_a_full_disk_while_writing_a_checkpoint(name, cli, in_tmp, monkeypatch):
    module = load(name)
    saves, original = [], torch.save

    def save_then_disk_full(obj, file, *args, **kwargs):
        saves.append(file)
        if len(saves) > 1:  # the first checkpoint fits, the second does not
            file.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(obj, file, *args, **kwargs)

    monkeypatch.setattr(module.torch, "save", save_then_disk_full)
    one_error_line(cli(*tiny(name, "--run-name", "d", "--checkpoint-every", "1")),
                   "No space left on device (the last checkpoint.pt, if any, is kept)", status=1)
    monkeypatch.setattr(module.torch, "save", original)
    assert not glob.glob(str(in_tmp / "runs" / "d" / "*.tmp"))
    assert torch.load(in_tmp / "runs" / "d" / "checkpoint.pt", weights_only=True)["iteration"] == 1


def test_a_full_disk_while_writing_the_event_file(name, cli, in_tmp, monkeypatch):
    writes, original = [], RecordWriter.write

    def write_then_disk_full(self, data):  # in TensorBoard's writer thread
        writes.append(1)
        if len(writes) > 40:  # well into the second iteration
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, data)

    monkeypatch.setattr(RecordWriter, "write", write_then_disk_full)
    argv = tiny(name, "--run-name", "e", "--checkpoint-every", "1", "--total-timesteps", "2560")
    one_error_line(cli(*argv), "No space left on device", status=1)
    assert torch.load(in_tmp / "runs" / "e" / "checkpoint.pt", weights_only=True)["iteration"] >= 1


def test_an_unwritable_runs_directory(name, cli, in_tmp, monkeypatch):
    def read_only(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(os, "makedirs", read_only)
    one_error_line(cli(*tiny(name, "--run-name", "w")), "Permission denied: 'runs/w'", status=1)


# ------------------------------------------------------------------------------------------------
# Ctrl-C outside training
# ------------------------------------------------------------------------------------------------
def test_ctrl_c_during_evaluation_is_one_line(name, trained):
    # The imports first, then the script as __main__: a Ctrl-C inside `import torch` (which can take
    # longer than any fixed wait) is Python's own traceback, before the script runs.
    imports_then_script = ("import runpy, sys, gymnasium, torch, torch.utils.tensorboard, tyro; "
                           "print('imported', flush=True); sys.argv = sys.argv[1:]; "
                           "runpy.run_path(sys.argv[0], run_name='__main__')")
    process = subprocess.Popen([sys.executable, "-c", imports_then_script, os.path.join(ROOT, f"{name}.py"),
                                "--eval-checkpoint", str(trained), "--eval-episodes", "100000"],
                               cwd=trained.parent, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == "imported\n"
    time.sleep(2)  # the evaluation's first episodes
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.strip().splitlines() == ["error: interrupted; nothing was saved"]


def test_ctrl_c_during_start_up_is_one_line(name, cli, in_tmp, monkeypatch):
    def interrupted(*args):  # Ctrl-C arrives while the env is checked, before training starts
        raise KeyboardInterrupt

    monkeypatch.setattr(load(name), "check_args", interrupted)
    assert cli(*tiny(name, "--run-name", "u")) == (130, ["error: interrupted; nothing was saved"])
    assert not os.path.exists(in_tmp / "runs")


def test_a_second_ctrl_c_exits_at_once(name, monkeypatch, capsys):
    module = load(name)
    exits = []
    monkeypatch.setattr(module.os, "_exit", exits.append)
    monkeypatch.setattr(module.signal, "signal", lambda *args: None)  # pytest keeps its own handlers
    stop = module.ManagedRun(module.RunArgs())
    stop.handle(signal.SIGINT, None)
    assert stop.signum == signal.SIGINT and exits == []
    stop.handle(signal.SIGINT, None)
    assert exits == [130]


class ImageObsEnv(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (8, 8, 3), np.uint8)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)


gym.register("ImageObs-v0", entry_point=ImageObsEnv)
