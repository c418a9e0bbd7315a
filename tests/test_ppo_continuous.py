"""Tests specific to ppo_continuous.py: the Gaussian policy, normalization, and the rollout on Gymnasium 1.x."""

import math

import numpy as np
import pytest
import torch

from conftest import load

ppo = load("ppo_continuous")


def test_gaussian_log_prob_and_entropy_match_closed_form():
    # One action dimension by hand: mu = 1, sigma = 2, a = 2: log N = -(1/2)^2/2 - ln 2 - ln(2 pi)/2
    by_hand = -0.125 - math.log(2.0) - 0.5 * math.log(2 * math.pi)
    got = ppo.gaussian_log_prob(torch.tensor([1.0]), torch.tensor([math.log(2.0)]), torch.tensor([2.0]))
    assert got.item() == pytest.approx(by_hand, abs=1e-6)
    # Several dimensions: the sum over dimensions of torch.distributions.Normal's log-density.
    g = torch.Generator().manual_seed(0)
    mean, log_std, action = torch.randn(5, 3, generator=g), torch.randn(3, generator=g), torch.randn(5, 3, generator=g)
    reference = torch.distributions.Normal(mean, log_std.exp())
    torch.testing.assert_close(ppo.gaussian_log_prob(mean, log_std, action), reference.log_prob(action).sum(-1))
    torch.testing.assert_close(ppo.gaussian_entropy(log_std), reference.entropy()[0].sum())


