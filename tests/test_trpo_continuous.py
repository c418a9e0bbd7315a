"""Golden values for trpo_continuous.py's trust-region pieces: conjugate gradient, Fisher-vector products,
the Gaussian KL, the step size and the line search. Expected values are worked out by hand beside each
case, or come from an exact solve / closed form computed independently here."""

import math
from dataclasses import replace

import pytest
import torch

from conftest import load

trpo = load("trpo_continuous")


def matrix_fvp(matrix):
    return lambda v: matrix @ v


def test_conjugate_gradient_two_by_two_by_hand():
    # A = [[4, 1], [1, 3]], b = [1, 2]. Iteration 1: r0 = p0 = b, r.r = 5, A p0 = [6, 7], p.Ap = 20,
    # alpha = 1/4, x1 = [0.25, 0.5], r1 = b - alpha A p0 = [-0.5, 0.25], |r1| = sqrt(0.3125).
    A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 2.0], dtype=torch.float64)
    x1, residual1 = trpo.conjugate_gradient(matrix_fvp(A), b, iters=1)
    torch.testing.assert_close(x1, torch.tensor([0.25, 0.5], dtype=torch.float64))
    assert residual1.item() == pytest.approx(math.sqrt(0.3125))
    # Two iterations solve a 2x2 system exactly: A^-1 b = [[3, -1], [-1, 4]] / 11 @ [1, 2] = [1, 7] / 11.
    x2, residual2 = trpo.conjugate_gradient(matrix_fvp(A), b, iters=2)
    torch.testing.assert_close(x2, torch.tensor([1 / 11, 7 / 11], dtype=torch.float64))
    assert residual2.item() < 1e-12


@pytest.mark.parametrize("n", [3, 6, 10])
def test_conjugate_gradient_matches_exact_solve(n):
    g = torch.Generator().manual_seed(n)
    M = torch.randn(n, n, generator=g, dtype=torch.float64)
    A = M @ M.T + 0.5 * torch.eye(n, dtype=torch.float64)  # symmetric positive definite
    b = torch.randn(n, generator=g, dtype=torch.float64)
    x, residual = trpo.conjugate_gradient(matrix_fvp(A), b, iters=4 * n, residual_tol=1e-20)
    torch.testing.assert_close(x, torch.linalg.solve(A, b))
    assert residual.item() == pytest.approx(torch.linalg.norm(b - A @ x).item(), abs=1e-8)
    # Fewer iterations than dimensions: not solved yet, and the reported residual is the true one.
    x_short, residual_short = trpo.conjugate_gradient(matrix_fvp(A), b, iters=1)
    assert residual_short.item() == pytest.approx(torch.linalg.norm(b - A @ x_short).item(), rel=1e-6)
    assert residual_short.item() > 1e-3


def test_gaussian_kl_closed_form_and_zero_at_identical():
    # p = N(0, 1), q = N(1, 2^2): KL = ln 2 + (1 + 1) / (2 * 4) - 1/2 = 0.443147
    kl = trpo.gaussian_kl(torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([1.0]), torch.tensor([math.log(2.0)]))
    assert kl.item() == pytest.approx(math.log(2.0) + 0.25 - 0.5, abs=1e-6)
    g = torch.Generator().manual_seed(0)
    mu_p, mu_q = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    log_std_p, log_std_q = torch.randn(3, generator=g) * 0.5, torch.randn(3, generator=g) * 0.5
    reference = torch.distributions.kl_divergence(torch.distributions.Normal(mu_p, log_std_p.exp()),
                                                  torch.distributions.Normal(mu_q, log_std_q.exp())).sum(-1)
    torch.testing.assert_close(trpo.gaussian_kl(mu_p, log_std_p, mu_q, log_std_q), reference)
    assert trpo.gaussian_kl(mu_p, log_std_p, mu_p, log_std_p).abs().max().item() < 1e-6


