"""What the PPO scripts adapt after each update, and to which KL: the learning-rate schedules (linear,
constant, adaptive) and the KL penalty's beta, both driven by d = KL(pi_old || pi_new) of the whole
batch measured after the update."""

import math
from dataclasses import replace

import pytest
import torch

from conftest import PPO_SCRIPTS, SCRIPT_CONFIG, load, scalars
from test_ppo_continuous import small_gaussian_batch


@pytest.fixture(params=PPO_SCRIPTS)
def module(request):
    return load(request.param)


@pytest.mark.parametrize("kl,expected", [(0.0201, 2e-4), (0.02, 3e-4), (0.01, 3e-4), (0.005, 3e-4),
                                         (0.0049, 4.5e-4), (0.0, 4.5e-4)])
def test_adapt_learning_rate(module, kl, expected):
    # target 0.01: divide by 1.5 above 2 x 0.01 = 0.02, multiply by 1.5 below 0.01 / 2 = 0.005
    assert module.adapt_learning_rate(3e-4, kl, 0.01) == pytest.approx(expected, rel=1e-12)


def test_adapt_learning_rate_stays_within_its_bounds(module):
    assert module.adapt_learning_rate(0.009, 0.0, 0.01) == 0.01  # 0.0135 capped at lr_max = 1e-2
    assert module.adapt_learning_rate(1.2e-6, 1.0, 0.01) == 1e-6  # 8e-7 raised to lr_min = 1e-6


def one_step_update(ppo, learning_rate=1e-2):
    """One epoch of one minibatch (the whole batch): a single gradient step on a small Gaussian policy.
    Returns the stats, the batch, and log pi_new(a|s) of each sample after the step."""
    agent, batch = small_gaussian_batch(32)
    args = replace(ppo.Args(), minibatch_size=32, update_epochs=1, learning_rate=learning_rate)
    optimizer = torch.optim.Adam(agent.parameters(), lr=learning_rate)
    stats, _ = ppo.ppo_update(agent, optimizer, batch, args, entropy_coef=0.0)
    with torch.no_grad():
        new_log_probs, _, _ = agent.evaluate_actions(batch["obs"], batch["actions"])
    return stats, batch, new_log_probs


def test_kl_is_measured_on_the_whole_batch_after_the_update():
    ppo = load("ppo_continuous")
    stats, batch, new_log_probs = one_step_update(ppo)
    # Before its step the only minibatch sees pi = pi_old: its estimate is 0 (what the old rule was fed).
    assert stats["minibatch_approx_kl"] == pytest.approx(0.0, abs=1e-7)
    # d after the step, by a naive loop over the samples: mean of (r - 1) - log r, r = pi_new / pi_old.
    terms = []
    for new, old in zip(new_log_probs.tolist(), batch["log_probs"].tolist()):
        r = math.exp(new - old)
        terms.append(r - 1.0 - math.log(r))
    by_hand = sum(terms) / len(terms)
    assert by_hand > 1e-6
    assert stats["kl"] == pytest.approx(by_hand, rel=1e-4)
    # That KL, above 1.5 x the target, doubles beta; fed the pre-step estimate (0), the rule would halve it.
    target = by_hand / 2
    assert ppo.update_kl_beta(1.0, stats["kl"], target) == 2.0
    assert ppo.update_kl_beta(1.0, stats["minibatch_approx_kl"], target) == 0.5


def logged(run_dir, tag):
    return [value for _, value in sorted(scalars(run_dir)[tag])]


def test_training_loop_adapts_beta_and_learning_rate_to_the_kl_after_each_update(module, in_tmp):
    # One gradient step per iteration: every pre-step estimate is 0, every post-update KL is positive.
    tiny = SCRIPT_CONFIG[module.__name__]["tiny"]
    argv = tiny + ["--minibatch-size", "128", "--update-epochs", "1", "--total-timesteps", "512",
                   "--objective", "kl-penalty", "--kl-penalty-target", "1e-9",
                   "--lr-schedule", "adaptive", "--adaptive-lr-target-kl", "1e3", "--run-name", "adapt"]
    assert module.main(argv) == 0
    run_dir = in_tmp / "runs" / "adapt"
    kl, beta, lr = logged(run_dir, "losses/kl"), logged(run_dir, "losses/kl_penalty_beta"), \
        logged(run_dir, "charts/learning_rate")
    assert len(kl) == len(beta) == len(lr) == 4
    # Every post-update KL is far above 1.5 x 1e-9 and far below half of 1e3, so by the rules (worked by
    # hand): beta doubles after every update, from 1; the learning rate grows by 1.5 per update, from 3e-4.
    assert min(kl) > 1.5e-9 and max(kl) < 0.5 * 1e3
    assert beta == [2.0, 4.0, 8.0, 16.0]
    assert lr == pytest.approx([3e-4, 4.5e-4, 6.75e-4, 1.0125e-3], rel=1e-6)


