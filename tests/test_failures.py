"""Nothing lost, nothing silent: run directories, resume rules, and every failure path ends in one line
(exit 2 for bad input, 1 for a fault of the machine) with the logs and the last good checkpoint kept."""

import errno
import glob
import os
import select
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch

from conftest import ALL_SCRIPTS, ROOT, SCRIPT_CONFIG, load
from test_end_to_end import run_script, scalars, train_in_process

pytestmark = pytest.mark.parametrize("name", ALL_SCRIPTS)


def one_error_line(result, expected, status=2):
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if line and line != "CUDA is not available: running on CPU"]
    assert result.returncode == status, (result.returncode, lines)
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines


def event_files(run_dir):
    return sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))


def snapshot(run_dir):
    """{file name: bytes} of a run directory: to show that nothing in it changed."""
    return {path: open(path, "rb").read() for path in sorted(glob.glob(os.path.join(run_dir, "*")))
            if os.path.isfile(path)}


def tiny(name, *extra):
    return SCRIPT_CONFIG[name]["tiny"] + list(extra)


# ------------------------------------------------------------------------------------------------
# Run directories
# ------------------------------------------------------------------------------------------------
def test_the_same_run_name_twice_is_refused_and_the_first_run_kept(name, tmp_path):
    assert run_script(name, *tiny(name, "--run-name", "same", "--save-model"), cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "runs" / "same")
    result = run_script(name, *tiny(name, "--run-name", "same", "--save-model"), cwd=tmp_path)
    one_error_line(result, "runs/same already holds a run; continue it with --resume runs/same/checkpoint.pt")
    assert snapshot(tmp_path / "runs" / "same") == before


def test_run_names_that_leave_runs_are_refused(name, tmp_path):
    for run_name in ("../outside", "/tmp/absolute", "a/../../b", "."):
        one_error_line(run_script(name, *tiny(name, "--run-name", run_name), cwd=tmp_path), "stays inside runs/")
    assert not os.path.exists(tmp_path / "outside")


# ------------------------------------------------------------------------------------------------
# Resume: what was typed is honoured or refused; stale and finished resumes
# ------------------------------------------------------------------------------------------------
def test_resume_refuses_a_typed_setting_even_when_it_is_the_default(name, tmp_path):
    default_lr = str(load(name).Args().learning_rate)
    other_lr, other_env = "1e-2", "Acrobot-v1" if name == "ppo_discrete" else "Pendulum-v1"
    config = tiny(name, "--run-name", "r", "--learning-rate", other_lr, "--no-norm-obs", "--total-timesteps", "512",
                  "--checkpoint-every", "1", "--env-id", other_env)
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, f"{name}.py"), *config], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:  # stop after the first iteration: an unfinished run to resume
        if line.startswith("step "):
            process.send_signal(signal.SIGINT)
            break
    process.communicate(timeout=60)
    checkpoint = str(tmp_path / "runs" / "r" / "checkpoint.pt")
    default_env = load(name).Args().env_id
    for typed, shown in [(["--learning-rate", default_lr], "--learning-rate"), (["--norm-obs"], "--norm-obs"),
                         (["--env-id", default_env], "--env-id")]:
        result = run_script(name, "--resume", checkpoint, *typed, cwd=tmp_path)
        one_error_line(result, f"{shown} ")
    # a run-management flag may change; a typed defining flag equal to the checkpoint's is fine
    result = run_script(name, "--resume", checkpoint, "--learning-rate", other_lr, "--torch-threads", "1",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_resuming_an_older_copy_behind_a_newer_checkpoint_is_refused(name, in_tmp, monkeypatch):
    module = load(name)
    assert train_in_process(module, tiny(name, "--run-name", "s", "--total-timesteps", "512", "--checkpoint-every",
                                         "2", "--save-model")) == 0
    # a backup taken at iteration 2 of 4
    state = torch.load(in_tmp / "runs" / "s" / "checkpoint.pt", weights_only=True)
    state["iteration"] = 2
    torch.save(state, in_tmp / "backup.pt")
    before = snapshot(in_tmp / "runs" / "s")
    with pytest.raises(module.UserError, match="is at step 512, beyond this checkpoint's step 256"):
        train_in_process(module, ["--resume", str(in_tmp / "backup.pt")])
    assert snapshot(in_tmp / "runs" / "s") == before


def test_resuming_after_a_kill_between_checkpoints_leaves_one_value_per_step(name, in_tmp, capsys):
    module = load(name)
    assert train_in_process(module, tiny(name, "--run-name", "k", "--total-timesteps", "512", "--save-model")) == 0
    # As after kill -9: the events reach step 512, the newest checkpoint is of iteration 2 (step 256).
    checkpoint = in_tmp / "runs" / "k" / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=True)
    state["iteration"] = 2
    torch.save(state, checkpoint)
    capsys.readouterr()
    assert train_in_process(module, ["--resume", str(checkpoint)]) == 0
    assert "TensorBoard drops those after step 256" in capsys.readouterr().out
    steps = [step for step, _ in scalars(in_tmp / "runs" / "k")["losses/value_loss"]]
    assert steps == [128, 256, 384, 512]  # read with TensorBoard's own reader, which applies the purge


