"""A newcomer's first hour: a clean console, videos that render headless, W&B tracking (offline), and the
trained policy used from one's own code with load_policy."""

import glob
import importlib.util
import os
import re
import signal
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

from conftest import ALL_SCRIPTS, CPU_NOTICE, ROOT, SCRIPT_CONFIG, load, run_cli, run_script


def has(module_name):
    return importlib.util.find_spec(module_name) is not None


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_a_default_start_shows_only_the_scripts_own_lines(name, tmp_path):
    # Default flags; stopped with SIGINT after the first iteration line.
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, f"{name}.py")], cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    before_first_step = []
    for line in process.stdout:
        if line.startswith("step "):
            process.send_signal(signal.SIGINT)
            break
        before_first_step.append(line.rstrip("\n"))
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGINT
    assert before_first_step in ([], [CPU_NOTICE]), before_first_step
    # After the interrupt: perhaps another iteration line, then the script's own stop message and resume hint.
    others = [line for line in rest.splitlines() if line and not line.startswith("step ")]
    assert len(others) == 2, others
    assert others[0] == "SIGINT: stopping (again to exit at once)"
    resume = re.fullmatch(rf"stopped; resume with: python {re.escape(os.path.join(ROOT, name))}\.py "
                          rf"--resume runs/(\S+)/checkpoint\.pt", others[1])
    assert resume, others[1]
    assert os.path.isfile(tmp_path / "runs" / resume[1] / "checkpoint.pt")


@pytest.mark.parametrize("name,argv", [("ppo_discrete", ["--env-id", "HalfCheetah-v4"]),
                                       ("ppo_discrete", ["--env-id", "Humanoid-v4"]),
                                       ("ppo_continuous", ["--env-id", "CartPole-v1"]),
                                       ("trpo_continuous", ["--env-id", "CartPole-v1"])])
def test_an_error_shows_only_the_error_line(name, argv, tmp_path):
    # The env is built (and MuJoCo's and gymnasium's notices used to print) before the error.
    result = run_script(name, *argv, cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line != CPU_NOTICE]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_a_mujoco_that_cannot_load_is_one_line_and_other_envs_still_run(name, tmp_path):
    # A renderer that cannot load (MUJOCO_GL naming a GL library the machine lacks) makes `import mujoco` fail.
    env = {**os.environ, "MUJOCO_GL": "no-such-backend"}
    result = run_script(name, "--env-id", "Hopper-v4", cwd=tmp_path, env=env)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line != CPU_NOTICE]
    assert result.returncode == 2 and lines == ["error: cannot make Hopper-v4: invalid value for environment "
                                                "variable MUJOCO_GL: no-such-backend"], lines
    if name.endswith("discrete"):  # CartPole needs no MuJoCo
        result = run_script(name, *SCRIPT_CONFIG[name]["tiny"], cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------------------
# Videos
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,env_id,needs", [("ppo_discrete", "CartPole-v1", ["moviepy", "pygame"]),
                                               ("ppo_continuous", "Hopper-v4", ["moviepy"])])
