"""Golden values for compute_gae, shared by the three scripts (same signature in each).

Expected values come from hand derivations written beside each case, or from naive_gae below: the
forward sum A_t = sum_{k >= t} (gamma lambda)^(k - t) delta_k up to the episode's end, a different
computation from the backward recursion the scripts use. next_values[t] is what step t bootstraps
from, 0 where collect_rollout cut the bootstrap (a termination): compute_gae takes it as given.
"""

import pytest
import torch

from conftest import ALL_SCRIPTS, load


def naive_gae(rewards, values, next_values, dones, gamma, lam):
    T, N = len(rewards), len(rewards[0])
    advantages = [[0.0] * N for _ in range(T)]
    for n in range(N):
        for t in range(T):
            total, weight = 0.0, 1.0
            for k in range(t, T):
                delta = rewards[k][n] + gamma * next_values[k][n] - values[k][n]
                total += weight * delta
                if dones[k][n]:
                    break
                weight *= gamma * lam
            advantages[t][n] = total
    return advantages


def run(module, rewards, values, next_values, dones, gamma, lam):
    t = lambda x: torch.tensor(x, dtype=torch.float32)  # noqa: E731
    advantages, returns = module.compute_gae(t(rewards), t(values), t(next_values), t(dones), gamma, lam)
    assert advantages.shape == returns.shape == t(rewards).shape
    torch.testing.assert_close(returns, advantages + t(values))
    return advantages


@pytest.fixture(params=ALL_SCRIPTS)
def module(request):
    return load(request.param)


def col(*xs):
    """A [T, 1] column: one env."""
    return [[x] for x in xs]


def test_one_env_no_episode_end_by_hand(module):
    # gamma = lambda = 0.5; delta_0 = 1 + 0.5*0 - 0 = 1, delta_1 = 1 + 0.5*2 - 0 = 2
    # A_1 = 2, A_0 = 1 + 0.25 * 2 = 1.5
    advantages = run(module, col(1, 1), col(0, 0), col(0, 2), col(0, 0), 0.5, 0.5)
    torch.testing.assert_close(advantages, torch.tensor(col(1.5, 2.0)))


def test_termination_mid_rollout_by_hand(module):
    # gamma = lambda = 1, V = 1 everywhere, episode terminates at t = 1: its next value is 0
    # delta = [1 + 1 - 1, 1 + 0 - 1, 1 + 1 - 1] = [1, 0, 1];  A_2 = 1, A_1 = 0 (cut), A_0 = 1 + 0 = 1
    advantages = run(module, col(1, 1, 1), col(1, 1, 1), col(1, 0, 1), col(0, 1, 0), 1.0, 1.0)
    torch.testing.assert_close(advantages, torch.tensor(col(1.0, 0.0, 1.0)))


def test_truncation_bootstraps_from_final_value_by_hand(module):
    # Same, but truncated at t = 1: done = 1, its next value V(final obs) = 5 is used
    # delta = [1, 1 + 5 - 1, 1] = [1, 5, 1];  A_2 = 1, A_1 = 5, A_0 = 1 + 5 = 6 (A_2 does not leak past the end)
    advantages = run(module, col(1, 1, 1), col(1, 1, 1), col(1, 5, 1), col(0, 1, 0), 1.0, 1.0)
    torch.testing.assert_close(advantages, torch.tensor(col(6.0, 5.0, 1.0)))


def test_several_envs_ending_at_different_steps(module):
    g = torch.Generator().manual_seed(0)
    T, N = 7, 4
    rewards, values, next_values = (torch.randn(T, N, generator=g).tolist() for _ in range(3))
    dones = [[0.0] * N for _ in range(T)]
    for t, n, terminated in [(1, 0, True), (4, 0, False), (3, 1, False), (0, 2, True), (5, 2, True), (6, 3, True)]:
        dones[t][n] = 1.0
        next_values[t][n] = 0.0 if terminated else next_values[t][n]
    expected = naive_gae(rewards, values, next_values, dones, 0.97, 0.9)
    advantages = run(module, rewards, values, next_values, dones, 0.97, 0.9)
    torch.testing.assert_close(advantages, torch.tensor(expected))
    # Each env is independent of the others: the env that never ends matches a one-env computation.
    single = run(module, [[r[1]] for r in rewards], [[v[1]] for v in values], [[v[1]] for v in next_values],
                 [[x[1]] for x in dones], 0.97, 0.9)
    torch.testing.assert_close(advantages[:, 1:2], single)


@pytest.mark.parametrize("gamma,lam", [(0.0, 0.95), (0.99, 0.0), (1.0, 1.0), (0.0, 0.0), (0.9, 1.0)])
def test_gamma_and_lambda_at_limits(module, gamma, lam):
    g = torch.Generator().manual_seed(1)
    rewards, values, next_values = (torch.randn(5, 3, generator=g) for _ in range(3))
    dones = torch.zeros(5, 3)
    dones[2, 1], next_values[2, 1] = 1.0, 0.0  # a termination
    dones[3, 2] = 1.0  # a truncation
    advantages = run(module, rewards.tolist(), values.tolist(), next_values.tolist(), dones.tolist(), gamma, lam)
    deltas = rewards + gamma * next_values - values
    if gamma == 0.0:  # A_t = r_t - V(s_t)
        torch.testing.assert_close(advantages, rewards - values)
    if lam == 0.0:  # one-step TD error
        torch.testing.assert_close(advantages, deltas)
    torch.testing.assert_close(advantages, torch.tensor(naive_gae(
        rewards.tolist(), values.tolist(), next_values.tolist(), dones.tolist(), gamma, lam)))


def test_lambda_one_is_discounted_return_minus_value(module):
    # gamma = lambda = 1, no episode end, next_values consistent with values: the deltas telescope,
    # A_t = sum_{k >= t} r_k + V(s_T) - V(s_t).
    rewards = [[1.0], [2.0], [3.0]]
    values = [[0.5], [1.0], [1.5]]
    next_values = [[1.0], [1.5], [4.0]]
    advantages = run(module, rewards, values, next_values, col(0, 0, 0), 1.0, 1.0)
    torch.testing.assert_close(advantages, torch.tensor(col(6 + 4 - 0.5, 5 + 4 - 1.0, 3 + 4 - 1.5)))