def test_fisher_vector_product_of_tiny_gaussian_policy_matches_analytic_fisher():
    # Policy mu(s) = w . s + c (one action dim), state-independent log sigma. Parameters (w1, w2, c, log sigma).
    # Hessian of mean KL(pi_old || pi) at pi = pi_old: mean over states of J^T J / sigma^2 for the mean
    # parameters, J = d mu / d(w, c) = (s1, s2, 1); 2 for log sigma (d^2/dl^2 of KL in l = log sigma);
    # no cross terms.
    torch.manual_seed(0)
    agent = trpo.Agent(2, 1, (), log_std_init=math.log(0.5), norm_obs=False)
    states = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.0, -3.0]])
    params = [*agent.actor_mean.parameters(), agent.actor_log_std]
    with torch.no_grad():
        old_mean, old_log_std = agent.actor_mean(states), agent.actor_log_std.clone()

    def mean_kl():
        return trpo.gaussian_kl(old_mean, old_log_std, agent.actor_mean(states), agent.actor_log_std).mean()

    J = torch.cat([states, torch.ones(3, 1)], dim=1)  # rows (s1, s2, 1)
    fisher = torch.zeros(4, 4)
    fisher[:3, :3] = J.T @ J / 3 / 0.25
    fisher[3, 3] = 2.0
    for damping in (0.0, 0.1):
        fvp = trpo.fisher_vector_product(mean_kl, params, damping)
        for v in torch.eye(4):
            torch.testing.assert_close(fvp(v), fisher @ v + damping * v, atol=1e-5, rtol=1e-5)


def test_step_size_reaches_the_kl_bound_of_the_quadratic_model():
    # x = [1, 2], F = diag(4, 1): x^T F x = 4 + 4 = 8; delta = 0.01: beta = sqrt(0.02 / 8) = 0.05
    x, F = torch.tensor([1.0, 2.0]), torch.diag(torch.tensor([4.0, 1.0]))
    beta = trpo.max_step_size(x, F @ x, 0.01)
    assert beta.item() == pytest.approx(0.05)
    step = beta * x
    assert (0.5 * step @ F @ step).item() == pytest.approx(0.01)  # the model's KL of the full step is delta


def toy(theta):
    """Surrogate -(theta - 1)^2 (best at 1), KL theta^2 / 2 from theta_old = 0."""
    t = theta.item()
    return -(t - 1.0) ** 2, t * t / 2


def test_line_search_accepts_the_full_step():
    # full step 1.5: surrogate -0.25 > -1 (at 0), KL 1.125 <= 10: accepted at once
    theta, accepted, backtracks, value, kl = trpo.line_search(toy, torch.tensor([0.0]), -1.0, torch.tensor([1.5]), 10.0)
    assert accepted and backtracks == 0 and theta.item() == pytest.approx(1.5)
    assert value == pytest.approx(-0.25) and kl == pytest.approx(1.125)


def test_line_search_backtracks_until_the_kl_fits():
    # full step 2, max KL 0.5, coef 0.8: steps 2, 1.6, 1.28, 1.024, 0.8192 have KL 2, 1.28, 0.82, 0.52, 0.336;
    # the fifth (4 backtracks) is the first within 0.5, and its surrogate -(0.1808)^2 > -1.
    theta, accepted, backtracks, value, kl = trpo.line_search(toy, torch.tensor([0.0]), -1.0, torch.tensor([2.0]), 0.5,
                                                              backtrack_coef=0.8, backtrack_iters=10)
    assert accepted and backtracks == 4
    assert theta.item() == pytest.approx(0.8 ** 4 * 2)
    assert value == pytest.approx(-(1 - 0.8192) ** 2) and kl == pytest.approx(0.8192 ** 2 / 2)


def test_line_search_rejects_and_returns_the_old_parameters():
    # A step away from the optimum never improves the surrogate: every try is rejected.
    theta_old = torch.tensor([0.0])
    theta, accepted, backtracks, value, kl = trpo.line_search(toy, theta_old, -1.0, torch.tensor([-1.0]), 10.0,
                                                              backtrack_iters=5)
    assert not accepted and backtracks == 5 and torch.equal(theta, theta_old) and value == pytest.approx(-1.0)
    # An improving direction whose every try breaks the KL bound is rejected too.
    theta, accepted, _, _, _ = trpo.line_search(toy, theta_old, -1.0, torch.tensor([100.0]), 1e-3,
                                                backtrack_iters=3)
    assert not accepted and torch.equal(theta, theta_old)


def tiny_batch(agent, n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, 3, generator=g)
    with torch.no_grad():
        actions = agent.act(obs)
        log_probs, _, values = agent.evaluate_actions(obs, actions)
    return {"obs": obs, "actions": actions, "log_probs": log_probs, "advantages": torch.randn(n, generator=g),
            "returns": torch.randn(n, generator=g), "values": values}