def test_resuming_a_finished_run_says_so_and_writes_nothing(name, tmp_path):
    assert run_script(name, *tiny(name, "--run-name", "f", "--save-model"), cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "runs" / "f")
    result = run_script(name, "--resume", str(tmp_path / "runs" / "f" / "checkpoint.pt"), cwd=tmp_path)
    assert result.returncode == 0 and "f is finished (step 256 of 256): nothing to resume" in result.stdout
    assert snapshot(tmp_path / "runs" / "f") == before


# ------------------------------------------------------------------------------------------------
# Bad input: one line, exit 2
# ------------------------------------------------------------------------------------------------
def test_non_finite_float_flags_are_refused(name, tmp_path):
    flags = [("--learning-rate", "inf"), ("--gamma", "nan"), ("--max-grad-norm", "-inf")]
    flags += [("--cg-damping", "nan"), ("--max-kl", "inf")] if name == "trpo_continuous" else [("--value-coef", "nan")]
    for flag, value in flags:
        one_error_line(run_script(name, flag, value, cwd=tmp_path), f"{flag} must be a finite number, got {value}")


def test_seed_outside_numpys_range_is_refused(name, tmp_path):
    for seed in ("-1", str(2 ** 32)):
        one_error_line(run_script(name, "--seed", seed, cwd=tmp_path), "--seed must be in [0, 2^32 - 1]")


def test_damaged_foreign_and_directory_checkpoints_are_one_line(name, tmp_path):
    assert run_script(name, *tiny(name, "--run-name", "c", "--save-model"), cwd=tmp_path).returncode == 0
    good = tmp_path / "runs" / "c" / "checkpoint.pt"
    state = torch.load(good, weights_only=True)
    incomplete = {key: value for key, value in state.items() if key not in ("rng", "agent")}
    torch.save(incomplete, tmp_path / "incomplete.pt")
    bad_agent = {**state, "agent": {"obs_rms.mean": torch.zeros(2)}}
    torch.save(bad_agent, tmp_path / "bad_agent.pt")
    other = [s for s in ALL_SCRIPTS if s != name][0]
    torch.save({**state, "format": f"{other}/3"}, tmp_path / "other.pt")
    for flag in ("--resume", "--eval-checkpoint"):
        one_error_line(run_script(name, flag, "incomplete.pt", cwd=tmp_path), "is incomplete: it lacks agent, rng")
        one_error_line(run_script(name, flag, "runs/c", cwd=tmp_path), "runs/c is a directory")
        one_error_line(run_script(name, flag, "other.pt", cwd=tmp_path), f"is a checkpoint of {other}.py")
    one_error_line(run_script(name, "--eval-checkpoint", "bad_agent.pt", cwd=tmp_path), "agent does not load")
    assert not glob.glob(str(tmp_path / "**" / "*.tmp"), recursive=True)


def test_eval_with_capture_video_without_moviepy_is_one_line(name, in_tmp, monkeypatch):
    module = load(name)
    assert train_in_process(module, tiny(name, "--run-name", "v", "--save-model")) == 0
    monkeypatch.setitem(sys.modules, "moviepy", None)
    with pytest.raises(module.UserError, match="--capture-video needs moviepy"):
        train_in_process(module, ["--eval-checkpoint", str(in_tmp / "runs" / "v" / "checkpoint.pt"),
                                  "--capture-video"])


class ImageObsEnv(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (8, 8, 3), np.uint8)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)


gym.register("ImageObs-v0", entry_point=ImageObsEnv)


def test_non_flat_observations_are_refused_up_front(name):
    module = load(name)
    with pytest.raises(module.UserError, match=r"observations of shape \(8, 8, 3\).*MLPs"):
        module.check_env("ImageObs-v0")


