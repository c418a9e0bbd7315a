"""--scale-actions (the continuous scripts): the policy acts in [-1, 1] per action dimension, mapped linearly
onto the env's bounds. Golden values by hand, the map checked against the env's own units, a training run and an
evaluation on a toy env with uneven bounds, and the checks around it."""

import gymnasium as gym
import numpy as np
import pytest

from conftest import CONTINUOUS_SCRIPTS, load
from test_newcomer import recording

pytestmark = pytest.mark.parametrize("name", CONTINUOUS_SCRIPTS)

LOW, HIGH = np.array([-0.4, 0.0, -2.0], np.float32), np.array([0.4, 1.0, 6.0], np.float32)


class BoundedEnv(gym.Env):
    """Three action dimensions bounded by LOW and HIGH (uneven: one centred, one [0, 1], one [-2, 6]); the
    actions the env received are kept in `received`. obs = [step in episode]."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float64)
    action_space = gym.spaces.Box(LOW, HIGH, dtype=np.float32)

    def __init__(self):
        self.t, self.received = 0, []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0]), {}

    def step(self, action):
        self.received.append(np.array(action))
        self.t += 1
        return np.array([float(self.t)]), float(self.t), False, False, {}


class UnboundedEnv(BoundedEnv):
    action_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)


gym.register("Bounded-v0", entry_point=BoundedEnv, max_episode_steps=5)
gym.register("Unbounded-v0", entry_point=UnboundedEnv, max_episode_steps=5)
TINY = ["--env-id", "Bounded-v0", "--num-envs", "2", "--num-steps", "16", "--minibatch-size", "16",
        "--update-epochs", "1", "--hidden-sizes", "8", "--total-timesteps", "64", "--no-cuda"]


def test_unscale_action_golden_values(name):
    module = load(name)
    u = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.5, -0.5, 0.25]], np.float32)
    # By hand: centres (0, 0.5, 2), half ranges (0.4, 0.5, 4).
    expected = np.array([[-0.4, 0.0, -2.0], [0.4, 1.0, 6.0], [0.0, 0.5, 2.0], [0.2, 0.25, 3.0]], np.float32)
    out = module.unscale_action(u, LOW, HIGH)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


def test_the_map_is_exactly_the_identity_on_bounds_of_minus_one_and_one(name):
    module = load(name)
    u = np.random.default_rng(0).normal(0, 2, (1000, 3)).astype(np.float32)
    u[:3] = [[-1.0, 1.0, 0.0], [-0.0, 1e-30, -1e-30], [3.0, -7.0, 0.1]]
    ones = np.ones(3, np.float32)
    out = module.unscale_action(u, -ones, ones)
    assert out.dtype == np.float32 and np.array_equal(out, u)  # bit for bit (0.0 for -0.0 compares equal)
    # Hopper's bounds are -1 and 1: no wrapper at all, so its runs are the same with and without the flag.
    for scale_actions in (True, False):
        env = module.make_envs("Hopper-v4", 1, scale_actions=scale_actions).unwrapped.envs[0]
        assert not any(isinstance(e, gym.wrappers.TransformAction) for e in wrapper_chain(env))
    # Bounded-v0's are not: there the flag adds the map.
    env = module.make_envs("Bounded-v0", 1, scale_actions=True).unwrapped.envs[0]
    assert any(isinstance(e, gym.wrappers.TransformAction) for e in wrapper_chain(env))


def wrapper_chain(env):
    """env and every env it wraps."""
    chain = [env]
    while hasattr(chain[-1], "env"):
        chain.append(chain[-1].env)
    return chain


def test_the_scaled_env_is_the_env_in_its_own_units(name):
    """Pendulum's torque is bounded by +-2: u in the scaled env is the torque 2 u in the plain one."""
    module = load(name)
    scaled, plain = module.make_envs("Pendulum-v1", 1, scale_actions=True), module.make_envs("Pendulum-v1", 1)
    assert scaled.single_action_space == gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    assert plain.single_action_space == gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
    obs_scaled, _ = scaled.reset(seed=3)
    obs_plain, _ = plain.reset(seed=3)
    for u in [0.5, -1.0, 0.25, 1.0, -0.3]:
        obs_scaled, r_scaled, *_ = scaled.step(np.array([[u]], np.float32))
        obs_plain, r_plain, *_ = plain.step(np.array([[2.0 * u]], np.float32))
        np.testing.assert_array_equal(obs_scaled, obs_plain)
        np.testing.assert_array_equal(r_scaled, r_plain)