def test_trpo_update_keeps_kl_within_bound_and_improves_surrogate():
    torch.manual_seed(0)
    agent = trpo.Agent(3, 2, (8,), 0.0, norm_obs=False)
    optimizer = torch.optim.Adam(agent.critic.parameters(), lr=1e-3)
    args = replace(trpo.Args(), minibatch_size=16, update_epochs=1)
    stats = trpo.trpo_update(agent, optimizer, tiny_batch(agent), args)
    assert stats["step_accepted"] == 1.0
    assert 0 < stats["kl"] <= args.max_kl
    assert stats["surrogate_improvement"] > 0 and stats["step_norm"] > 0


def test_trpo_update_restores_parameters_when_the_line_search_rejects(monkeypatch):
    torch.manual_seed(0)
    agent = trpo.Agent(3, 2, (8,), 0.0, norm_obs=False)
    optimizer = torch.optim.Adam(agent.critic.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in [*agent.actor_mean.parameters(), agent.actor_log_std]]
    tried = []
    original = trpo.line_search

    def never_within_bound(f, theta_old, surrogate_old, full_step, max_kl, *args):
        def f_spy(theta):  # record that the tries really set other parameters
            tried.append(agent.actor_log_std.detach().clone())
            return f(theta)
        return original(f_spy, theta_old, surrogate_old, full_step, 0.0, *args)  # KL <= 0 only at theta_old

    monkeypatch.setattr(trpo, "line_search", never_within_bound)
    stats = trpo.trpo_update(agent, optimizer, tiny_batch(agent), replace(trpo.Args(), minibatch_size=16))
    assert stats["step_accepted"] == 0.0 and stats["backtracks"] == 10
    assert any(not torch.equal(t, before[-1]) for t in tried)
    for p, b in zip([*agent.actor_mean.parameters(), agent.actor_log_std], before):
        assert torch.equal(p, b)


def test_kl_per_action_dim_bounds_the_mean_over_action_dimensions_as_sb3_contrib_does():
    # The KL summed over the 2 action dimensions is twice its mean over them: with the flag the
    # bound and the logged KL are the mean's, so the summed KL may reach 2 max_kl.
    def step(per_dim):
        torch.manual_seed(0)
        agent = trpo.Agent(3, 2, (8,), 0.0, norm_obs=False)
        batch = tiny_batch(agent)
        with torch.no_grad():
            old = [tensor.clone() for tensor in agent.policy(batch["obs"])]  # log-std: the parameter
        args = replace(trpo.Args(), minibatch_size=16, update_epochs=1, max_kl=0.01,
                       kl_per_action_dim=per_dim)
        stats = trpo.trpo_update(agent, torch.optim.Adam(agent.critic.parameters()), batch, args)
        with torch.no_grad():
            summed = trpo.gaussian_kl(*old, *agent.policy(batch["obs"])).mean().item()
        return stats, summed

    stats, summed = step(False)
    assert stats["kl"] == pytest.approx(summed, rel=1e-5) and summed <= 0.01
    stats, summed = step(True)
    assert stats["kl"] == pytest.approx(summed / 2, rel=1e-5) and stats["kl"] <= 0.01 < summed


def test_norm_value_denormalizes_the_critic_and_fits_in_its_units():
    torch.manual_seed(0)
    agent = trpo.Agent(3, 2, (8,), 0.0, norm_obs=False, norm_value=True)
    agent.value_rms.mean.fill_(5.0)
    agent.value_rms.var.fill_(4.0)  # std 2
    batch = tiny_batch(agent)
    with torch.no_grad():
        f = agent.critic(batch["obs"]).squeeze(-1)
        torch.testing.assert_close(agent.value(batch["obs"]), f * 2.0 + 5.0)
    # the critic's loss is in its units: 0.5 mean(((V - G) / std)^2) = 0.5 mean((f - (G - 5) / 2)^2)
    by_hand = 0.5 * (f - (batch["returns"] - 5.0) / 2.0).square().mean().item()
    args = replace(trpo.Args(), minibatch_size=64, update_epochs=1)
    stats = trpo.trpo_update(agent, torch.optim.SGD(agent.critic.parameters(), lr=0.0), batch, args)
    assert stats["value_loss"] == pytest.approx(by_hand, rel=1e-5)
