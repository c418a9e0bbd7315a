"""Shared test helpers: import the top-level scripts as modules, run them in this process or as a
subprocess, read their TensorBoard scalars, and a toy counting environment."""

import importlib
import os
import signal
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ALL_SCRIPTS = ["ppo_continuous", "ppo_discrete", "trpo_continuous", "trpo_discrete"]
PPO_SCRIPTS = ["ppo_continuous", "ppo_discrete"]
CONTINUOUS_SCRIPTS = ["ppo_continuous", "trpo_continuous"]


@pytest.fixture(autouse=True)
def environment_restored():
    """Tests that call a script's main() in this process let it set variables in os.environ (video
    capture sets MUJOCO_GL) and its Ctrl-C handlers: put both back for the tests that follow."""
    saved, handlers = dict(os.environ), {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    os.environ.clear()
    os.environ.update(saved)
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def load(name: str):
    """Import a top-level script; importing must not start training."""
    return importlib.import_module(name)


def run_script(name, *argv, cwd, timeout=120, **kwargs):
    """The script as a user runs it, in a subprocess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, f"{name}.py"), *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def run_cli(module, argv, monkeypatch, capsys):
    """The script's command line in this process (faster than a subprocess): (exit status, the lines
    it printed on stdout and stderr, without the CPU notice)."""
    monkeypatch.setattr(sys, "argv", [f"{module.__name__}.py", *argv])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        module.cli()
    out, err = capsys.readouterr()
    lines = [line for line in (out + err).splitlines() if line and line != CPU_NOTICE]
    return exit_info.value.code, lines


def steps_to_solve_cartpole(module, seed=1):
    """Train the script's defaults on CartPole-v1 until the mean return of the last 20 episodes
    reaches 475, where a Run (the scripts' seam) ends the run: the env steps taken by the end of
    that iteration, or None if the run's 100k steps did not reach it."""
    args = module.Args(env_id="CartPole-v1", seed=seed)

    class StopWhenSolved(module.Run):
        def __init__(self):
            self.returns, self.solved_at = [], None

        def end_iteration(self, iteration, episodes, scalars, state):
            self.returns += [episode_return for _, episode_return, _ in episodes]
            if len(self.returns) >= 20 and sum(self.returns[-20:]) / 20 >= 475:
                self.solved_at = iteration * args.num_envs * args.num_steps
            return self.solved_at is not None

    run, threads = StopWhenSolved(), torch.get_num_threads()
    torch.set_num_threads(1)  # as main() does: fastest for these small networks
    try:
        module.train(args, run=run)
    finally:
        torch.set_num_threads(threads)
    return run.solved_at


def scalars(run_dir):
    """{tag: [(step, value), ...]} of a run directory, read with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


CPU_NOTICE = "more processes than GPUs on this machine: running on CPU"


class CounterEnv(gym.Env):
    """obs = [steps taken in this episode, episodes started so far]; reward 1 on every real step.

    Terminates after `terminate_at` steps when given; time limits come from gym's TimeLimit
    (max_episode_steps at registration). A reward of exactly 0 can only come from a reset step that is
    not a real transition. The actions the env received are kept in `received`.
    """

    def __init__(self, terminate_at=None, discrete=False):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
        self.action_space = gym.spaces.Discrete(3) if discrete else gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.terminate_at, self.t, self.episode, self.received = terminate_at, 0, -1, []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.episode = 0, self.episode + 1
        return np.array([self.t, self.episode], dtype=np.float64), {}

    def step(self, action):
        self.received.append(np.array(action))
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([self.t, self.episode], dtype=np.float64), 1.0, terminated, False, {}


gym.register("Counter-v0", entry_point=CounterEnv, max_episode_steps=3)  # truncated after 3 steps
gym.register("CounterTerminating-v0", entry_point=CounterEnv, kwargs={"terminate_at": 2}, max_episode_steps=50)
gym.register("CounterDiscrete-v0", entry_point=CounterEnv, kwargs={"discrete": True}, max_episode_steps=3)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in a temporary directory, so runs/ and videos/ land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Per script: a tiny configuration (a few seconds, episodes do end), the --no-* flags it must accept,
# and the TensorBoard tags a run must write.
COMMON_TAGS = {"charts/episodic_return", "charts/episodic_length", "charts/SPS", "losses/value_loss",
               "losses/explained_variance", "losses/entropy"}
PPO_TAGS = COMMON_TAGS | {"charts/learning_rate", "losses/policy_loss", "losses/kl", "losses/minibatch_approx_kl",
                          "losses/minibatch_old_approx_kl",
                          "losses/clipfrac", "losses/grad_norm", "charts/update_epochs"}
TRPO_TAGS = COMMON_TAGS | {"losses/kl", "losses/surrogate_improvement", "losses/expected_improvement",
                          "losses/backtracks", "losses/step_accepted", "losses/cg_residual", "losses/step_norm"}
TRPO_NO_FLAGS = ["--no-value-clip", "--no-norm-adv", "--no-norm-obs", "--no-norm-reward", "--no-bootstrap-truncated",
                 "--no-torch-deterministic", "--no-cuda", "--no-capture-video", "--no-save-model"]
PPO_NO_FLAGS = ["--no-value-clip", "--no-norm-adv", "--no-norm-obs",
                "--no-norm-reward", "--no-bootstrap-truncated", "--no-torch-deterministic", "--no-cuda",
                "--no-capture-video", "--no-save-model", "--no-anneal-entropy"]
SCRIPT_CONFIG = {
    "ppo_continuous": {
        "tiny": ["--env-id", "Hopper-v4", "--num-envs", "2", "--num-steps", "64", "--minibatch-size", "32",
                 "--update-epochs", "2", "--hidden-sizes", "16", "16", "--total-timesteps", "256"],
        "no_flags": PPO_NO_FLAGS + ["--no-scale-actions"],
        "tags": PPO_TAGS | {"charts/policy_std"},
        "other_kind_env": ("CartPole-v1", "ppo_discrete.py"),
        "resume_exact": ["--env-id", "HalfCheetah-v4", "--num-envs", "1", "--num-steps", "500",
                         "--minibatch-size", "100", "--update-epochs", "2", "--hidden-sizes", "16",
                         "--total-timesteps", "2000"],
    },
    "ppo_discrete": {
        "tiny": ["--env-id", "CartPole-v1", "--num-envs", "2", "--num-steps", "64", "--minibatch-size", "32",
                 "--update-epochs", "2", "--hidden-sizes", "16", "16", "--total-timesteps", "256"],
        "no_flags": PPO_NO_FLAGS,
        "tags": PPO_TAGS,
        "other_kind_env": ("Hopper-v4", "ppo_continuous.py"),
        "resume_exact": ["--env-id", "CartPole-v1", "--num-envs", "2", "--num-steps", "128", "--minibatch-size",
                         "64", "--update-epochs", "2", "--hidden-sizes", "16", "--total-timesteps", "1024"],
    },
    "trpo_continuous": {
        "tiny": ["--env-id", "Hopper-v4", "--num-envs", "2", "--num-steps", "64", "--minibatch-size", "32",
                 "--update-epochs", "2", "--hidden-sizes", "16", "16", "--total-timesteps", "256"],
        "no_flags": TRPO_NO_FLAGS,
        "tags": TRPO_TAGS | {"charts/policy_std"},
        "other_kind_env": ("CartPole-v1", "trpo_discrete.py"),
        "resume_exact": ["--env-id", "HalfCheetah-v4", "--num-envs", "1", "--num-steps", "500",
                         "--minibatch-size", "100", "--update-epochs", "2", "--hidden-sizes", "16",
                         "--total-timesteps", "2000"],
    },
    "trpo_discrete": {
        "tiny": ["--env-id", "CartPole-v1", "--num-envs", "2", "--num-steps", "64", "--minibatch-size", "32",
                 "--update-epochs", "2", "--hidden-sizes", "16", "16", "--total-timesteps", "256"],
        "no_flags": TRPO_NO_FLAGS,
        "tags": TRPO_TAGS,
        "other_kind_env": ("Hopper-v4", "trpo_continuous.py"),
        "resume_exact": ["--env-id", "CartPole-v1", "--num-envs", "2", "--num-steps", "128", "--minibatch-size",
                         "64", "--update-epochs", "2", "--hidden-sizes", "16", "--total-timesteps", "1024"],
    },
}


# Per script (tests parametrized by name): a tiny run's argv, its command line, a trained checkpoint
def tiny(name, *extra):
    """The script's tiny configuration, then extra."""
    return SCRIPT_CONFIG[name]["tiny"] + list(extra)


@pytest.fixture
def cli(name, in_tmp, monkeypatch, capsys):
    """cli(*argv): the script's command line, in this process, in a temporary directory."""
    module = load(name)
    return lambda *argv: run_cli(module, list(argv), monkeypatch, capsys)


@pytest.fixture
def trained(name, in_tmp):
    """A finished tiny run with its checkpoint: runs/c/checkpoint.pt."""
    assert load(name).main(tiny(name, "--run-name", "c", "--save-model")) == 0
    return in_tmp / "runs" / "c" / "checkpoint.pt"
