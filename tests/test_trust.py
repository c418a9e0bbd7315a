"""Defaults and numbers a user can trust: independent random streams per seed, rank and resume; any
--seed; the KL penalty with the PPO paper's fixed step; a guard that undoes a runaway update; a
checkpoint on disk before it replaces the last one; only TensorBoard's failed writes kept quiet; no
run inside another run."""

import os
import threading
import types

import numpy as np
import pytest
import torch

from conftest import ALL_SCRIPTS, PPO_SCRIPTS, SCRIPT_CONFIG, load

SMALL_ENV = {"ppo_continuous": "Pendulum-v1", "ppo_discrete": "CartPole-v1", "trpo_continuous": "Pendulum-v1",
             "trpo_discrete": "CartPole-v1"}


def recording_run(module, stop_at_once=False, rank=0, world_size=1):
    """A Run (the scripts' seam) that keeps each iteration's scalars and parameters, or stops at once."""

    class Recording(module.Run):
        def __init__(self):
            self.rank, self.world_size, self.scalars, self.parameters = rank, world_size, [], []

        def stopping(self):
            return stop_at_once

        def end_iteration(self, iteration, episodes, scalars, state):
            self.scalars.append(scalars)
            self.parameters.append({k: v.clone() for k, v in state()["agent"].items() if "rms" not in k})
            return False

    return Recording()


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_two_seeds_and_two_ranks_share_no_env_stream(name, monkeypatch):
    # Env i of --seed s used to be seeded s + i: seed 1's envs 1-15 were seed 2's envs 0-14, and rank 1
    # of seed 1 (8 envs each) was rank 0 of seed 9. Every reset observation must now be distinct.
    module = load(name)
    observations, make_envs = [], module.make_envs

    def recording_make_envs(*args, **kwargs):
        envs = make_envs(*args, **kwargs)
        reset = envs.reset

        def recording_reset(**reset_kwargs):
            obs, info = reset(**reset_kwargs)
            observations.append(obs)
            return obs, info

        envs.reset = recording_reset
        return envs

    monkeypatch.setattr(module, "make_envs", recording_make_envs)
    for seed, rank, world_size in [(1, 0, 1), (2, 0, 1), (1, 1, 2), (9, 0, 2)]:
        run = recording_run(module, stop_at_once=True, rank=rank, world_size=world_size)
        module.train(module.Args(env_id=SMALL_ENV[name], seed=seed, num_envs=16), run=run)
    obs = np.concatenate(observations)
    assert len(obs) == 16 + 16 + 8 + 8
    assert len(np.unique(obs.round(7), axis=0)) == len(obs)


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_a_seed_of_2_to_the_64_trains(name):
    # It used to end in a traceback (torch.manual_seed: Overflow when unpacking long long).
    module = load(name)
    run = recording_run(module)
    module.train(module.Args(env_id=SMALL_ENV[name], seed=2 ** 64, num_envs=4, num_steps=16,
                             minibatch_size=16, total_timesteps=64), run=run)
    assert len(run.scalars) == 1


def tiny_args(module, **changes):
    return module.Args(env_id="Pendulum-v1", num_envs=4, num_steps=64, minibatch_size=64,
                       total_timesteps=4 * 64 * 3, **changes)


def test_the_kl_penalty_runs_with_the_papers_fixed_step_unless_a_schedule_is_typed():
    module = load("ppo_continuous")
    rates = {}
    for schedule in (None, "adaptive"):
        run = recording_run(module)
        module.train(tiny_args(module, objective="kl-penalty", lr_schedule=schedule), run=run)
        rates[schedule] = [scalars["charts/learning_rate"] for scalars in run.scalars]
    assert rates[None] == [3e-4] * 3  # constant: beta alone answers the KL
    assert rates["adaptive"] != [3e-4] * 3  # a typed schedule is honoured
    run = recording_run(module)
    module.train(tiny_args(module), run=run)  # the clipped objective keeps the adaptive default
    assert [scalars["charts/learning_rate"] for scalars in run.scalars] != [3e-4] * 3


