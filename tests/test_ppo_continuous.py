"""Tests specific to ppo_continuous.py: the Gaussian policy, normalization, and the rollout on Gymnasium 1.x."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import load
from test_rollout import rollout_on

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


def test_env_gets_clipped_action_and_unclipped_action_is_stored_and_scored():
    envs, agent, rollout, _, _ = rollout_on(ppo, "Counter-v0", 7, log_std_init=2.0)  # sigma = 7.4: most leave [-1, 1]
    stored = rollout["actions"][:, 0, 0]
    received = torch.tensor(np.array(envs.unwrapped.envs[0].unwrapped.received)[:, 0], dtype=torch.float32)
    assert (stored.abs() > 1).any()
    torch.testing.assert_close(received, stored.clamp(-1, 1))
    # log-probs are those of the unclipped samples under the policy that drew them
    with torch.inference_mode():  # the rollout's tensors are inference tensors
        by_density = ppo.gaussian_log_prob(agent.actor_mean(rollout["obs"]), agent.actor_log_std, rollout["actions"])
    torch.testing.assert_close(rollout["log_probs"], by_density)


def small_gaussian_batch(n=64):
    """A 3-dim-obs, 2-dim-action agent (seeded) and a batch of n samples of its own actions, as a rollout gives."""
    torch.manual_seed(0)
    agent = ppo.Agent(3, 2, (8,), 0.0, norm_obs=False)
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, 3, generator=g)
    with torch.no_grad():
        actions = agent.act(obs)
        log_probs, _, values = agent.evaluate_actions(obs, actions)
    return agent, {"obs": obs, "actions": actions, "log_probs": log_probs, "advantages": torch.randn(n, generator=g),
                   "returns": torch.randn(n, generator=g), "values": values}


def test_target_kl_stops_the_epochs_early():
    def update(target_kl):
        agent, batch = small_gaussian_batch()
        args = replace(ppo.Args(), minibatch_size=16, update_epochs=5, target_kl=target_kl, learning_rate=1e-2)
        optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate)
        return ppo.ppo_update(agent, optimizer, batch, args, entropy_coef=0.0)

    stats, epochs = update(None)
    assert epochs == 5
    stats, epochs = update(1e-6)  # the first minibatch step already moves the policy further than this
    assert epochs == 1


def sgd_step(max_grad_norm):
    """One gradient step of plain SGD (lr 1) over the whole batch: (stats, parameter change, gradient)."""
    agent, batch = small_gaussian_batch(32)
    args = replace(ppo.Args(), minibatch_size=32, update_epochs=1, max_grad_norm=max_grad_norm)
    optimizer = torch.optim.SGD(agent.parameters(), lr=1.0)
    before = torch.cat([p.detach().reshape(-1) for p in agent.parameters()])
    stats, _ = ppo.ppo_update(agent, optimizer, batch, args, entropy_coef=0.0)
    gradient = torch.cat([p.grad.reshape(-1) for p in agent.parameters()])
    return stats, torch.cat([p.detach().reshape(-1) for p in agent.parameters()]) - before, gradient


def test_max_grad_norm_clips_the_global_norm_and_zero_turns_it_off():
    stats, change, gradient = sgd_step(0.0)  # no clipping: the step is the whole gradient
    norm = gradient.norm().item()
    assert stats["grad_norm"] == pytest.approx(norm, rel=1e-5)
    torch.testing.assert_close(change, -gradient)
    assert norm > 0.02
    stats, change, clipped = sgd_step(0.01)  # the same gradient, scaled to norm 0.01 (by hand: 0.01 / norm)
    assert stats["grad_norm"] == pytest.approx(norm, rel=1e-5)  # logged before clipping
    torch.testing.assert_close(clipped, gradient * 0.01 / norm, rtol=1e-4, atol=1e-7)
    assert change.norm().item() == pytest.approx(0.01, rel=1e-4)


def host_reads_of_an_update(monkeypatch, update_epochs, target_kl=None):
    """How many times ppo_update reads a tensor back to the host (.item(), .tolist(), float(), bool())."""
    reads = []
    for method in ("item", "tolist", "__float__", "__bool__"):
        original = getattr(torch.Tensor, method)
        monkeypatch.setattr(torch.Tensor, method,
                            lambda self, *a, original=original: reads.append(1) or original(self, *a))
    agent, batch = small_gaussian_batch()
    args = replace(ppo.Args(), minibatch_size=16, update_epochs=update_epochs, target_kl=target_kl)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-4, fused=True)  # as train()'s
    ppo.ppo_update(agent, optimizer, batch, args, entropy_coef=0.0)
    monkeypatch.undo()
    return len(reads)


def test_the_update_reads_the_device_once_per_iteration_not_per_step(monkeypatch):
    # 64 samples in minibatches of 16: 4 steps an epoch. A GPU waits for the host at each read.
    one_epoch, four_epochs = (host_reads_of_an_update(monkeypatch, epochs) for epochs in (1, 4))
    assert one_epoch == four_epochs <= 3
    # --target-kl decides after each step, on one read
    assert host_reads_of_an_update(monkeypatch, 4, target_kl=10.0) == four_epochs + 16


def test_a_non_finite_loss_ends_the_update_with_one_error():
    agent, batch = small_gaussian_batch()
    batch["advantages"][3] = float("nan")
    args = replace(ppo.Args(), minibatch_size=16, update_epochs=2, norm_adv=False)
    with pytest.raises(FloatingPointError, match="non-finite loss"):
        ppo.ppo_update(agent, torch.optim.Adam(agent.parameters()), batch, args, entropy_coef=0.0)


def test_norm_value_denormalizes_the_critic_and_fits_in_its_units():
    agent, batch = small_gaussian_batch()
    agent = ppo.Agent(3, 2, (8,), 0.0, norm_obs=False, norm_value=True)
    agent.value_rms.mean.fill_(5.0)
    agent.value_rms.var.fill_(4.0)  # std 2
    with torch.no_grad():
        f = agent.critic(batch["obs"]).squeeze(-1)
        torch.testing.assert_close(agent.value(batch["obs"]), f * 2.0 + 5.0)
    # the value loss is in the critic's units: 0.5 mean(((V - G) / std)^2) = 0.5 mean((f - (G - 5) / 2)^2)
    by_hand = 0.5 * (f - (batch["returns"] - 5.0) / 2.0).square().mean().item()
    args = replace(ppo.Args(), minibatch_size=64, update_epochs=1, value_clip=False)
    stats, _ = ppo.ppo_update(agent, torch.optim.SGD(agent.parameters(), lr=0.0), batch, args, 0.0)
    assert stats["value_loss"] == pytest.approx(by_hand, rel=1e-5)
    # the share of action means outside [-1, 1], after the update (lr 0: the same policy)
    with torch.no_grad():
        share = (agent.actor_mean(batch["obs"]).abs() > 1).float().mean().item()
    assert stats["mean_beyond_1"] == pytest.approx(share)
