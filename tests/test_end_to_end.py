"""End-to-end runs of each script on tiny settings: outputs, flags, determinism, Ctrl-C and resume."""

import inspect
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import fields

import pytest
import torch
import tyro

from conftest import ALL_SCRIPTS, ROOT, SCRIPT_CONFIG, load, run_script, scalars

pytestmark = pytest.mark.parametrize("name", ALL_SCRIPTS)


def test_train_writes_tags_then_save_and_evaluate(name, tmp_path):
    config = SCRIPT_CONFIG[name]
    result = run_script(name, *config["tiny"], "--save-model", "--run-name", "tiny", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^step +256/256 \| SPS +\d+ \| return .* \| ETA", result.stdout, re.M)
    assert not config["tags"] - set(scalars(tmp_path / "runs" / "tiny"))
    checkpoint = tmp_path / "runs" / "tiny" / "checkpoint.pt"
    result = run_script(name, "--eval-checkpoint", str(checkpoint), "--eval-episodes", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^return -?\d+\.\d \+- \d+\.\d \(2 episodes\)$", result.stdout, re.M)


def test_every_flag_is_documented_and_every_no_flag_is_accepted(name, in_tmp):
    module = load(name)
    config = SCRIPT_CONFIG[name]
    # tyro turns each field's comment into its --help text: every field has one.
    for cls in (module.Args, module.RunArgs):
        source = inspect.getsource(cls)
        for f in fields(cls):
            if f.name in cls.__dict__.get("__annotations__", {}):
                lines = source.splitlines()
                [i] = [i for i, line in enumerate(lines) if line.strip().startswith(f"{f.name}:")]
                documented = re.search(r"  # \S", lines[i]) or lines[i - 1].strip().startswith("# ")
                assert documented, f"--{f.name} has no help text"
    # Every boolean that defaults to True has a --no-* flag in the list, and each sets it to False.
    booleans = {f.name for f in fields(module.RunArgs) if f.type is bool and getattr(module.RunArgs(), f.name)}
    assert {flag[len("--no-"):].replace("-", "_") for flag in config["no_flags"]} >= booleans
    for flag in config["no_flags"]:
        assert getattr(tyro.cli(module.RunArgs, args=[flag]), flag[len("--no-"):].replace("-", "_")) is False
    # And a run with all of them at once trains.
    assert module.main(config["tiny"] + config["no_flags"] + ["--run-name", "no"]) == 0
    assert scalars(in_tmp / "runs" / "no")["losses/value_loss"]


def test_same_seed_same_losses_other_seed_other_losses(name, in_tmp):
    module = load(name)
    runs = {}
    for run_name, seed in [("a", "1"), ("b", "1"), ("c", "2")]:
        assert module.main(SCRIPT_CONFIG[name]["tiny"] + ["--seed", seed, "--run-name", run_name]) == 0
        logged = scalars(in_tmp / "runs" / run_name)
        runs[run_name] = {tag: [v for _, v in points] for tag, points in logged.items()
                          if tag.startswith("losses/") or tag == "charts/episodic_return"}
    assert runs["a"] == runs["b"]
    assert runs["a"]["losses/value_loss"] != runs["c"]["losses/value_loss"]


def test_non_finite_loss_stops_cleanly_and_keeps_logs_and_checkpoint(name, in_tmp, monkeypatch, capsys):
    module = load(name)
    calls = {"n": 0}
    original = module.value_loss

    def poisoned(*args, **kwargs):  # finite for the first iteration's updates, then NaN
        calls["n"] += 1
        loss = original(*args, **kwargs)
        return loss * float("nan") if calls["n"] > 8 else loss

    monkeypatch.setattr(module, "value_loss", poisoned)
    argv = SCRIPT_CONFIG[name]["tiny"] + ["--run-name", "nan", "--checkpoint-every", "1",
                                          "--update-epochs", "4", "--minibatch-size", "64"]
    with pytest.raises(FloatingPointError, match="non-finite"):
        module.main(argv)
    run_dir = in_tmp / "runs" / "nan"
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["iteration"] == 1  # the last good iteration's checkpoint is kept
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in checkpoint["agent"].values())
    assert scalars(run_dir)["losses/value_loss"]


def test_sigint_writes_checkpoint_and_resume_continues_without_gaps(name, tmp_path):
    argv = SCRIPT_CONFIG[name]["tiny"] + ["--total-timesteps", str(128 * 60), "--update-epochs", "1",
                                          "--run-name", "int"]
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, f"{name}.py"), *argv], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress_lines = 0
    for line in process.stdout:
        progress_lines += line.startswith("step")
        if progress_lines == 3:
            process.send_signal(signal.SIGINT)
            break
    out, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert f"resume with: python {os.path.join(ROOT, name)}.py --resume runs/int/checkpoint.pt" in out
    checkpoint_path = tmp_path / "runs" / "int" / "checkpoint.pt"
    interrupted_at = torch.load(checkpoint_path, weights_only=True)["iteration"]
    assert 3 <= interrupted_at < 60  # the last complete iteration
    assert max(step for step, _ in scalars(tmp_path / "runs" / "int")["charts/SPS"]) == interrupted_at * 128

    result = run_script(name, "--resume", str(checkpoint_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sps_steps = [step for step, _ in scalars(tmp_path / "runs" / "int")["charts/SPS"]]
    assert sps_steps == [128 * i for i in range(1, 61)]  # every iteration once, in one TensorBoard run
    assert len(list((tmp_path / "runs" / "int").glob("events.out.tfevents.*"))) == 2


def test_two_resumes_from_one_checkpoint_train_identically(name, in_tmp, monkeypatch):
    """A run of 2k iterations does not equal k iterations and a resume for k more: episodes in progress
    are not saved (MuJoCo's simulator state is not), so the resumed run starts new ones. What holds: the
    resumed run restores the parameters, the optimizer, the statistics and its settings, and draws from
    random streams derived from (seed, rank, iteration), so two resumes from one checkpoint are equal."""
    module = load(name)
    original = module.ManagedRun.save

    def save_and_keep_each(run, state):  # keep a copy of every checkpoint, named by its iteration
        original(run, state)
        path = os.path.join("runs", run.args.run_name, "checkpoint.pt")
        shutil.copy(path, f"{path}.{state['iteration']}")

    monkeypatch.setattr(module.ManagedRun, "save", save_and_keep_each)
    config = SCRIPT_CONFIG[name]["resume_exact"]
    assert module.main(config + ["--run-name", "full", "--checkpoint-every", "2"]) == 0
    run_dir = in_tmp / "runs" / "full"
    at_k = torch.load(run_dir / "checkpoint.pt.2", weights_only=True)
    finals = []
    for _ in range(2):  # as if the run had been killed after iteration 2's checkpoint
        shutil.copy(run_dir / "checkpoint.pt.2", run_dir / "checkpoint.pt")
        assert module.main(["--resume", str(run_dir / "checkpoint.pt")]) == 0
        finals.append(torch.load(run_dir / "checkpoint.pt.4", weights_only=True))
    assert finals[0]["iteration"] == finals[1]["iteration"] == 4 and at_k["iteration"] == 2
    settings = [{k: v for k, v in c["args"].items() if k != "resume"} for c in (finals[0], at_k)]
    assert settings[0] == settings[1]  # the run's own settings, not the script's defaults
    for key, value in finals[0]["agent"].items():
        torch.testing.assert_close(finals[1]["agent"][key], value, rtol=0, atol=0)
    assert any(not torch.equal(value, finals[0]["agent"][key]) for key, value in at_k["agent"].items())
    key = "critic_optimizer" if name.startswith("trpo") else "optimizer"
    assert finals[0][key]["state"][0]["step"] == at_k[key]["state"][0]["step"] * 2


def test_torch_uses_the_processs_cores_unless_omp_num_threads_says_otherwise(name, in_tmp, monkeypatch):
    module, threads = load(name), torch.get_num_threads()
    try:
        for local_ranks, omp, expected in [(None, None, os.cpu_count()), ("2", None, os.cpu_count() // 2),
                                           (None, "1", threads)]:
            for variable, value in (("LOCAL_WORLD_SIZE", local_ranks), ("OMP_NUM_THREADS", omp)):
                if value is None:
                    monkeypatch.delenv(variable, raising=False)
                else:
                    monkeypatch.setenv(variable, value)
            torch.set_num_threads(threads)
            assert module.main(SCRIPT_CONFIG[name]["tiny"] + ["--run-name", f"t{local_ranks}{omp}"]) == 0
            assert torch.get_num_threads() == max(1, expected), (local_ranks, omp)
    finally:
        torch.set_num_threads(threads)
