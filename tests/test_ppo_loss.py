"""Golden values for ppo_loss (the clipped objective, and with beta the KL-penalized one) and update_kl_beta,
shared by the two PPO scripts.

Every expected number is worked out by hand in the comment beside it.
"""

import math
import types

import pytest
import torch

from conftest import PPO_SCRIPTS, load


@pytest.fixture(params=PPO_SCRIPTS)
def module(request):
    """The script, with ppo_loss's info (scalar tensors, read once per iteration) as floats."""
    script = load(request.param)

    def ppo_loss(*args, **kwargs):
        loss, info = script.ppo_loss(*args, **kwargs)
        assert all(torch.is_tensor(value) and not value.requires_grad for value in info.values())
        return loss, {key: value.item() for key, value in info.items()}

    return types.SimpleNamespace(ppo_loss=ppo_loss, update_kl_beta=script.update_kl_beta)


def policy_only(module, ratios, advantages, clip_eps=0.2):
    """ppo_loss with only the policy term active; returns (loss, info, d loss / d log pi)."""
    new_log_probs = torch.tensor([math.log(r) for r in ratios], requires_grad=True)
    zeros = torch.zeros(len(ratios))
    loss, info = module.ppo_loss(new_log_probs, zeros, torch.tensor(advantages), zeros, zeros, zeros, zeros,
                                 clip_eps=clip_eps, value_coef=0.0, entropy_coef=0.0)
    loss.backward()
    return loss, info, new_log_probs.grad


def test_clipping_on_both_sides_for_both_signs_of_advantage(module):
    # eps = 0.2, so the ratio is clipped to [0.8, 1.2]; N = 5 samples, loss = -mean(min(rA, clip(r)A)).
    #  r    A    rA     clip(r)A   min    clipped?  d(-min/N)/d log pi = -r A / N if unclipped, else 0
    #  1.1  2    2.2    2.2        2.2    no        -2.2 / 5 = -0.44
    #  1.5  2    3.0    2.4        2.4    yes        0
    #  0.5  2    1.0    1.6        1.0    no        -1.0 / 5 = -0.2
    #  0.5 -2   -1.0   -1.6       -1.6    yes        0
    #  1.5 -2   -3.0   -2.4       -3.0    no        +3.0 / 5 = 0.6
    loss, info, grad = policy_only(module, [1.1, 1.5, 0.5, 0.5, 1.5], [2.0, 2.0, 2.0, -2.0, -2.0])
    expected_policy_loss = -(2.2 + 2.4 + 1.0 - 1.6 - 3.0) / 5  # = -0.2
    assert loss.item() == pytest.approx(expected_policy_loss, abs=1e-6)
    assert info["policy_loss"] == pytest.approx(expected_policy_loss, abs=1e-6)
    torch.testing.assert_close(grad, torch.tensor([-0.44, 0.0, -0.2, 0.0, 0.6]))
    assert info["clipfrac"] == pytest.approx(4 / 5)  # |r - 1| > 0.2 for all but r = 1.1


def test_ratio_one_gives_plain_policy_gradient(module):
    # r = 1 everywhere: loss = -mean(A) = -(1 - 3) / 2 = 1, gradient -A / N, nothing clipped, KL 0.
    loss, info, grad = policy_only(module, [1.0, 1.0], [1.0, -3.0])
    assert loss.item() == pytest.approx(1.0)
    torch.testing.assert_close(grad, torch.tensor([-0.5, 1.5]))
    assert info["clipfrac"] == 0.0 and info["minibatch_approx_kl"] == pytest.approx(0.0, abs=1e-7)


def test_value_loss_with_and_without_clipping(module):
    # eps = 0.2.  Sample 1: V = 3, V_old = 1, G = 2: (V - G)^2 = 1, V_clip = 1.2, (V_clip - G)^2 = 0.64, max 1
    #             Sample 2: V = 1.5, V_old = 1, G = 3: (V - G)^2 = 2.25, V_clip = 1.2, (1.2 - 3)^2 = 3.24, max 3.24
    # clipped: 0.5 * (1 + 3.24) / 2 = 1.06;  unclipped: 0.5 * (1 + 2.25) / 2 = 0.8125
    values = torch.tensor([3.0, 1.5], requires_grad=True)
    old_values, returns, zeros = torch.tensor([1.0, 1.0]), torch.tensor([2.0, 3.0]), torch.zeros(2)
    for clip, expected, expected_grad in [(True, 1.06, [0.5, 0.0]), (False, 0.8125, [0.5, -0.75])]:
        # gradient of 0.5 * mean(.) w.r.t. V: (V - G) / N where the unclipped term is the max, else 0
        # (with clipping, sample 2's max is the clipped term, which does not depend on V).
        values.grad = None
        loss, info = module.ppo_loss(zeros, zeros, zeros, values, old_values, returns, zeros,
                                     value_coef=1.0, entropy_coef=0.0, value_clip=clip)
        loss.backward()
        assert info["value_loss"] == pytest.approx(expected)
        assert loss.item() == pytest.approx(expected)
        torch.testing.assert_close(values.grad, torch.tensor(expected_grad))
    # value_coef scales it: c1 = 0.5 -> 0.53
    loss, _ = module.ppo_loss(zeros, zeros, zeros, values, old_values, returns, zeros, value_coef=0.5)
    assert loss.item() == pytest.approx(0.53)


