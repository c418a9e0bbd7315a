"""Golden values for trpo_discrete.py: the categorical KL, the Fisher-vector product and conjugate gradient
against a dense Hessian built here with autograd, the line search on a two-action policy worked out by hand,
the update, and learning CartPole-v1. Expected values are derived beside each case, independently of the
script's own code."""

import math
from dataclasses import replace

import pytest
import torch

from conftest import load, steps_to_solve_cartpole

trpo = load("trpo_discrete")


def test_categorical_kl_by_hand():
    # p = softmax([0, 0]) = [1/2, 1/2], q = softmax([0, ln 3]) = [1/4, 3/4]:
    # KL(p || q) = 1/2 ln(2) + 1/2 ln(2/3) = 1/2 ln(4/3) = 0.143841
    kl = trpo.categorical_kl(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, math.log(3.0)]]))
    assert kl.shape == (1,) and kl.item() == pytest.approx(0.5 * math.log(4 / 3), abs=1e-6)
    # The other way round: KL(q || p) = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.130812; KL is not symmetric.
    kl = trpo.categorical_kl(torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([[0.0, 0.0]]))
    assert kl.item() == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), abs=1e-6)


def test_categorical_kl_matches_torch_distributions_and_is_zero_at_identical():
    g = torch.Generator().manual_seed(0)
    logits_p, logits_q = torch.randn(5, 4, generator=g) * 2, torch.randn(5, 4, generator=g) * 2
    reference = torch.distributions.kl_divergence(torch.distributions.Categorical(logits=logits_p),
                                                  torch.distributions.Categorical(logits=logits_q))
    torch.testing.assert_close(trpo.categorical_kl(logits_p, logits_q), reference)
    assert trpo.categorical_kl(logits_p, logits_p).abs().max().item() < 1e-6
    # Logits are defined up to a constant per state: shifting them changes no probability, so no KL.
    torch.testing.assert_close(trpo.categorical_kl(logits_p + 7.0, logits_q - 3.0), reference)


def test_policy_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    logits, actions = torch.randn(6, 3, generator=g) * 3, torch.randint(0, 3, (6,), generator=g)
    reference = torch.distributions.Categorical(logits=logits)
    torch.testing.assert_close(trpo.categorical_log_prob(logits, actions), reference.log_prob(actions))
    torch.testing.assert_close(trpo.categorical_entropy(logits), reference.entropy())