def test_running_mean_std_matches_whole_data():
    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(n, 3, generator=g) * 4 + 2 for n in (1, 5, 17, 8)]
    rms = ppo.RunningMeanStd((3,))
    for batch in batches:
        rms.update(batch)
    everything = torch.cat(batches).double()
    # The prior (mean 0, var 1, count 1e-4) weighs 1e-4 / 31 of the result.
    torch.testing.assert_close(rms.mean.double(), everything.mean(0), atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(rms.var.double(), everything.var(0, unbiased=False), atol=1e-3, rtol=1e-4)
    assert rms.count.item() == pytest.approx(31, abs=1e-3)


def test_reward_scaler_divides_by_std_of_discounted_return():
    gamma = 0.9
    rewards = [[1.0, -2.0], [0.5, 3.0], [2.0, 1.0], [-1.0, 0.0], [4.0, 2.0]]
    dones = [[0, 0], [1, 0], [0, 0], [0, 1], [0, 0]]
    scaler = ppo.RewardScaler(2, gamma, clip=1e9)
    # Naive: keep the discounted return of each env, restart it after a done, collect every value seen.
    running, seen = [0.0, 0.0], []
    for r, d in zip(rewards, dones):
        running = [gamma * x + y for x, y in zip(running, r)]
        seen.extend(running)
        scaled = scaler(torch.tensor(r), torch.tensor(d, dtype=torch.float32))
        running = [0.0 if done else x for x, done in zip(running, d)]
        expected = np.array(r) / math.sqrt(np.var(seen) + 1e-8)
        np.testing.assert_allclose(scaled.numpy(), expected, rtol=1e-3)
    clipped = ppo.RewardScaler(1, gamma, clip=10.0)(torch.tensor([1000.0]), torch.zeros(1))
    assert clipped.item() == 10.0  # first return: var ~ 2e-4 * 1e6 / ..., far past the clip


def make_agent(envs, log_std_init=0.0):
    """A linear critic with V(obs) = 10 * steps + episodes, so stored values identify the observation."""
    agent = ppo.Agent(2, 1, (), log_std_init, norm_obs=False)
    with torch.no_grad():
        agent.critic[0].weight.copy_(torch.tensor([[10.0, 1.0]]))
        agent.critic[0].bias.zero_()
    return agent


def rollout_on(env_id, num_steps, bootstrap_truncated=True, log_std_init=0.0):
    envs = ppo.make_vector_env(env_id, 2)
    agent = make_agent(envs, log_std_init)
    rollout = ppo.Rollout(num_steps, 2, (2,), (1,), torch.device("cpu"))
    obs, _ = envs.reset(seed=0)
    next_obs, episodes, complete, _ = ppo.collect_rollout(agent, envs, rollout, torch.tensor(obs, dtype=torch.float32),
                                                          None, bootstrap_truncated)
    assert complete
    return envs, agent, rollout, next_obs, episodes


def test_no_reset_transition_is_stored_and_truncation_bootstraps_from_final_obs():
    # Counter-v0 truncates after 3 steps. Under NEXT_STEP autoreset a reward-0 step from the final
    # observation (steps = 3) to the reset one would appear; here every stored transition is real.
    envs, agent, rollout, next_obs, episodes = rollout_on("Counter-v0", 7)
    assert (rollout.rewards == 1.0).all()
    steps = rollout.obs[:, :, 0]
    torch.testing.assert_close(steps, torch.tensor([[0.0, 1, 2, 0, 1, 2, 0]] * 2).T)  # never the final obs (3)
    expected_dones = torch.zeros(7, 2)
    expected_dones[[2, 5]] = 1.0
    torch.testing.assert_close(rollout.dones, expected_dones)
    assert (rollout.terminations == 0).all()  # time limits are not terminations
    # At the truncation steps the bootstrap value is V(final obs) = V([3, episode]) = 30 + episode,
    # not V(reset obs) = V([0, episode + 1]) = episode + 1.
    torch.testing.assert_close(rollout.next_values[2], torch.tensor([30.0, 30.0]))
    torch.testing.assert_close(rollout.next_values[5], torch.tensor([31.0, 31.0]))
    # Elsewhere, V(s_{t+1}): the value stored for the next step, and V(next_obs) after the last step.
    for t in (0, 1, 3, 4):
        torch.testing.assert_close(rollout.next_values[t], rollout.values[t + 1])
    with torch.no_grad():
        torch.testing.assert_close(rollout.next_values[6], agent.value(next_obs))
    assert [(step, ret, length) for step, ret, length in episodes] == [(2, 3.0, 3)] * 2 + [(5, 3.0, 3)] * 2


def test_without_bootstrapping_truncation_is_a_termination():
    _, _, rollout, _, _ = rollout_on("Counter-v0", 7, bootstrap_truncated=False)
    torch.testing.assert_close(rollout.terminations, rollout.dones)
    assert rollout.dones.sum() == 4


def test_termination_is_marked_and_has_no_bootstrap():
    _, _, rollout, _, _ = rollout_on("CounterTerminating-v0", 6)  # terminates after 2 steps
    expected = torch.zeros(6, 2)
    expected[[1, 3, 5]] = 1.0
    torch.testing.assert_close(rollout.terminations, expected)
    torch.testing.assert_close(rollout.dones, expected)
    torch.testing.assert_close(rollout.obs[:, :, 0], torch.tensor([[0.0, 1, 0, 1, 0, 1]] * 2).T)


def test_env_gets_clipped_action_and_unclipped_action_is_stored_and_scored():
    envs, agent, rollout, _, _ = rollout_on("Counter-v0", 7, log_std_init=2.0)  # sigma = 7.4: most samples leave [-1, 1]
    stored = rollout.actions[:, 0, 0]
    received = torch.tensor(np.array(envs.unwrapped.envs[0].unwrapped.received)[:, 0], dtype=torch.float32)
    assert (stored.abs() > 1).any()
    torch.testing.assert_close(received, stored.clamp(-1, 1))
    # log-probs are those of the unclipped samples under the policy that drew them
    mean = agent.actor_mean(rollout.obs)
    torch.testing.assert_close(rollout.log_probs, ppo.gaussian_log_prob(mean, agent.actor_log_std, rollout.actions))


def test_observation_normalization_is_shared_and_applied_to_final_obs():
    envs = ppo.make_vector_env("Counter-v0", 2)
    agent = make_agent(envs)
    agent.norm_obs = True
    rollout = ppo.Rollout(5, 2, (2,), (1,), torch.device("cpu"))
    obs, _ = envs.reset(seed=0)
    next_obs = agent.normalize(torch.tensor(obs, dtype=torch.float32), update=True)
    ppo.collect_rollout(agent, envs, rollout, next_obs, None, True)
    # One set of statistics over both envs: 2 reset observations + 5 steps x 2 envs.
    assert agent.obs_rms.count.item() == pytest.approx(12, abs=1e-3)
    # At the truncation step (t = 2) the statistics hold, per env, [0,0] (reset), [1,0], [2,0] and the
    # next episode's [0,1]: mean [0.75, 0.25], var [1.25 - 0.5625, 0.25 - 0.0625] = [0.6875, 0.1875].
    # The final observation [3, 0] normalizes to [2.25 / sqrt(0.6875), -0.25 / sqrt(0.1875)], and the
    # linear critic gives 10 * 2.71360 - 0.57735 = 26.5587.
    expected = 10 * 2.25 / math.sqrt(0.6875) - 0.25 / math.sqrt(0.1875)
    torch.testing.assert_close(rollout.next_values[2], torch.tensor([expected] * 2), atol=1e-3, rtol=0)
    assert (rollout.obs.abs() <= 10).all()