def test_entropy_bonus(module):
    # entropy [1, 2], c2 = 0.1: loss = -0.1 * 1.5 = -0.15; everything else zero.
    zeros = torch.zeros(2)
    loss, info = module.ppo_loss(zeros, zeros, zeros, zeros, zeros, zeros, torch.tensor([1.0, 2.0]),
                                 value_coef=0.5, entropy_coef=0.1)
    assert loss.item() == pytest.approx(-0.15)
    assert info["entropy"] == pytest.approx(1.5)


def test_kl_estimators(module):
    # r = [2, 0.5]: -log r = [-ln 2, ln 2], mean 0; (r - 1) - log r = [1 - ln 2, -0.5 + ln 2], mean 0.25
    new_log_probs = torch.tensor([math.log(2.0), math.log(0.5)])
    zeros = torch.zeros(2)
    _, info = module.ppo_loss(new_log_probs, zeros, zeros, zeros, zeros, zeros, zeros)
    assert info["minibatch_old_approx_kl"] == pytest.approx(0.0, abs=1e-7)
    assert info["minibatch_approx_kl"] == pytest.approx(0.25, abs=1e-6)


def test_kl_penalized_objective(module):
    # r = 2, A = 1, beta = 0.5: KL_i = (2 - 1) - ln 2 = 0.306853; r A - beta KL_i = 2 - 0.153426 = 1.846574
    # loss = -1.846574; d loss / d log pi = -(r A - beta (r - 1)) = -(2 - 0.5) = -1.5
    new_log_probs = torch.tensor([math.log(2.0)], requires_grad=True)
    zeros = torch.zeros(1)
    loss, info = module.ppo_loss(new_log_probs, zeros, torch.ones(1), zeros, zeros, zeros, zeros,
                                 value_coef=0.0, beta=0.5)
    loss.backward()
    assert loss.item() == pytest.approx(-(2.0 - 0.5 * (1.0 - math.log(2.0))), abs=1e-6)
    assert new_log_probs.grad.item() == pytest.approx(-1.5, abs=1e-6)
    assert info["minibatch_approx_kl"] == pytest.approx(1.0 - math.log(2.0), abs=1e-6)
    # No clipping: at r = 2 the clipped objective would have zero gradient, the penalty objective does not.
    assert info["policy_loss"] == pytest.approx(loss.item())


def test_kl_penalty_changes_only_the_policy_term(module):
    g = torch.Generator().manual_seed(0)
    tensors = [torch.randn(8, generator=g) for _ in range(7)]
    loss_clip, info_clip = module.ppo_loss(*tensors, value_coef=0.7, entropy_coef=0.3, value_clip=True)
    loss_pen, info_pen = module.ppo_loss(*tensors, value_coef=0.7, entropy_coef=0.3, value_clip=True, beta=1.0)
    assert info_pen["value_loss"] == pytest.approx(info_clip["value_loss"])
    assert info_pen["entropy"] == pytest.approx(info_clip["entropy"])
    # The policy terms differ, and the losses differ by exactly that difference.
    assert info_pen["policy_loss"] != pytest.approx(info_clip["policy_loss"])
    assert (loss_pen - loss_clip).item() == pytest.approx(info_pen["policy_loss"] - info_clip["policy_loss"], abs=1e-6)


@pytest.mark.parametrize("kl,expected", [(0.001, 0.5), (0.0066, 0.5), (0.01, 1.0), (0.0067, 1.0),
                                         (0.0149, 1.0), (0.0151, 2.0), (0.1, 2.0)])
def test_update_kl_beta(module, kl, expected):
    # target 0.01: halve below 0.01 / 1.5 = 0.00667, double above 0.01 * 1.5 = 0.015
    assert module.update_kl_beta(1.0, kl, 0.01) == pytest.approx(expected)