def test_module_colon_env_ids_import_the_users_module(name, tmp_path):
    kind = "Discrete(2)" if name == "ppo_discrete" else "Box(-1.0, 1.0, (1,), np.float32)"
    (tmp_path / "my_envs.py").write_text(f'''
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


gym.register("MyWalk-v0", entry_point=Walk, max_episode_steps=20)
''')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    config = tiny(name, "--env-id", "my_envs:MyWalk-v0", "--run-name", "mine")
    result = run_script(name, *config, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert scalars(tmp_path / "runs" / "mine")["charts/episodic_return"][0][1] == 20.0
    one_error_line(run_script(name, "--env-id", "no_such_module:X-v0", cwd=tmp_path), "cannot import 'no_such_module'")


def test_tyro_errors_exit_2_and_say_what_is_wrong(name, tmp_path):
    result = run_script(name, "--no-such-flag", cwd=tmp_path)
    assert result.returncode == 2 and "--no-such-flag" in result.stderr
    result = run_script(name, "--num-envs", "many", cwd=tmp_path)
    assert result.returncode == 2 and "many" in result.stderr


# ------------------------------------------------------------------------------------------------
# Faults of the machine: one line, exit 1, the last good checkpoint kept, no temporary file
# ------------------------------------------------------------------------------------------------
def test_a_full_disk_while_writing_a_checkpoint(name, in_tmp, monkeypatch):
    module = load(name)
    saves = []
    original = torch.save

    def save_then_disk_full(obj, f, *args, **kwargs):
        saves.append(1)
        if len(saves) > 1:  # the first checkpoint fits, the second does not
            f.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(obj, f, *args, **kwargs)

    monkeypatch.setattr(module.torch, "save", save_then_disk_full)
    with pytest.raises(module.RunFault, match="No space left on device; the previous checkpoint .* is kept"):
        train_in_process(module, tiny(name, "--run-name", "d", "--total-timesteps", "512", "--checkpoint-every", "1"))
    monkeypatch.setattr(module.torch, "save", original)
    run_dir = in_tmp / "runs" / "d"
    assert not glob.glob(str(run_dir / "*.tmp"))
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 1


def test_a_full_disk_while_writing_the_event_file(name, in_tmp, monkeypatch):
    module = load(name)
    calls, original = [], module.SummaryWriter.add_scalar

    def add_scalar_then_disk_full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 60:  # well into the second iteration
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(module.SummaryWriter, "add_scalar", add_scalar_then_disk_full)
    with pytest.raises(module.RunFault, match="cannot write the logs in runs/e: No space left on device"):
        train_in_process(module, tiny(name, "--run-name", "e", "--total-timesteps", "512", "--checkpoint-every", "1"))
    assert torch.load(in_tmp / "runs" / "e" / "checkpoint.pt", weights_only=True)["iteration"] >= 1


def test_an_unwritable_runs_directory(name, in_tmp, monkeypatch):
    module = load(name)

    def read_only(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(module.os, "makedirs", read_only)
    with pytest.raises(module.RunFault, match="cannot write to runs/w: Permission denied"):
        train_in_process(module, tiny(name, "--run-name", "w"))


def test_the_cli_reports_a_fault_in_one_line_with_status_1(name, in_tmp, monkeypatch, capsys):
    module = load(name)
    monkeypatch.setattr(module.os, "makedirs", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "denied")))
    monkeypatch.setattr(sys, "argv", [f"{name}.py", *tiny(name, "--run-name", "w")])
    with pytest.raises(SystemExit) as exit_info:
        module.cli()
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == ["error: cannot write to runs/w: denied"]


def test_ctrl_c_during_evaluation_is_one_line(name, tmp_path):
    assert run_script(name, *tiny(name, "--run-name", "i", "--save-model"), cwd=tmp_path).returncode == 0
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, f"{name}.py"), "--eval-checkpoint",
                                "runs/i/checkpoint.pt", "--eval-episodes", "100000"], cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Once main() has started (after the imports: it prints the device line first on a CPU machine), the
    # evaluation is running.
    deadline = time.time() + 30
    while time.time() < deadline and not select.select([process.stdout], [], [], 0.5)[0]:
        pass
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT
    assert err.strip().splitlines() == [
        "error: interrupted (Ctrl-C) before training started or during evaluation; nothing was saved"]


def test_trpo_says_on_the_console_when_the_line_search_keeps_rejecting(name, in_tmp, monkeypatch, capsys):
    if name != "trpo_continuous":
        pytest.skip("TRPO only: PPO has no line search")
    module = load(name)
    monkeypatch.setattr(module, "line_search", lambda f, theta_old, surrogate_old, *args: (
        theta_old, False, 10, surrogate_old, 0.0))
    assert train_in_process(module, tiny(name, "--run-name", "t", "--total-timesteps", str(128 * 12))) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: the line search has accepted no step for 10 iterations in a row: the policy has "
                        "not changed since step 0 (losses/step_accepted, losses/kl)"]


def test_ctrl_c_during_start_up_is_one_line(name, in_tmp, monkeypatch, capsys):
    module = load(name)

    def interrupted(*args):  # Ctrl-C arrives while the env is being built, before training starts
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "check_env", interrupted)
    monkeypatch.setattr(sys, "argv", [f"{name}.py", *tiny(name, "--run-name", "u")])
    with pytest.raises(SystemExit) as exit_info:
        module.cli()
    assert exit_info.value.code == 128 + signal.SIGINT
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: interrupted (Ctrl-C) before training started or during evaluation; nothing was saved"]
    assert not os.path.exists(in_tmp / "runs" / "u")  # nothing was written for the run