@pytest.mark.parametrize("name", PPO_SCRIPTS)
def test_an_update_whose_kl_passes_undo_kl_is_undone_and_counted(name):
    module = load(name)
    changes = dict(env_id=SMALL_ENV[name], num_envs=4, num_steps=64, minibatch_size=64, total_timesteps=768)
    # Every update passes 1e-12; 0 turns the guard off, and so does a rate that does not adapt to the KL.
    for undo_kl, schedule, undone in ((1e-12, "adaptive", 1.0), (0.0, "adaptive", 0.0), (1e-12, "linear", 0.0)):
        run = recording_run(module)
        module.train(module.Args(**changes, undo_kl=undo_kl, lr_schedule=schedule), run=run)
        assert [scalars["losses/update_undone"] for scalars in run.scalars] == [undone] * 3
        first, last = run.parameters[0], run.parameters[-1]
        same = all(torch.equal(first[key], last[key]) for key in first)
        assert same == bool(undone)  # undone: the parameters never move


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_a_checkpoint_is_on_disk_before_it_replaces_the_last_one(name, tmp_path, monkeypatch):
    module = load(name)
    monkeypatch.chdir(tmp_path)
    os.makedirs("runs/r")
    events = []
    monkeypatch.setattr(module.os, "fsync", lambda fd: events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))))
    replace = os.replace
    monkeypatch.setattr(module.os, "replace", lambda a, b: (events.append(("replace", a)), replace(a, b)))
    monkeypatch.setattr(module.signal, "signal", lambda *args: None)  # pytest keeps its own handlers
    module.ManagedRun(module.RunArgs(run_name="r")).save({"iteration": 1})
    temporary = str(tmp_path / "runs" / "r" / "checkpoint.pt.tmp")
    assert events == [("fsync", temporary), ("replace", os.path.join("runs", "r", "checkpoint.pt.tmp"))]
    assert torch.load("runs/r/checkpoint.pt", weights_only=True)["iteration"] == 1


def test_only_tensorboards_failed_writes_are_kept_quiet(monkeypatch):
    module = load("ppo_discrete")
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)  # put back after the test
    with pytest.raises(module.UserError):
        module.main(["--env-id", "NoSuchEnv-v0"])  # main installs the hook first
    printed = []
    monkeypatch.setattr(threading, "__excepthook__", printed.append)
    from tensorboard.summary.writer.event_file_writer import _AsyncWriterThread

    for thread_class, error in [(_AsyncWriterThread, OSError(28, "No space left on device")),
                                (threading.Thread, OSError(28, "No space left on device")),
                                (_AsyncWriterThread, ValueError("a bug"))]:
        thread = thread_class.__new__(thread_class)
        threading.excepthook(types.SimpleNamespace(exc_type=type(error), exc_value=error,
                                                   exc_traceback=None, thread=thread))
    assert [type(hook.exc_value) for hook in printed] == [OSError, ValueError]  # the last two print
    assert type(printed[0].thread) is threading.Thread


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_a_run_directory_inside_another_run_is_refused(name, tmp_path, monkeypatch, capsys):
    module = load(name)
    monkeypatch.chdir(tmp_path)
    os.makedirs("runs/a")
    open("runs/a/events.out.tfevents.1.host", "w").close()  # runs/a is a run
    os.makedirs("runs/sweep")  # runs/sweep only groups runs
    tiny = SCRIPT_CONFIG[name]["tiny"]
    with pytest.raises(module.UserError, match=r"runs/a/b would lie inside the run runs/a; choose another name"):
        module.main([*tiny, "--run-name", "a/b"])
    assert os.listdir("runs/a") == ["events.out.tfevents.1.host"]
    assert module.main([*tiny, "--run-name", "sweep/b", "--total-timesteps", "256"]) == 0