def inner_envs(vector_env):
    """The BoundedEnv instances inside make_envs's result (or a wrapper of it)."""
    return [env.unwrapped for env in vector_env.unwrapped.envs]


def actions_sent(recorder):
    """The actions the agent sent (after the script's own clip to the declared bounds), one array per step."""
    return [action for _, action in recorder.pairs]


def by_hand(sent):
    """What the env must receive for actions sent in [-1, 1]: low + (high - low) * (u + 1) / 2."""
    return LOW + (HIGH - LOW) * (sent + 1.0) / 2.0


def test_training_acts_in_minus_one_to_one_and_the_env_receives_its_units(name, in_tmp, monkeypatch):
    module = load(name)
    recorders = recording(module, monkeypatch)
    # std 1 in units of the half range: about a third of the samples fall outside [-1, 1].
    argv = TINY + ["--scale-actions", "--log-std-init", "0", "--run-name", "s", "--save-model"]
    assert module.main(argv) == 0
    recorder = recorders[-1]  # the run's envs; the one before is check_args' start of train()
    sent = np.stack(actions_sent(recorder))  # [steps, envs, 3]
    received = np.stack([np.stack(env.received) for env in inner_envs(recorder)], axis=1)
    assert sent.shape == received.shape == (32, 2, 3)
    assert sent.min() == -1.0 and sent.max() == 1.0  # clipped in the scaled space: its bounds were reached
    np.testing.assert_allclose(received, by_hand(sent), rtol=0, atol=1e-6)
    assert np.all(received >= LOW) and np.all(received <= HIGH)
    # Without the flag the policy acts in the env's units: the [0, 1] dimension is clipped at 0 about half the
    # time (P(a < 0) = 0.5 for a mean near 0), with it a sixth (P(u < -1) = 0.16). 64 samples each.
    assert module.main(TINY + ["--no-scale-actions", "--log-std-init", "0", "--run-name", "u"]) == 0
    received_plain = np.stack([np.stack(env.received) for env in inner_envs(recorders[-1])], axis=1)
    assert np.mean(received_plain[..., 1] == 0.0) > 0.33 > np.mean(received[..., 1] == 0.0)


def test_evaluation_and_load_policy_act_in_the_envs_units(name, in_tmp, monkeypatch):
    module = load(name)
    assert module.main(TINY + ["--scale-actions", "--run-name", "s", "--save-model"]) == 0
    path = str(in_tmp / "runs" / "s" / "checkpoint.pt")
    recorders = recording(module, monkeypatch)
    assert module.main(["--eval-checkpoint", path, "--eval-episodes", "2", "--no-cuda"]) == 0
    recorder = recorders[-1]  # the evaluation's envs; the others are the checks' start of train()
    received = np.stack(inner_envs(recorder)[0].received)
    assert received.shape == (10, 3)  # 2 episodes of 5 steps
    assert np.all(received >= LOW) and np.all(received <= HIGH)
    # The policy for one's own code gives the env's units directly, the actions evaluation's env received: here
    # the barely trained mean is near u = 0, i.e. near the centres (0, 0.5, 2), which the unscaled mean (near 0
    # in every dimension) is not.
    policy = module.load_policy(path)
    actions = policy(np.concatenate([obs for obs, _ in recorder.pairs]))
    centre, half_range = (HIGH + LOW) / 2, (HIGH - LOW) / 2  # (0, 0.5, 2) and (0.4, 0.5, 4)
    assert np.all(np.abs(actions - centre) <= 0.25 * half_range)  # |u| <= 0.25; unscaled, u = -1, -0.5 there
    np.testing.assert_allclose(actions, received, rtol=0, atol=1e-6)


def test_the_defaults_scale_actions_in_ppo_only(name):
    """PPO's defaults act in [-1, 1] (its defaults screen, README); TRPO's defaults, from its own screen, do not."""
    assert load(name).Args().scale_actions is (name == "ppo_continuous")


def test_scale_actions_needs_finite_bounds(name):
    module = load(name)
    module.check_args(module.RunArgs(env_id="Unbounded-v0", scale_actions=False))  # fine without the flag
    with pytest.raises(module.UserError, match=r"--scale-actions needs finite action bounds; Unbounded-v0's are"):
        module.check_args(module.RunArgs(env_id="Unbounded-v0", scale_actions=True))
