"""The rollout and the normalization statistics of every script on Gymnasium 1.x, driven with a toy
counting env (conftest.CounterEnv): no reset transition is stored, truncation bootstraps from the true
final observation, termination does not, one set of observation statistics serves all envs and the
final observations, and a stop request (Ctrl-C) ends a rollout after the env step in progress."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from conftest import ALL_SCRIPTS, CounterEnv, load

# ppo_discrete and trpo_discrete need Discrete actions: the discrete twins of conftest's Counter envs.
DISCRETE_TWIN = {"Counter-v0": "CounterDiscrete-v0", "CounterTerminating-v0": "CounterTerminatingDiscrete-v0"}
gym.register("CounterTerminatingDiscrete-v0", entry_point=CounterEnv, kwargs={"terminate_at": 2, "discrete": True},
             max_episode_steps=50)


@pytest.fixture(params=ALL_SCRIPTS)
def module(request):
    return load(request.param)


def discrete(module):
    return module.__name__ in ("ppo_discrete", "trpo_discrete")


def make_agent(module, log_std_init=0.0, norm_obs=False):
    """No hidden layers, and a linear critic V(obs) = 10 * steps + episodes, so stored values identify the
    observation."""
    if discrete(module):
        agent = module.Agent(2, 3, (), norm_obs=norm_obs)
    else:
        agent = module.Agent(2, 1, (), log_std_init, norm_obs=norm_obs)
    with torch.no_grad():
        agent.critic[0].weight.copy_(torch.tensor([[10.0, 1.0]]))
        agent.critic[0].bias.zero_()
    return agent


def rollout_on(module, env_id, num_steps, bootstrap_truncated=True, log_std_init=0.0, norm_obs=False, stop=None):
    """collect_rollout on 2 copies of env_id from their reset; returns (envs, agent, rollout, next_obs, episodes)."""
    if discrete(module):
        env_id = DISCRETE_TWIN[env_id]
    envs = module.make_envs(env_id, 2)
    agent = make_agent(module, log_std_init, norm_obs)
    obs, _ = envs.reset(seed=0)
    next_obs = agent.normalize(torch.tensor(obs, dtype=torch.float32), update=True)
    rollout, next_obs, episodes = module.collect_rollout(agent, envs, next_obs, num_steps, None, bootstrap_truncated,
                                                         stop)
    if stop is None:
        assert set(rollout) == {"obs", "actions", "log_probs", "values", "rewards", "next_values", "dones"}
        assert all(value.shape[:2] == (num_steps, 2) for value in rollout.values())
    return envs, agent, rollout, next_obs, episodes


def test_no_reset_transition_is_stored_and_truncation_bootstraps_from_final_obs(module):
    # Counter-v0 truncates after 3 steps. Under NEXT_STEP autoreset a reward-0 step from the final
    # observation (steps = 3) to the reset one would appear; here every stored transition is real.
    envs, agent, rollout, next_obs, episodes = rollout_on(module, "Counter-v0", 7)
    assert (rollout["rewards"] == 1.0).all()
    steps = rollout["obs"][:, :, 0]
    torch.testing.assert_close(steps, torch.tensor([[0.0, 1, 2, 0, 1, 2, 0]] * 2).T)  # never the final obs (3)
    expected_dones = torch.zeros(7, 2)
    expected_dones[[2, 5]] = 1.0
    torch.testing.assert_close(rollout["dones"], expected_dones)
    # At the truncation steps the bootstrap value is V(final obs) = V([3, episode]) = 30 + episode,
    # not V(reset obs) = V([0, episode + 1]) = episode + 1.
    torch.testing.assert_close(rollout["next_values"][2], torch.tensor([30.0, 30.0]))
    torch.testing.assert_close(rollout["next_values"][5], torch.tensor([31.0, 31.0]))
    # Elsewhere, V(s_{t+1}): the value stored for the next step, and V(next_obs) after the last step.
    for t in (0, 1, 3, 4):
        torch.testing.assert_close(rollout["next_values"][t], rollout["values"][t + 1])
    with torch.no_grad():
        torch.testing.assert_close(rollout["next_values"][6], agent.value(next_obs))
    assert [(step, ret, length) for step, ret, length in episodes] == [(2, 3.0, 3)] * 2 + [(5, 3.0, 3)] * 2


def test_without_bootstrapping_truncation_is_a_termination(module):
    _, _, rollout, _, _ = rollout_on(module, "Counter-v0", 7, bootstrap_truncated=False)
    # The truncation steps bootstrap from nothing: next_values 0 there, as after a termination.
    assert rollout["dones"].sum() == 4 and (rollout["next_values"][rollout["dones"].bool()] == 0).all()
    assert (rollout["next_values"][~rollout["dones"].bool()] != 0).all()


def test_termination_is_marked_and_has_no_bootstrap(module):
    _, _, rollout, _, _ = rollout_on(module, "CounterTerminating-v0", 6)  # terminates after 2 steps
    expected = torch.zeros(6, 2)
    expected[[1, 3, 5]] = 1.0
    torch.testing.assert_close(rollout["dones"], expected)
    torch.testing.assert_close(rollout["next_values"][[1, 3, 5]], torch.zeros(3, 2))  # no bootstrap
    torch.testing.assert_close(rollout["obs"][:, :, 0], torch.tensor([[0.0, 1, 0, 1, 0, 1]] * 2).T)


class StopAfter:
    """A stopping() (Run.stopping's contract) that says True from its n-th call on."""

    def __init__(self, n):
        self.n, self.reads = n, 0

    def __call__(self):
        self.reads += 1
        return self.reads >= self.n


def test_a_stop_request_ends_the_rollout_after_the_env_step_in_progress(module):
    # Called once after each env step: the 4th read stops it after 4 steps of each env (t = 0..3), with no rollout
    # (an incomplete one is not trained on), the observation to go on from, and the episodes that ended.
    stop = StopAfter(4)
    envs, _, rollout, next_obs, episodes = rollout_on(module, "Counter-v0", 7, stop=stop)
    assert rollout is None and stop.reads == 4
    assert [len(env.unwrapped.received) for env in envs.unwrapped.envs] == [4, 4]
    # Counter-v0 truncated each env after step 2; step 3 is the first of episode 1: obs [1 step, episode 1].
    torch.testing.assert_close(next_obs, torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
    assert episodes == [(2, 3.0, 3)] * 2


def test_observation_normalization_is_shared_and_applied_to_final_obs(module):
    _, agent, rollout, _, _ = rollout_on(module, "Counter-v0", 5, norm_obs=True)
    # One set of statistics over both envs: 2 reset observations + 5 steps x 2 envs.
    assert agent.obs_rms.count == pytest.approx(12, abs=1e-3)
    # At the truncation step (t = 2) the statistics hold, per env, [0,0] (reset), [1,0], [2,0] and the
    # next episode's [0,1]: mean [0.75, 0.25], var [1.25 - 0.5625, 0.25 - 0.0625] = [0.6875, 0.1875].
    # The final observation [3, 0] normalizes to [2.25 / sqrt(0.6875), -0.25 / sqrt(0.1875)], and the
    # linear critic gives 10 * 2.71360 - 0.57735 = 26.5587.
    expected = 10 * 2.25 / math.sqrt(0.6875) - 0.25 / math.sqrt(0.1875)
    torch.testing.assert_close(rollout["next_values"][2], torch.tensor([expected] * 2), atol=1e-3, rtol=0)
    assert (rollout["obs"].abs() <= 10).all()


def test_running_mean_std_matches_whole_data(module):
    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(n, 3, generator=g) * 4 + 2 for n in (1, 5, 17, 8)]
    rms = module.RunningMeanStd((3,))
    for batch in batches:
        rms.update(batch)
    everything = torch.cat(batches).double()
    # The prior (mean 0, var 1, count 1e-4) weighs 1e-4 / 31 of the result.
    torch.testing.assert_close(rms.mean.double(), everything.mean(0), atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(rms.var.double(), everything.var(0, unbiased=False), atol=1e-3, rtol=1e-4)
    assert rms.count == pytest.approx(31, abs=1e-3)


def test_running_mean_std_count_survives_the_state_dict(module):
    # count is a Python float kept through get/set_extra_state: a fresh module loaded from the state dict
    # must continue the statistics with the same weight w = n_b / (count + n_b), not restart from 1e-4.
    rms = module.RunningMeanStd((2,))
    rms.update(torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]]))
    restored = module.RunningMeanStd((2,))
    restored.load_state_dict(rms.state_dict())
    assert restored.count == pytest.approx(3.0001)
    rms.update(torch.tensor([[7.0, 0.0]]))
    restored.update(torch.tensor([[7.0, 0.0]]))
    # By hand, all four rows (the 1e-4 prior aside): mean [4, 4.5], population variance
    # [(9 + 1 + 1 + 9) / 4, (6.25 + 2.25 + 30.25 + 20.25) / 4] = [5, 14.75].
    torch.testing.assert_close(restored.mean, torch.tensor([4.0, 4.5]), atol=1e-3, rtol=0)
    torch.testing.assert_close(restored.var, torch.tensor([5.0, 14.75]), atol=1e-3, rtol=0)
    torch.testing.assert_close(restored.var, rms.var)


def test_reward_scaler_divides_by_std_of_discounted_return(module):
    gamma = 0.9
    rewards = [[1.0, -2.0], [0.5, 3.0], [2.0, 1.0], [-1.0, 0.0], [4.0, 2.0]]
    dones = [[0, 0], [1, 0], [0, 0], [0, 1], [0, 0]]
    scaler = module.RewardScaler(2, gamma, clip=1e9)
    # Naive: keep the discounted return of each env, restart it after a done, collect every value seen.
    running, seen = [0.0, 0.0], []
    for r, d in zip(rewards, dones):
        running = [gamma * x + y for x, y in zip(running, r)]
        seen.extend(running)
        scaled = scaler(torch.tensor(r), torch.tensor(d, dtype=torch.float32))
        running = [0.0 if done else x for x, done in zip(running, d)]
        expected = np.array(r) / math.sqrt(np.var(seen) + 1e-8)
        np.testing.assert_allclose(scaled.numpy(), expected, rtol=1e-3)
    clipped = module.RewardScaler(1, gamma, clip=10.0)(torch.tensor([1000.0]), torch.zeros(1))
    assert clipped.item() == 10.0  # first return: var ~ 2e-4 * 1e6 / ..., far past the clip