def test_training_loop_lowers_the_learning_rate_when_the_kl_is_above_twice_the_target(module, in_tmp):
    # The other direction of the rule, on the toy env: every post-update KL is above 2 x 1e-9, so the rate
    # is divided by 1.5 after every update, from 3e-4 (worked by hand: 2e-4, 1.333e-4, 8.889e-5), down to
    # ppo_continuous's default floor, --adaptive-lr-min 2e-4, where it stays.
    tiny = SCRIPT_CONFIG[module.__name__]["tiny"]
    argv = tiny + ["--minibatch-size", "128", "--update-epochs", "1", "--total-timesteps", "512",
                   "--lr-schedule", "adaptive", "--adaptive-lr-target-kl", "1e-9", "--run-name", "lower"]
    assert module.main(argv) == 0
    run_dir = in_tmp / "runs" / "lower"
    assert min(logged(run_dir, "losses/kl")) > 2e-9
    by_hand = [3e-4, 2e-4, 4e-4 / 3, 8e-4 / 9]
    if module.__name__ == "ppo_continuous":
        by_hand = [3e-4, 2e-4, 2e-4, 2e-4]
    assert logged(run_dir, "charts/learning_rate") == pytest.approx(by_hand, rel=1e-6)


def test_the_rate_floor_holds_for_adaptive_lr_min_steps_only(in_tmp):
    # The run above, with the floor held for the first 256 steps: it bounds the adaptation after the
    # first iteration (128 steps), not after the second (256), so by hand 3e-4, 2e-4, then 2e-4 / 1.5
    # and 2e-4 / 1.5^2 under the floor of 1e-6.
    argv = SCRIPT_CONFIG["ppo_continuous"]["tiny"] + [
        "--minibatch-size", "128", "--update-epochs", "1", "--total-timesteps", "512",
        "--adaptive-lr-target-kl", "1e-9", "--adaptive-lr-min-steps", "256", "--run-name", "early"]
    assert load("ppo_continuous").main(argv) == 0
    assert logged(in_tmp / "runs" / "early", "charts/learning_rate") == pytest.approx(
        [3e-4, 2e-4, 4e-4 / 3, 8e-4 / 9], rel=1e-6)


def test_adaptive_learning_rate_stops_at_adaptive_lr_max(module, in_tmp):
    # Every post-update KL is far below half of the target 1e3, so the rate would grow by 1.5 per update
    # (3e-4, 4.5e-4, 6.75e-4, ...); --adaptive-lr-max 6e-4 holds it there from the third iteration on.
    tiny = SCRIPT_CONFIG[module.__name__]["tiny"]
    argv = tiny + ["--minibatch-size", "128", "--update-epochs", "1", "--total-timesteps", "512",
                   "--lr-schedule", "adaptive", "--adaptive-lr-target-kl", "1e3", "--adaptive-lr-max", "6e-4",
                   "--run-name", "capped"]
    assert module.main(argv) == 0
    assert logged(in_tmp / "runs" / "capped", "charts/learning_rate") == pytest.approx(
        [3e-4, 4.5e-4, 6e-4, 6e-4], rel=1e-6)


@pytest.mark.parametrize("schedule", ["linear", "constant"])
def test_linear_and_constant_schedules_in_a_training_run(module, schedule, in_tmp):
    # 4 iterations at 4e-4. linear: lr = 4e-4 (1 - (i - 1) / 4) in iteration i = 1..4, by hand 4e-4, 3e-4, 2e-4,
    # 1e-4 (towards 0 after the last); constant: 4e-4 throughout. Neither follows the KL: a target of 1e-9 would
    # have the adaptive rule lower the rate after every update.
    tiny = SCRIPT_CONFIG[module.__name__]["tiny"]
    argv = tiny + ["--minibatch-size", "128", "--update-epochs", "1", "--total-timesteps", "512",
                   "--learning-rate", "4e-4", "--lr-schedule", schedule, "--adaptive-lr-target-kl", "1e-9",
                   "--run-name", schedule]
    assert module.main(argv) == 0
    expected = [4e-4, 3e-4, 2e-4, 1e-4] if schedule == "linear" else [4e-4] * 4
    assert logged(in_tmp / "runs" / schedule, "charts/learning_rate") == pytest.approx(expected, rel=1e-6)