def test_capture_video_writes_mp4_files(name, env_id, needs, tmp_path):
    missing = [m for m in needs if not has(m)]
    if missing:
        pytest.skip(f"cannot render {env_id} here: {', '.join(missing)} not installed "
                    f"(pip install -r requirements-extras.txt)")
    tiny = SCRIPT_CONFIG[name]["tiny"] + ["--env-id", env_id, "--capture-video", "--run-name", "video"]
    result = run_script(name, *tiny, cwd=tmp_path, timeout=300)
    if result.returncode == 2 and "rendering" in result.stderr:
        pytest.skip(f"cannot render {env_id} on this machine: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stdout + result.stderr and "pygame" not in result.stdout  # no library noise
    videos = glob.glob(str(tmp_path / "videos" / "video" / "*.mp4"))
    assert videos and all(os.path.getsize(v) > 1000 for v in videos), videos


# ------------------------------------------------------------------------------------------------
# Tracking with Weights & Biases, offline
# ------------------------------------------------------------------------------------------------
def wandb_records(path):
    """The records of an offline W&B run file (run-*.wandb): a LevelDB-style log of 32 KiB blocks, each
    record a 7-byte header (crc32, length, type: 1 full, 2 first, 3 middle, 4 last) and a protobuf
    Record, after a 7-byte file header. Read here to check what the run holds without a network."""
    from wandb.proto import wandb_internal_pb2
    data = open(path, "rb").read()
    assert data[:4] == b":W&B"
    position, payload = 7, b""
    while position + 7 <= len(data):
        left = 32768 - position % 32768
        length, kind = int.from_bytes(data[position + 4:position + 6], "little"), data[position + 6]
        if left < 7 or kind == 0:  # the rest of the block is padding
            position += left
            continue
        payload += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            yield record
            payload = b""


def test_track_sends_scalars_config_and_videos_to_an_offline_wandb_run(tmp_path):
    if not has("wandb"):
        pytest.skip("wandb not installed (pip install -r requirements-extras.txt)")
    video = has("moviepy") and has("pygame")
    tiny = SCRIPT_CONFIG["ppo_discrete"]["tiny"] + ["--track", "--run-name", "tracked"]
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}
    result = run_script("ppo_discrete", *tiny, *(["--capture-video"] if video else []), cwd=tmp_path,
                        timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    [path] = glob.glob(str(tmp_path / "wandb" / "offline-run-*" / "run-*.wandb"))
    history, config, names = {}, {}, []
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            for item in record.history.item:
                history.setdefault(item.key or "/".join(item.nested_key), []).append(item.value_json)
        elif kind == "run":
            names.append(record.run.display_name)
            config.update({item.key: item.value_json for item in record.run.config.update})
    assert names == ["tracked"]
    assert config["learning_rate"] == "0.0003" and config["env_id"] == '"CartPole-v1"'
    # every scalar of the TensorBoard run, one value per iteration (2 iterations here)
    for tag in ("losses/value_loss", "losses/kl", "charts/learning_rate", "charts/SPS"):
        assert len(history[tag]) == 2, (tag, history.get(tag))
    assert len(history["charts/episodic_return"]) >= 2
    if video:
        assert history.get("videos/path"), "no video was logged"


def test_track_without_wandb_is_one_clear_error(in_tmp, monkeypatch, capsys):
    module = load("ppo_continuous")
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb now raises ModuleNotFoundError
    status, lines = run_cli(module, SCRIPT_CONFIG["ppo_continuous"]["tiny"] + ["--track", "--run-name", "t"],
                            monkeypatch, capsys)
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "wandb" in lines[0] and lines[0].endswith(": pip install wandb")
    assert not (in_tmp / "runs" / "t").exists()  # stopped before anything was written


# ------------------------------------------------------------------------------------------------
# The trained policy in one's own code
# ------------------------------------------------------------------------------------------------
class ActionRecorder(gym.vector.VectorWrapper):
    """Records each (observation the agent saw, action the env received) of a vector env."""

    def __init__(self, env):
        super().__init__(env)
        self.pairs, self.last_obs = [], None

    def reset(self, **kwargs):
        self.last_obs, info = self.env.reset(**kwargs)
        return self.last_obs, info

    def step(self, actions):
        self.pairs.append((self.last_obs, np.array(actions)))
        self.last_obs, *rest = self.env.step(actions)
        return (self.last_obs, *rest)


def recording(module, monkeypatch):
    """module.make_envs wrapped in ActionRecorder; the recorders, one per vector env built."""
    recorders, original = [], module.make_envs

    def recorded(*args, **kwargs):
        recorders.append(ActionRecorder(original(*args, **kwargs)))
        return recorders[-1]

    monkeypatch.setattr(module, "make_envs", recorded)
    return recorders


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_load_policy_gives_the_actions_of_eval_checkpoint(name, in_tmp, monkeypatch):
    module = load(name)
    tiny = SCRIPT_CONFIG[name]["tiny"]
    assert module.main(tiny + ["--run-name", "p", "--save-model"]) == 0
    path = str(in_tmp / "runs" / "p" / "checkpoint.pt")
    recorders = recording(module, monkeypatch)
    assert module.main(["--eval-checkpoint", path, "--eval-episodes", "2"]) == 0
    recorder = recorders[-1]  # the evaluation's envs; the others are the checks' start of train()
    # On the device evaluation ran on (--cuda is on by default: the GPU where there is one)
    policy = module.load_policy(path, device="cuda" if torch.cuda.is_available() else "cpu")
    # Observation by observation, as evaluation calls it: the actions the env received, bit for bit (for the
    # continuous scripts the Gaussian mean, in the env's units and clipped to its bounds, by load_policy itself).
    actions = np.concatenate([policy(obs) for obs, _ in recorder.pairs])
    env_actions = np.concatenate([action for _, action in recorder.pairs])
    np.testing.assert_array_equal(actions, env_actions)
    # All at once, as a user's batch: the same up to float rounding.
    observations = np.concatenate([obs for obs, _ in recorder.pairs])
    np.testing.assert_allclose(policy(observations), actions, rtol=0, atol=1e-6)
    # The saved observation normalization is applied: the same checkpoint with its statistics reset to mean 0,
    # variance 1 (the raw observations, up to the clip at +-10) gives other actions.
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["agent"]["obs_rms.var"].ne(1).any()
    checkpoint["agent"]["obs_rms.mean"].zero_()
    checkpoint["agent"]["obs_rms.var"].fill_(1.0)
    torch.save(checkpoint, in_tmp / "raw.pt")
    raw = module.load_policy(str(in_tmp / "raw.pt"))(observations)
    assert not np.array_equal(raw, actions)


def test_the_readme_gives_each_scripts_length():
    counts = re.search(r"Each file reads top to bottom \((\d+), (\d+), (\d+) and (\d+) lines\)",
                       " ".join(open(os.path.join(ROOT, "README.md")).read().split()))
    lengths = [len(open(os.path.join(ROOT, f"{name}.py")).read().splitlines()) for name in ALL_SCRIPTS]
    assert counts is not None and [int(count) for count in counts.groups()] == lengths
