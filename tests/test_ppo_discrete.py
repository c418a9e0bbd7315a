"""Tests specific to ppo_discrete.py: the categorical policy, and learning CartPole-v1."""

import math

import pytest
import torch

from conftest import load, steps_to_solve_cartpole

ppo = load("ppo_discrete")


def test_categorical_log_prob_and_entropy_by_hand():
    # logits [0, ln 2, ln 3] -> probabilities [1, 2, 3] / 6
    logits = torch.tensor([[0.0, math.log(2.0), math.log(3.0)]])
    for action, p in [(0, 1 / 6), (1, 2 / 6), (2, 3 / 6)]:
        assert ppo.categorical_log_prob(logits, torch.tensor([action])).item() == pytest.approx(math.log(p), abs=1e-6)
    entropy = -sum(p * math.log(p) for p in (1 / 6, 2 / 6, 3 / 6))  # 1.011404
    assert ppo.categorical_entropy(logits).item() == pytest.approx(entropy, abs=1e-6)
    # Uniform over n actions: H = ln n; a batch of states keeps its shape.
    assert ppo.categorical_entropy(torch.zeros(4, 5)).tolist() == pytest.approx([math.log(5)] * 4)


def test_categorical_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=g) * 3
    actions = torch.randint(0, 4, (6,), generator=g)
    reference = torch.distributions.Categorical(logits=logits)
    torch.testing.assert_close(ppo.categorical_log_prob(logits, actions), reference.log_prob(actions))
    torch.testing.assert_close(ppo.categorical_entropy(logits), reference.entropy())
    # Actions stored as floats (as some storage does) give the same result.
    torch.testing.assert_close(ppo.categorical_log_prob(logits, actions.float()), reference.log_prob(actions))


def test_sampling_follows_the_policy():
    torch.manual_seed(0)
    agent = ppo.Agent(3, 3, (), norm_obs=False)
    with torch.no_grad():
        agent.actor[0].weight.zero_()
        agent.actor[0].bias.copy_(torch.log(torch.tensor([0.2, 0.3, 0.5])))
        action = agent.act(torch.zeros(20000, 3))
        log_prob, _, _ = agent.evaluate_actions(torch.zeros(20000, 3), action)
    frequencies = torch.bincount(action, minlength=3).float() / 20000
    torch.testing.assert_close(frequencies, torch.tensor([0.2, 0.3, 0.5]), atol=0.015, rtol=0)
    torch.testing.assert_close(log_prob, torch.log(torch.tensor([0.2, 0.3, 0.5]))[action])


def test_default_flags_solve_cartpole_within_100k_steps():
    """Seed 1, default flags: the mean return of the last 20 episodes reaches 475 within 100k steps
    (benchmark/results/cartpole_ppo.md has 5 seeds); the run ends there."""
    solved_at = steps_to_solve_cartpole(ppo, seed=1)
    assert solved_at is not None and solved_at <= 100_000