def tiny_policy(seed=0):
    """A 3-observation, 3-action policy with one hidden layer of 4 (31 parameters), in float64, and a
    batch of 6 states."""
    torch.manual_seed(seed)
    agent = trpo.Agent(3, 3, (4,), norm_obs=False).double()
    with torch.no_grad():  # larger output weights than the init's 0.01, so pi_old is not near uniform
        agent.actor[-1].weight.mul_(100.0)
    states = torch.randn(6, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return agent, states


def split(agent, theta):
    """The actor's parameters as views of a flat vector theta, by name (for torch.func.functional_call)."""
    tensors, offset = {}, 0
    for name, p in agent.actor.named_parameters():
        tensors[name] = theta[offset:offset + p.numel()].view(p.shape)
        offset += p.numel()
    return tensors


def dense_kl_hessian(agent, states):
    """The Hessian of theta -> mean_s KL(pi_old(.|s) || pi_theta(.|s)) at theta_old, by autograd over a flat
    parameter vector, with the KL of torch.distributions (not the script's categorical_kl)."""
    theta_old = torch.cat([p.detach().reshape(-1) for p in agent.actor.parameters()])
    old_logits = agent.actor(states).detach()

    def mean_kl_of(theta):
        logits = torch.func.functional_call(agent.actor, split(agent, theta), (states,))
        return torch.distributions.kl_divergence(torch.distributions.Categorical(logits=old_logits),
                                                 torch.distributions.Categorical(logits=logits)).mean()

    return torch.autograd.functional.hessian(mean_kl_of, theta_old), theta_old


def script_fvp(agent, states, damping):
    params = list(agent.actor.parameters())
    old_logits = agent.policy(states).detach()
    return trpo.fisher_vector_product(
        lambda: trpo.categorical_kl(old_logits, agent.policy(states)).mean(), params, damping)


def test_fisher_vector_product_matches_the_dense_hessian_of_the_mean_kl():
    agent, states = tiny_policy()
    hessian, theta_old = dense_kl_hessian(agent, states)
    n = len(theta_old)
    assert n == (3 * 4 + 4) + (4 * 3 + 3)
    # At theta_old the Hessian of the KL is the Fisher matrix of the softmax: mean_s J_s^T (diag p - p p^T) J_s,
    # J_s = d logits(s) / d theta (a second, independent derivation of the same matrix).
    old_logits = agent.actor(states).detach()
    jacobian = torch.autograd.functional.jacobian(
        lambda theta: torch.func.functional_call(agent.actor, split(agent, theta), (states,)), theta_old)
    p = torch.softmax(old_logits, -1)
    fisher = sum(jacobian[s].T @ (torch.diag(p[s]) - torch.outer(p[s], p[s])) @ jacobian[s]
                 for s in range(len(states))) / len(states)
    torch.testing.assert_close(hessian, fisher, atol=1e-10, rtol=1e-8)
    assert torch.linalg.eigvalsh(hessian).min() > -1e-10  # positive semi-definite
    g = torch.Generator().manual_seed(3)
    for damping in (0.0, 0.1):
        fvp = script_fvp(agent, states, damping)
        for v in [*torch.eye(n, dtype=torch.float64)[:5], *torch.randn(3, n, generator=g, dtype=torch.float64)]:
            torch.testing.assert_close(fvp(v), hessian @ v + damping * v, atol=1e-10, rtol=1e-8)


def test_conjugate_gradient_on_fisher_vector_products_matches_a_dense_solve():
    agent, states = tiny_policy(seed=1)
    hessian, _ = dense_kl_hessian(agent, states)
    n, damping = len(hessian), 0.1
    # g: the surrogate's gradient for random actions and advantages, as trpo_update computes it
    with torch.no_grad():
        actions = agent.act(states)
        old_log_probs = trpo.categorical_log_prob(agent.policy(states), actions)
    advantages = torch.randn(len(states), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    params = list(agent.actor.parameters())
    surrogate = trpo.surrogate(trpo.categorical_log_prob(agent.policy(states), actions), old_log_probs, advantages)
    g = torch.cat([grad.reshape(-1) for grad in torch.autograd.grad(surrogate, params)])
    exact = torch.linalg.solve(hessian + damping * torch.eye(n, dtype=torch.float64), g)
    x, residual = trpo.conjugate_gradient(script_fvp(agent, states, damping), g, iters=4 * n, residual_tol=1e-24)
    torch.testing.assert_close(x, exact, atol=1e-8, rtol=1e-6)
    assert residual.item() < 1e-9
    # The default 10 iterations: an approximation whose reported residual is the true |g - (F + lambda I) x|.
    x10, residual10 = trpo.conjugate_gradient(script_fvp(agent, states, damping), g, iters=10)
    true_residual = torch.linalg.norm(g - (hessian + damping * torch.eye(n, dtype=torch.float64)) @ x10)
    assert residual10.item() == pytest.approx(true_residual.item(), rel=1e-4, abs=1e-12)


def two_action_search(theta):
    """One state, pi_theta = softmax(theta), pi_old = softmax([0, 0]) = [1/2, 1/2], one sample: action 0 with
    advantage 1. Surrogate p_0 / (1/2); KL from the script's categorical_kl."""
    surrogate = (torch.softmax(theta, -1)[0] / 0.5).item()
    return surrogate, trpo.categorical_kl(torch.zeros(2), theta).item()


def test_line_search_backtracks_until_the_kl_bound_holds():
    # Steps t [1, -1]: p_0 = sigmoid(2t), KL = -1/2 ln(4 p_0 (1 - p_0)). Full step t = 1 and coefficient 1/2:
    # t = 1:     p_0 = 0.880797, KL = 0.433781 > 0.01
    # t = 1/2:   p_0 = 0.731059, KL = 0.120115 > 0.01
    # t = 1/4:   p_0 = 0.622459, KL = 0.030930 > 0.01
    # t = 1/8:   p_0 = 0.562177, KL = 0.007792 <= 0.01, surrogate 1.124353 > 1 (at theta_old): accepted, 3 backtracks
    theta_old, full_step = torch.zeros(2), torch.tensor([1.0, -1.0])
    theta, accepted, backtracks, value, kl = trpo.line_search(two_action_search, theta_old, 1.0, full_step, 0.01,
                                                              backtrack_coef=0.5, backtrack_iters=5)
    assert accepted and backtracks == 3
    torch.testing.assert_close(theta, torch.tensor([0.125, -0.125]))
    assert value == pytest.approx(2 / (1 + math.exp(-0.25)), abs=1e-6)
    assert kl == pytest.approx(-0.5 * math.log(4 * 0.5621765 * 0.4378235), abs=1e-6)


def test_line_search_rejects_a_step_that_breaks_the_kl_bound():
    # The same direction with only 3 tries (t = 1, 1/2, 1/4): every KL is above 0.01, though every surrogate
    # improves: the old parameters stay.
    theta_old = torch.zeros(2)
    theta, accepted, backtracks, value, kl = trpo.line_search(two_action_search, theta_old, 1.0,
                                                              torch.tensor([1.0, -1.0]), 0.01, 0.5, 3)
    assert not accepted and backtracks == 3 and torch.equal(theta, theta_old)
    assert value == 1.0 and kl == 0.0


def test_line_search_rejects_a_step_that_does_not_improve_the_surrogate():
    # The opposite direction, t [-1, 1]: p_0 = sigmoid(-2t) < 1/2, so the surrogate falls below 1 on every try,
    # whatever the KL allows (bound 10: every KL is within it).
    theta_old = torch.zeros(2)
    theta, accepted, backtracks, value, _ = trpo.line_search(two_action_search, theta_old, 1.0,
                                                             torch.tensor([-1.0, 1.0]), 10.0, 0.5, 5)
    assert not accepted and backtracks == 5 and torch.equal(theta, theta_old) and value == 1.0


def tiny_batch(agent, n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, 3, generator=g)
    with torch.no_grad():
        actions = agent.act(obs)
        log_probs, _, values = agent.evaluate_actions(obs, actions)
    return {"obs": obs, "actions": actions, "log_probs": log_probs, "advantages": torch.randn(n, generator=g),
            "returns": torch.randn(n, generator=g), "values": values}


def test_trpo_update_moves_only_the_actor_within_the_bound_and_improves_the_surrogate():
    torch.manual_seed(0)
    agent = trpo.Agent(3, 4, (8,), norm_obs=False)
    optimizer = torch.optim.Adam(agent.critic.parameters(), lr=0.0)  # the critic stays: the policy step alone
    args = replace(trpo.Args(), minibatch_size=16, update_epochs=1)
    batch = tiny_batch(agent)
    before = {name: p.detach().clone() for name, p in agent.named_parameters()}
    stats = trpo.trpo_update(agent, optimizer, batch, args)
    assert stats["step_accepted"] == 1.0 and 0 < stats["kl"] <= args.max_kl
    assert stats["surrogate_improvement"] > 0 and stats["step_norm"] > 0
    for name, p in agent.named_parameters():
        assert torch.equal(p, before[name]) == name.startswith("critic"), name
    with torch.no_grad():  # the logged KL is the script's, recomputed here with torch.distributions
        old = torch.distributions.Categorical(logits=torch.func.functional_call(
            agent.actor, {k.removeprefix("actor."): v for k, v in before.items() if k.startswith("actor.")},
            (batch["obs"],)))
        new = torch.distributions.Categorical(logits=agent.actor(batch["obs"]))
        assert torch.distributions.kl_divergence(old, new).mean().item() == pytest.approx(stats["kl"], rel=1e-4)
        assert new.entropy().mean().item() == pytest.approx(stats["entropy"], rel=1e-5)


def test_trpo_update_restores_parameters_when_the_line_search_rejects(monkeypatch):
    torch.manual_seed(0)
    agent = trpo.Agent(3, 4, (8,), norm_obs=False)
    optimizer = torch.optim.Adam(agent.critic.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in agent.actor.parameters()]
    tried, original = [], trpo.line_search

    def never_within_bound(f, theta_old, surrogate_old, full_step, max_kl, *args):
        def f_spy(theta):  # record that the tries really set other parameters
            tried.append(agent.actor[0].weight.detach().clone())
            return f(theta)
        return original(f_spy, theta_old, surrogate_old, full_step, 0.0, *args)  # KL <= 0 only at theta_old

    monkeypatch.setattr(trpo, "line_search", never_within_bound)
    stats = trpo.trpo_update(agent, optimizer, tiny_batch(agent), replace(trpo.Args(), minibatch_size=16))
    assert stats["step_accepted"] == 0.0 and stats["backtracks"] == 10 and stats["kl"] == 0.0
    assert any(not torch.equal(t, before[0]) for t in tried)
    for p, b in zip(agent.actor.parameters(), before):
        assert torch.equal(p, b)


def test_default_flags_solve_cartpole_within_100k_steps():
    """Seed 1, default flags: the mean return of the last 20 episodes reaches 475 within 100k steps
    (benchmark/results/cartpole_trpo.md has 5 seeds); the run ends there."""
    solved_at = steps_to_solve_cartpole(trpo, seed=1)
    assert solved_at is not None and solved_at <= 100_000
