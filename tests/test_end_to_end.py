"""End-to-end runs of each script on tiny settings: outputs, flags, bad input, determinism, interruption."""

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
import torch
import tyro
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import ALL_SCRIPTS, ROOT, SCRIPT_CONFIG, load

pytestmark = pytest.mark.parametrize("name", ALL_SCRIPTS)


def run_script(name, *argv, cwd, timeout=120, **kwargs):
    return subprocess.run([sys.executable, os.path.join(ROOT, f"{name}.py"), *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def scalars(run_dir):
    """{tag: [(step, value), ...]} over every event file of a run directory."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def train_in_process(module, argv, monkeypatch=None):
    """Parse argv like the command line does and run main() here (faster than a subprocess)."""
    return module.main(tyro.cli(module.Args, args=argv), module.given_flags(argv))


def test_train_writes_tags_then_save_and_evaluate(name, tmp_path):
    config = SCRIPT_CONFIG[name]
    result = run_script(name, *config["tiny"], "--save-model", "--run-name", "tiny", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"step +\d+/\d+ \| SPS +\d+ \| return .* \| ETA", result.stdout)
    missing = config["tags"] - set(scalars(tmp_path / "runs" / "tiny"))
    assert not missing
    checkpoint = tmp_path / "runs" / "tiny" / "checkpoint.pt"
    result = run_script(name, "--eval-checkpoint", str(checkpoint), "--eval-episodes", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"evaluated .*: 2 episodes, return -?\d+\.\d \+- \d+\.\d", result.stdout)


def test_every_no_flag_is_documented_parsed_and_accepted(name, in_tmp):
    module = load(name)
    config = SCRIPT_CONFIG[name]
    # Every boolean field has a --no-* flag in the list, and each one sets its field to False.
    booleans = {f.name for f in module.fields(module.Args) if f.type is bool and getattr(module.Args(), f.name)}
    assert {flag[len("--no-"):].replace("-", "_") for flag in config["no_flags"]} >= booleans
    for flag in config["no_flags"]:
        assert getattr(tyro.cli(module.Args, args=[flag]), flag[len("--no-"):].replace("-", "_")) is False
    # And a run with all of them at once trains.
    assert train_in_process(module, config["tiny"] + config["no_flags"] + ["--run-name", "no"]) == 0
    assert scalars(in_tmp / "runs" / "no")["losses/value_loss"]


def test_bad_input_exits_2_with_one_line(name, tmp_path):
    config = SCRIPT_CONFIG[name]
    other_env, other_script = config["other_kind_env"]
    cases = [
        (["--env-id", "HalfCheetah-v9"], "HalfCheetah-v4"),   # unknown id: close ids suggested
        (["--env-id", other_env], other_script),              # wrong kind of action space
        (["--num-envs", "3", "--num-steps", "5", "--minibatch-size", "4"], "not divisible"),
        (["--learning-rate", "-1"], "must be positive"),
        (["--num-envs", "0"], "must be positive"),
        (["--resume", "no/such/checkpoint.pt"], "does not exist"),
    ]
    for argv, expected in cases:
        result = run_script(name, *argv, cwd=tmp_path, timeout=60)
        assert result.returncode == 2, (argv, result.stderr)
        lines = result.stderr.strip().splitlines()
        error_lines = [line for line in lines if line.startswith("error:")]
        assert len(error_lines) == 1 and expected in error_lines[0], (argv, result.stderr)
        assert "Traceback" not in result.stderr


def test_same_seed_same_losses_other_seed_other_losses(name, in_tmp):
    module = load(name)
    tiny = SCRIPT_CONFIG[name]["tiny"]
    runs = {}
    for run_name, seed in [("a", "1"), ("b", "1"), ("c", "2")]:
        assert train_in_process(module, tiny + ["--seed", seed, "--run-name", run_name, "--save-model"]) == 0
        logged = scalars(in_tmp / "runs" / run_name)
        runs[run_name] = {tag: [v for _, v in points] for tag, points in logged.items()
                          if tag.startswith("losses/") or tag == "charts/episodic_return"}
    assert runs["a"] == runs["b"]
    assert runs["a"]["losses/value_loss"] != runs["c"]["losses/value_loss"]


def test_non_finite_loss_stops_cleanly_and_keeps_logs_and_checkpoint(name, in_tmp, monkeypatch, capsys):
    module = load(name)
    tiny = SCRIPT_CONFIG[name]["tiny"]
    calls = {"n": 0}
    original = module.value_loss

    def poisoned(*args, **kwargs):  # finite for the first iteration's updates, then NaN
        calls["n"] += 1
        loss = original(*args, **kwargs)
        return loss * float("nan") if calls["n"] > 8 else loss

    monkeypatch.setattr(module, "value_loss", poisoned)
    code = train_in_process(module, tiny + ["--run-name", "nan", "--checkpoint-every", "1", "--update-epochs", "4",
                                            "--minibatch-size", "64"])
    assert code == 1
    assert "non-finite" in capsys.readouterr().err
    run_dir = in_tmp / "runs" / "nan"
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["iteration"] == 1  # the checkpoint of the last good iteration is kept, not overwritten
    assert all(torch.isfinite(v).all() for v in checkpoint["agent"].values())
    assert scalars(run_dir)["losses/value_loss"]


def test_sigint_writes_checkpoint_and_resume_continues_without_gaps(name, tmp_path):
    config = SCRIPT_CONFIG[name]
    argv = config["tiny"] + ["--total-timesteps", str(128 * 150), "--update-epochs", "1", "--run-name", "int"]
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, f"{name}.py"), *argv], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress_lines = 0
    for line in process.stdout:
        progress_lines += line.startswith("step")
        if progress_lines == 3:
            process.send_signal(signal.SIGINT)
            break
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "resume with:" in stderr
    checkpoint_path = tmp_path / "runs" / "int" / "checkpoint.pt"
    interrupted_at = torch.load(checkpoint_path, weights_only=True)["iteration"]
    assert 3 <= interrupted_at < 150
    assert max(step for step, _ in scalars(tmp_path / "runs" / "int")["charts/SPS"]) == interrupted_at * 128

    result = run_script(name, "--resume", str(checkpoint_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sps_steps = [step for step, _ in scalars(tmp_path / "runs" / "int")["charts/SPS"]]
    assert sorted(sps_steps) == [128 * i for i in range(1, 151)]  # every iteration exactly once


def test_resume_refuses_corrupt_and_mismatched_checkpoints(name, tmp_path):
    config = SCRIPT_CONFIG[name]
    assert run_script(name, *config["tiny"], "--save-model", "--run-name", "r", cwd=tmp_path).returncode == 0
    checkpoint = tmp_path / "runs" / "r" / "checkpoint.pt"
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(checkpoint.read_bytes()[:1000])
    other_env = "Walker2d-v4" if "continuous" in name else "Acrobot-v1"
    for argv, expected in [(["--resume", str(truncated)], "corrupt"),
                           (["--resume", str(checkpoint), "--env-id", other_env], "differs from the checkpoint"),
                           (["--eval-checkpoint", str(truncated)], "corrupt")]:
        result = run_script(name, *argv, cwd=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("error:") and expected in result.stderr


def test_resume_is_deterministic_and_continues_from_the_checkpoint(name, in_tmp, monkeypatch):
    """A run of 2k iterations does not equal k iterations + a resume for k more, even on CPU with
    --torch-deterministic: the checkpoint cannot hold an episode in progress (MuJoCo's simulator state
    is not saved), so the resumed run starts new episodes, and even when an episode ends exactly at the
    checkpoint, the uninterrupted run has already drawn the next episode's start from the env's random
    generator. What does hold, and is asserted here: everything else the run depends on is restored
    (parameters, optimizer, statistics, torch/numpy/python and env random generators), so two resumes
    from one checkpoint end bit-identical, and the resumed run continues from the saved parameters."""
    module = load(name)
    config = SCRIPT_CONFIG[name]["resume_exact"]
    original = module.save_checkpoint

    def save_and_keep_each(path, **state):  # keep a copy of every checkpoint, named by its iteration
        original(path, **state)
        shutil.copy(path, f"{path}.{state['iteration']}")

    monkeypatch.setattr(module, "save_checkpoint", save_and_keep_each)
    assert train_in_process(module, config + ["--run-name", "full", "--checkpoint-every", "2"]) == 0
    saved = in_tmp / "saved.pt"
    shutil.copy(in_tmp / "runs" / "full" / "checkpoint.pt.2", saved)
    at_k = torch.load(saved, weights_only=True)
    finals = []
    for _ in range(2):
        # As if the run had been killed after iteration 2's checkpoint: its checkpoint.pt is that one again
        # (resuming an older copy while a newer checkpoint.pt exists is refused, tested elsewhere).
        shutil.copy(saved, in_tmp / "runs" / "full" / "checkpoint.pt")
        assert train_in_process(module, ["--resume", str(in_tmp / "runs" / "full" / "checkpoint.pt")]) == 0
        finals.append(torch.load(in_tmp / "runs" / "full" / "checkpoint.pt.4", weights_only=True))
    assert finals[0]["iteration"] == finals[1]["iteration"] == 4 and at_k["iteration"] == 2
    for key, value in finals[0]["agent"].items():
        torch.testing.assert_close(finals[1]["agent"][key], value, rtol=0, atol=0)
    changed = [key for key, value in at_k["agent"].items() if not torch.equal(value, finals[0]["agent"][key])]
    assert changed  # the resumed run trained on from the checkpoint
    key = "critic_optimizer" if name == "trpo_continuous" else "optimizer"
    assert finals[0][key]["state"][0]["step"] == at_k[key]["state"][0]["step"] * 2


def test_resume_and_evaluate_check_the_checkpoints_env_not_the_default(name, in_tmp, monkeypatch):
    module = load(name)
    tiny = SCRIPT_CONFIG[name]["tiny"]
    assert train_in_process(module, tiny + ["--run-name", "env", "--save-model"]) == 0
    checked, original = [], module.check_env

    def check_and_record(env_id, *rest):
        checked.append(env_id)
        original(env_id, *rest)

    monkeypatch.setattr(module, "check_env", check_and_record)
    checkpoint = str(in_tmp / "runs" / "env" / "checkpoint.pt")
    assert train_in_process(module, ["--eval-checkpoint", checkpoint, "--eval-episodes", "1"]) == 0
    assert checked == []  # evaluation builds the checkpoint's env only
    state = torch.load(checkpoint, weights_only=True)
    state["iteration"] = 1  # one iteration left to train (a finished run is not resumed at all)
    torch.save(state, checkpoint)
    assert train_in_process(module, ["--resume", checkpoint]) == 0
    assert checked == [tiny[tiny.index("--env-id") + 1]]
