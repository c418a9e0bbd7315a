"""PPO for continuous actions (Schulman et al. 2017). Read top to bottom: the algorithm, then run
management (checkpoints, resume, torchrun, logging) below its banner.

    python ppo_continuous.py --env-id Humanoid-v4 --no-value-clip   # any env with Box actions
    python ppo_continuous.py --num-envs 8 --minibatch-size 64 --lr-schedule linear \
        --log-std-init 0 --no-scale-actions     # the usual PPO MuJoCo recipe: 8 envs, 64 samples
    python ppo_continuous.py --save-model     # then --eval-checkpoint or --resume its checkpoint
    torchrun --standalone --nproc_per_node 2 ppo_continuous.py      # one run, 2 processes
"""

import contextlib
import fcntl
import importlib.util
import io
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal, Optional

import gymnasium as gym
import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import tyro
from torch.utils.tensorboard import SummaryWriter


@dataclass
class Args:
    exp_name: str = "ppo_continuous"  # name of the experiment, part of the default run name
    run_name: Optional[str] = None  # directory in runs/ (None: <env-id>__<exp-name>__<seed>__<t>)
    seed: int = 1  # seed of torch and of the environments
    torch_deterministic: bool = True  # deterministic kernels: a seed gives the same losses
    # environment
    env_id: str = "HalfCheetah-v4"  # gymnasium id of an env with Box observations and actions
    total_timesteps: int = 1_000_000  # environment steps in all
    num_envs: int = 16  # parallel environments (under torchrun: in all, num_envs / N per rank)
    num_steps: int = 256  # steps of each env per rollout; the batch is num_envs * num_steps
    # advantages
    gamma: float = 0.99  # discount factor gamma
    gae_lambda: float = 0.95  # GAE lambda
    norm_adv: bool = True  # normalize the advantages of each minibatch to mean 0, std 1
    # optimiser
    learning_rate: float = 3e-4  # Adam's learning rate (the initial one if linear or adaptive)
    # linear: to 0 over training; adaptive: x1.5 or /1.5 to keep the KL near its target; None:
    # adaptive, but constant with --objective kl-penalty (the PPO paper's: beta alone tracks the KL)
    lr_schedule: Optional[Literal["linear", "constant", "adaptive"]] = None
    adaptive_lr_target_kl: float = 0.02  # target KL(pi_old || pi_new) of --lr-schedule adaptive
    adaptive_lr_min: float = 2e-4  # the adaptive rate's floor (without one Humanoid's rate sinks)
    adaptive_lr_min_steps: int = 1_000_000  # steps the floor holds; then 1e-6 (long runs need less)
    adaptive_lr_max: float = 1e-2  # the largest learning rate of --lr-schedule adaptive
    update_epochs: int = 10  # passes over the batch per iteration, in shuffled minibatches
    minibatch_size: int = 512  # samples per gradient step (under torchrun: in all)
    max_grad_norm: float = 0.5  # clip the global gradient norm to this (0: no clipping)
    target_kl: Optional[float] = None  # stop the epochs once a minibatch's approx KL exceeds this
    undo_kl: float = 2.0  # --lr-schedule adaptive: undo an update whose KL exceeds this (0: never)
    # objective
    objective: Literal["clip", "kl-penalty"] = "clip"  # clipped surrogate or adaptive KL penalty
    clip_eps: float = 0.2  # clipping range eps of the surrogate (and of the value, if clipped)
    value_clip: bool = True  # clip the value update around the old values (OpenAI baselines)
    value_coef: float = 0.5  # coefficient c1 of the value loss
    entropy_coef: float = 0.0  # coefficient c2 of the entropy bonus
    anneal_entropy: bool = False  # anneal the entropy coefficient linearly to 0
    kl_penalty_target: float = 0.01  # target KL d_targ of --objective kl-penalty
    kl_penalty_beta: float = 1.0  # initial penalty coefficient beta of --objective kl-penalty
    # normalization and episode ends
    norm_obs: bool = True  # normalize observations by running statistics shared by all envs
    norm_reward: bool = True  # scale rewards by the running std of the discounted return
    norm_value: bool = False  # the critic fits the returns normalized by their running statistics
    bootstrap_truncated: bool = True  # truncation bootstraps from V(final obs); off: as termination
    # network
    hidden_sizes: tuple[int, ...] = (256, 256)  # hidden layer sizes of the actor and of the critic
    log_std_init: float = -1.0  # initial log standard deviation of the Gaussian policy
    scale_actions: bool = True  # act in [-1, 1], mapped linearly onto the env's bounds


# --- Environments -------------------------------------------------------------------------------
def unscale_action(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """--scale-actions: the env's action for a policy action u in [-1, 1]^n,
        a = c + h * u,   c = (high + low) / 2,   h = (high - low) / 2,
    so the policy's std is a fraction of each half range h (exactly the identity on [-1, 1])."""
    return ((high + low) / 2 + (high - low) / 2 * u).astype(low.dtype)


def make_envs(env_id: str, num_envs: int, video_dir=None, scale_actions=False):
    """num_envs copies of env_id with episode statistics; env 0 records videos into video_dir.
    SAME_STEP autoreset: the step that ends an episode returns the next one's first observation and
    the true final one in info["final_obs"]; the default NEXT_STEP would spend the next step on a
    reset whose (obs, reward 0) transition is not real."""

    def make_env(i: int) -> gym.Env:
        render = {} if video_dir is None or i > 0 else {"render_mode": "rgb_array"}
        env = gym.make(env_id, **render)
        if render:
            env = gym.wrappers.RecordVideo(env, video_dir, disable_logger=True)
        low, high = env.action_space.low, env.action_space.high
        if not scale_actions or (np.all(low == -1) and np.all(high == 1)):
            return env
        space = gym.spaces.Box(-1.0, 1.0, low.shape, env.action_space.dtype)
        return gym.wrappers.TransformAction(env, lambda u: unscale_action(u, low, high), space)

    envs = gym.vector.SyncVectorEnv([lambda i=i: make_env(i) for i in range(num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    return gym.wrappers.vector.RecordEpisodeStatistics(envs)  # info["episode"] on done steps


# --- Normalization ------------------------------------------------------------------------------
class RunningMeanStd(nn.Module):
    """Running mean and variance of a stream of batches (Chan et al.). For a batch of n_b samples,
    mean m_b, variance v_b, with w = n_b / (count + n_b) and d = m_b - mean:
        mean <- (1 - w) mean + w m_b,   var <- (1 - w) var + w v_b + w (1 - w) d^2,   count += n_b
    Under torchrun each rank adds its own envs' data, and run.merge pools them after a rollout."""

    def __init__(self, shape=()):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("var", torch.ones(shape))
        self.count = 1e-4  # a float: w costs no tensor op in the rollout loop
        self.shared = None  # (count, mean, var) before the first update since the last merge

    def update(self, batch: torch.Tensor) -> None:
        if self.shared is None:
            self.shared = (self.count, self.mean.clone(), self.var.clone())
        batch_var, batch_mean = torch.var_mean(batch, 0, correction=0)
        w = batch.shape[0] / (self.count + batch.shape[0])
        delta = batch_mean - self.mean
        self.var.lerp_(batch_var, w).addcmul_(delta, delta, value=w * (1.0 - w))
        self.mean.lerp_(batch_mean, w)
        self.count += batch.shape[0]

    def get_extra_state(self) -> float:
        return self.count

    def set_extra_state(self, count: float) -> None:
        self.count, self.shared = count, None


class RewardScaler(nn.Module):
    """Divides rewards by the running std of the discounted return R_t = gamma R_{t-1} + r_t (which
    restarts at 0 where an episode ended), clipped to +-clip."""

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0):
        super().__init__()
        self.gamma, self.clip = gamma, clip
        self.return_rms = RunningMeanStd()
        self.register_buffer("discounted_return", torch.zeros(num_envs), persistent=False)

    def forward(self, rewards: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        self.discounted_return.mul_(self.gamma).add_(rewards)
        self.return_rms.update(self.discounted_return)
        self.discounted_return.mul_(1.0 - dones)
        return (rewards / torch.sqrt(self.return_rms.var + 1e-8)).clamp(-self.clip, self.clip)


# --- Agent: separate actor and critic MLPs, a Gaussian policy with state-independent log-std ---
def mlp(in_dim: int, hidden_sizes: tuple, out_dim: int, out_gain: float) -> nn.Sequential:
    """Tanh MLP, orthogonal weights (gain sqrt(2), out_gain on the output layer), zero biases."""
    sizes, layers = (in_dim, *hidden_sizes, out_dim), []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.Tanh()]
        nn.init.orthogonal_(layers[-2].weight, out_gain if i == len(sizes) - 2 else math.sqrt(2))
        nn.init.zeros_(layers[-2].bias)
    return nn.Sequential(*layers[:-1])


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, action: torch.Tensor):
    """log pi(a|s) = sum_i [ -(a_i - mu_i)^2 / (2 sigma_i^2) - log sigma_i - log(2 pi) / 2 ]."""
    z = (action - mean) * torch.exp(-log_std)
    return (-0.5 * z.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """H = sum_i [ log sigma_i + (1 + log 2 pi) / 2 ]."""
    return (log_std + 0.5 * (1.0 + math.log(2 * math.pi))).sum(-1)


class Agent(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden_sizes, log_std_init, norm_obs, norm_value=False):
        super().__init__()
        self.norm_obs, self.norm_value = norm_obs, norm_value
        self.obs_rms = RunningMeanStd((obs_dim,))  # in the state dict: checkpoints act as trained
        self.value_rms = RunningMeanStd() if norm_value else None  # of the returns G
        self.critic = mlp(obs_dim, hidden_sizes, 1, out_gain=1.0)
        self.actor_mean = mlp(obs_dim, hidden_sizes, act_dim, out_gain=0.01)
        self.actor_log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))

    def normalize(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """(obs - mean) / sqrt(var + 1e-8), clipped to +-10; with update, first add obs to them."""
        if not self.norm_obs:
            return obs
        if update:
            self.obs_rms.update(obs)
        return ((obs - self.obs_rms.mean) / torch.sqrt(self.obs_rms.var + 1e-8)).clamp(-10.0, 10.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(s); with norm_value the critic's output f fits (G - mean) / std: V = f std + mean."""
        value = self.critic(obs).squeeze(-1)
        return value * self.value_std() + self.value_rms.mean if self.norm_value else value

    def value_std(self):
        """The scale of the critic's targets: the running std of the returns, or 1."""
        return torch.sqrt(self.value_rms.var + 1e-8) if self.norm_value else 1.0

    def policy(self, obs: torch.Tensor):
        """pi(.|s) = N(mu(s), sigma^2): mu(s) and log sigma."""
        return self.actor_mean(obs), self.actor_log_std

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.policy(obs)
        return mean + torch.exp(log_std) * torch.randn_like(mean)

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor):
        """log pi(a|s), the entropy of pi(.|s) and V(s)."""
        mean, log_std = self.policy(obs)
        return gaussian_log_prob(mean, log_std, actions), gaussian_entropy(log_std), self.value(obs)


# --- Rollout: num_steps steps of each env with the current policy -------------------------------
@torch.inference_mode()
def collect_rollout(agent, envs, next_obs, num_steps, reward_scaler=None, bootstrap_truncated=True,
                    stopping=None):
    """Step every env num_steps times from next_obs (normalized). Returns the rollout as [num_steps,
    num_envs, ...] tensors (None if stopping() cut it short), the observation to go on from, and the
    (step, return, length) of each episode that ended. next_values[t] is what step t bootstraps
    from: V(s_{t+1}) within an episode, V(true final obs) after a truncation, and 0 after a
    termination (after a truncation too, without bootstrap_truncated)."""
    shape, device, space = (num_steps, next_obs.shape[0]), next_obs.device, envs.single_action_space
    obs = torch.zeros(shape + next_obs.shape[1:], device=device)
    actions = torch.zeros(shape + space.shape, device=device)
    rewards, next_values, dones = torch.zeros((3,) + shape, device=device)
    episodes = []
    for step in range(num_steps):
        obs[step] = next_obs
        actions[step] = agent.act(next_obs)
        # The env gets the action clipped to its bounds; the update scores the unclipped sample.
        action = np.clip(actions[step].cpu().numpy(), space.low, space.high)
        next_obs_np, reward, terminated, truncated, info = envs.step(action)
        if not np.isfinite(next_obs_np).all():  # it would spread into the statistics and weights
            raise FloatingPointError(f"the env returned a non-finite observation at step {step}")
        dones[step].copy_(torch.from_numpy(terminated | truncated))
        rewards[step] = torch.as_tensor(reward, dtype=torch.float32, device=device)
        if reward_scaler is not None:
            rewards[step] = reward_scaler(rewards[step], dones[step])
        next_obs = torch.as_tensor(next_obs_np, dtype=torch.float32, device=device)
        next_obs = agent.normalize(next_obs, update=True)
        index = np.flatnonzero(truncated & ~terminated)
        if bootstrap_truncated and len(index):  # SAME_STEP: the true last obs is in final_obs
            final_obs = torch.as_tensor(np.stack(info["final_obs"][index]), dtype=torch.float32)
            next_values[step, index] = agent.value(agent.normalize(final_obs.to(device)))
        for i in np.flatnonzero(info.get("_episode", [])):
            episodes.append((step, float(info["episode"]["r"][i]), int(info["episode"]["l"][i])))
        if stopping is not None and stopping():
            return None, next_obs, episodes
    # The policy did not change during the rollout: log pi_old(a|s) and V(s) in one batched pass.
    log_probs, _, values = agent.evaluate_actions(obs.flatten(0, 1), actions.flatten(0, 1))
    values = values.view(shape)
    following_values = torch.cat([values[1:], agent.value(next_obs).unsqueeze(0)])
    next_values = torch.where(dones.bool(), next_values, following_values)
    return dict(obs=obs, actions=actions, log_probs=log_probs.view(shape), values=values,
                rewards=rewards, next_values=next_values, dones=dones), next_obs, episodes


# --- Generalized advantage estimation (Schulman et al. 2016) ------------------------------------
def compute_gae(rewards, values, next_values, dones, gamma, gae_lambda):
    """GAE over a rollout of [T, N] tensors (steps x envs):
        delta_t = r_t + gamma * V_next_t - V(s_t)
        A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1},    A_T = 0
        returns = A + V
    V_next_t = next_values[t], what step t bootstraps from (0 where its bootstrap is cut: see
    collect_rollout); done_t (terminated or truncated) cuts the recursion."""
    deltas = rewards + gamma * next_values - values
    advantages, next_advantage = torch.zeros_like(rewards), 0.0  # 0.0: A_T
    for t in reversed(range(rewards.shape[0])):
        next_advantage = deltas[t] + gamma * gae_lambda * (1.0 - dones[t]) * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


# --- Losses -------------------------------------------------------------------------------------
def value_loss(values, old_values, returns, clip_eps, value_clip):
    """L^V = 0.5 mean( max( (V - G)^2, (V_clip - G)^2 ) ),  V_clip = V_old + clip(V - V_old, +-eps);
    without value_clip, L^V = 0.5 mean( (V - G)^2 )."""
    unclipped = (values - returns).square()
    if not value_clip:
        return 0.5 * unclipped.mean()
    clipped = old_values + (values - old_values).clamp(-clip_eps, clip_eps)
    return 0.5 * torch.max(unclipped, (clipped - returns).square()).mean()


def ppo_loss(new_log_probs, old_log_probs, advantages, values, old_values, returns, entropy,
             clip_eps=0.2, value_coef=0.5, entropy_coef=0.0, value_clip=True, beta=None):
    """The loss to minimise, -L + c1 L^V - c2 mean(H), with r = pi(a|s) / pi_old(a|s) and L the
    clipped surrogate (PPO paper, eq. 7) or, given beta, the KL-penalized one (eq. 8):
        L^CLIP  = mean( min( r A, clip(r, 1 - eps, 1 + eps) A ) )
        L^KLPEN = mean( r A - beta KL_i ),   KL_i = (r - 1) - log r
    KL_i estimates KL(pi_old || pi) at (s, a ~ pi_old) without bias, as does its gradient. Returns
    (loss, info), info's scalar tensors (the caller reads them once per iteration, not each step):
    loss, policy_loss (-L), value_loss, entropy, minibatch_approx_kl (mean KL_i),
    minibatch_old_approx_kl (mean -log r), clipfrac (share with |r - 1| > eps)."""
    log_ratio = new_log_probs - old_log_probs
    ratio = log_ratio.exp()
    if beta is None:
        clipped_ratio = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps)
        policy_loss = -torch.min(ratio * advantages, clipped_ratio * advantages).mean()
    else:
        policy_loss = -(ratio * advantages - beta * (ratio - 1.0 - log_ratio)).mean()
    v_loss = value_loss(values, old_values, returns, clip_eps, value_clip)
    entropy_mean = entropy.mean()
    loss = policy_loss + value_coef * v_loss - entropy_coef * entropy_mean
    info = {"loss": loss, "policy_loss": policy_loss, "value_loss": v_loss,
            "entropy": entropy_mean, "minibatch_approx_kl": (ratio - 1.0 - log_ratio).mean(),
            "minibatch_old_approx_kl": (-log_ratio).mean(),
            "clipfrac": ((ratio - 1.0).abs() > clip_eps).float().mean()}
    return loss, {key: value.detach() for key, value in info.items()}


# --- The run: the one seam to run management ----------------------------------------------------
class Run:
    """What train() asks of the run it is part of. This default is one process that logs, saves and
    stops on nothing; below the banner ManagedRun logs, checkpoints and stops on Ctrl-C, and
    DataParallelRun averages over torchrun's processes (ranks)."""

    rank, world_size = 0, 1  # this process's rank, of the world_size processes of one run
    video_dir, checkpoint = None, None  # where env 0 records videos; the state() to resume from

    def mean_std(self, x: torch.Tensor):
        """The mean and std (divided by n - 1) of all ranks' x together."""
        return x.mean(), x.std()

    def average(self, values: dict, tensors=()) -> dict:
        """The mean over the ranks of each float in values (returned) and, in place, of each tensor
        in tensors (gradients: then the global minibatch's), in one all-reduce."""
        return values

    def merge(self, *statistics: RunningMeanStd) -> None:
        """Make each rank's statistics, updated with its own data, those of all ranks' data."""

    def stopping(self) -> bool:
        """Whether to stop now, in the middle of a rollout."""
        return False

    def end_iteration(self, iteration: int, episodes: list, scalars: dict, state) -> bool:
        """Log the iteration, checkpoint state() when due; whether to stop."""
        return False


# --- Update: update_epochs passes over the batch in shuffled minibatches ------------------------
def ppo_update(agent, optimizer, batch: dict, args: Args, entropy_coef, beta=None, run=Run()):
    """Gradient steps on ppo_loss. Returns the minibatches' mean info and gradient norm (before
    clipping), with kl: d = KL(pi_old || pi_new) of the batch after the update, mean_beyond_1: the
    share of means mu outside [-1, 1] (with --scale-actions, the env's bounds), and the epochs run
    (fewer if --target-kl stops them). N ranks: minibatch_size / N samples of each rank's batch."""
    params, size = optimizer.param_groups[0]["params"], args.minibatch_size // run.world_size
    scale = agent.value_std()  # the value loss is in the units the critic fits
    totals, grad_norms, steps = 0.0, 0.0, 0  # summed on the device, read once
    n, device = len(batch["obs"]), batch["obs"].device
    order = torch.cat([torch.randperm(n, device=device) for _ in range(args.update_epochs)])
    for index in order.view(-1, size):  # each epoch a new shuffle, cut into minibatches
        obs, actions = batch["obs"][index], batch["actions"][index]
        new_log_probs, entropy, values = agent.evaluate_actions(obs, actions)
        advantages = batch["advantages"][index]
        if args.norm_adv:
            mean, std = run.mean_std(advantages)
            advantages = (advantages - mean) / (std + 1e-8)
        loss, info = ppo_loss(
            new_log_probs, batch["log_probs"][index], advantages, values / scale,
            batch["values"][index] / scale, batch["returns"][index] / scale, entropy,
            args.clip_eps, args.value_coef, entropy_coef, args.value_clip, beta)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # the global minibatch's gradient, and its KL: --target-kl decides alike on every rank
        run.average({}, [p.grad for p in params] + [info["minibatch_approx_kl"]])
        grad_norms += nn.utils.clip_grad_norm_(params, args.max_grad_norm or math.inf, foreach=True)
        optimizer.step()
        totals = totals + torch.stack(list(info.values())).double()
        steps += 1
        if args.target_kl is not None and info["minibatch_approx_kl"] > args.target_kl:
            break
    with torch.no_grad():  # d: how far the whole update moved the policy, on the whole batch
        log_ratio = agent.evaluate_actions(batch["obs"], batch["actions"])[0] - batch["log_probs"]
        beyond_1 = (agent.policy(batch["obs"])[0].abs() > 1.0).float().mean()
        kl, beyond_1 = torch.stack([(log_ratio.exp() - 1.0 - log_ratio).mean(), beyond_1]).tolist()
    stats = dict(zip([*info, "grad_norm"], [*(totals / steps).tolist(), float(grad_norms) / steps]))
    stats = run.average({**stats, "kl": kl, "mean_beyond_1": beyond_1})
    if not math.isfinite(stats["loss"]):  # the run ends: its last checkpoint is of a sound policy
        raise FloatingPointError(f"non-finite loss ({stats['loss']}) in the update")
    return stats, math.ceil(steps * size / n)  # the epochs run


def update_kl_beta(beta: float, kl: float, kl_penalty_target: float) -> float:
    """The PPO paper's rule (section 4) after each update, with d = KL(pi_old || pi_new):
    beta <- beta / 2 if d < d_targ / 1.5;  beta <- beta * 2 if d > d_targ * 1.5."""
    if kl < kl_penalty_target / 1.5:
        return beta / 2.0
    return beta * 2.0 if kl > kl_penalty_target * 1.5 else beta


def adapt_learning_rate(lr: float, kl: float, d_targ: float, lr_min=1e-6, lr_max=1e-2) -> float:
    """The adaptive rate, after each update on d = KL(pi_old || pi_new) of the whole batch, kept in
    [lr_min, lr_max]:  lr <- lr / 1.5 if d > 2 d_targ;  lr <- lr * 1.5 if d < d_targ / 2.
    rl_games' rule has these factors but adapts per minibatch, on its last step's analytic KL."""
    if kl > 2.0 * d_targ:
        return max(lr / 1.5, lr_min)
    return min(lr * 1.5, lr_max) if kl < 0.5 * d_targ else lr


# --- Training loop ------------------------------------------------------------------------------
def train(args: Args, device="cpu", run=Run()) -> Agent:
    """Iterations of rollout -> advantages -> update, from run.checkpoint's iteration if it has one.
    Returns the trained agent, its observation statistics with it."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS needs it
    # Every random stream comes from numpy's SeedSequence of --seed: two seeds share none
    torch.manual_seed(int(np.random.SeedSequence(args.seed).generate_state(1)[0]))  # the weights
    torch.use_deterministic_algorithms(args.torch_deterministic)
    num_envs, batch_size = args.num_envs // run.world_size, args.num_envs * args.num_steps
    envs = make_envs(args.env_id, num_envs, run.video_dir, args.scale_actions)
    agent = Agent(envs.single_observation_space.shape[0], envs.single_action_space.shape[0],
                  args.hidden_sizes, args.log_std_init, args.norm_obs, args.norm_value).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5, fused=True)
    reward_scaler = RewardScaler(num_envs, args.gamma).to(device)
    schedule = args.lr_schedule or ("constant" if args.objective == "kl-penalty" else "adaptive")
    start, lr, beta = 0, args.learning_rate, args.kl_penalty_beta
    if schedule == "adaptive" and not args.adaptive_lr_min <= lr <= args.adaptive_lr_max:
        raise ValueError(f"--learning-rate must lie within --adaptive-lr-min and --adaptive-lr-max "
                         f"([{args.adaptive_lr_min:g}, {args.adaptive_lr_max:g}]), got {lr:g}")
    if run.checkpoint is not None:  # episodes in progress restart, with random streams of their own
        agent.load_state_dict(run.checkpoint["agent"])
        optimizer.load_state_dict(run.checkpoint["optimizer"])
        reward_scaler.load_state_dict(run.checkpoint["reward_scaler"])
        start, lr = run.checkpoint["iteration"], run.checkpoint["adapted_lr"]
        beta = run.checkpoint["kl_penalty_beta"]
    # The same weights on every rank; then each rank's streams (new ones from a resumed iteration)
    streams = np.random.SeedSequence(args.seed, spawn_key=(run.rank, start))  # torch's, each env's
    torch_seed, *seeds = streams.generate_state(1 + num_envs).tolist()
    torch.manual_seed(torch_seed)
    next_obs = torch.as_tensor(envs.reset(seed=seeds)[0], dtype=torch.float32, device=device)
    next_obs = agent.normalize(next_obs, update=True)
    iteration, num_iterations = start, args.total_timesteps // batch_size

    def state() -> dict:  # what a checkpoint holds
        return dict(iteration=iteration, agent=agent.state_dict(), optimizer=optimizer.state_dict(),
                    reward_scaler=reward_scaler.state_dict(), adapted_lr=lr, kl_penalty_beta=beta)

    for iteration in range(start + 1, num_iterations + 1):
        progress = (iteration - 1) / num_iterations  # linear schedules: towards 0 after the last
        if schedule != "adaptive":
            lr = args.learning_rate * (1.0 - progress if schedule == "linear" else 1.0)
        optimizer.param_groups[0]["lr"] = lr  # the one group: all of the agent's parameters
        entropy_coef = args.entropy_coef * (1.0 - progress if args.anneal_entropy else 1.0)
        # 1. Rollout, then the observation and return statistics of every rank's data
        rollout, next_obs, episodes = collect_rollout(
            agent, envs, next_obs, args.num_steps, reward_scaler if args.norm_reward else None,
            args.bootstrap_truncated, run.stopping)
        if rollout is None:  # stopped: the run ends after the last whole iteration
            iteration -= 1
            break
        run.merge(agent.obs_rms, reward_scaler.return_rms)
        rollout["advantages"], rollout["returns"] = compute_gae(  # 2. Advantages
            rollout["rewards"], rollout["values"], rollout["next_values"], rollout["dones"],
            args.gamma, args.gae_lambda)
        batch = {key: value.flatten(0, 1) for key, value in rollout.items()}
        if args.norm_value:  # the statistics of the targets the critic fits next
            agent.value_rms.update(batch["returns"])
            run.merge(agent.value_rms)
        # 3. Update (undone if d = KL(pi_old || pi_new) passes --undo-kl), then adapt beta and lr
        theta_old = nn.utils.parameters_to_vector(agent.parameters()).detach()
        stats, epochs = ppo_update(agent, optimizer, batch, args, entropy_coef,
                                   beta if args.objective == "kl-penalty" else None, run)
        stats["update_undone"] = float(schedule == "adaptive" and 0 < args.undo_kl < stats["kl"])
        if stats["update_undone"]:  # one such update can leave a policy that never recovers
            nn.utils.vector_to_parameters(theta_old, agent.parameters())
        if args.objective == "kl-penalty":
            beta = update_kl_beta(beta, stats["kl"], args.kl_penalty_target)
            stats["kl_penalty_beta"] = beta
        if schedule == "adaptive":
            early = iteration * batch_size < args.adaptive_lr_min_steps  # the floor holds
            lr = adapt_learning_rate(lr, stats["kl"], args.adaptive_lr_target_kl,
                                     args.adaptive_lr_min if early else 1e-6, args.adaptive_lr_max)
        # 4. Report the iteration to the run: it logs, checkpoints and says whether to stop
        errors_var, returns_var = (batch["returns"] - batch["values"]).var(), batch["returns"].var()
        stats.update(run.average({"explained_variance": (1 - errors_var / returns_var).item()}))
        scalars = {"charts/learning_rate": optimizer.param_groups[0]["lr"],
                   "charts/update_epochs": epochs, "charts/entropy_coef": entropy_coef,
                   "charts/policy_std": agent.actor_log_std.exp().mean().item(),
                   **{f"losses/{key}": value for key, value in stats.items()}}
        if run.end_iteration(iteration, episodes, scalars, state):
            break
    envs.close()  # also writes the video of an episode in progress
    return agent


# ================================================================================================
# RUN MANAGEMENT: what keeps a run safe, resumable and observable; not needed to learn the algorithm
# ================================================================================================
@dataclass
class RunArgs(Args):
    cuda: bool = True  # use a GPU when there is one
    save_model: bool = False  # write runs/<run>/checkpoint.pt at the end (on Ctrl-C: always)
    checkpoint_every: int = 0  # write runs/<run>/checkpoint.pt every N iterations (0: never)
    resume: Optional[str] = None  # continue the run of runs/<run>/checkpoint.pt, with its settings
    eval_checkpoint: Optional[str] = None  # do not train: evaluate this checkpoint's policy
    eval_episodes: int = 10  # episodes of --eval-checkpoint
    capture_video: bool = False  # record videos of env 0 into videos/<run> (needs moviepy)
    track: bool = False  # send the run's scalars, settings and videos to Weights & Biases
    wandb_project_name: str = "ppo-trpo-single-file"  # W&B project of --track
    wandb_entity: Optional[str] = None  # W&B entity (user or team) of --track


RUN_FLAGS = {f.name for f in fields(RunArgs)} - {f.name for f in fields(Args)}  # with --resume
EVAL_FLAGS = {"cuda", "eval_checkpoint", "eval_episodes", "capture_video", "seed"}  # evaluation's
POSITIVE = {"total_timesteps", "num_envs", "num_steps", "update_epochs", "minibatch_size",
            "clip_eps", "learning_rate", "adaptive_lr_target_kl", "adaptive_lr_max", "target_kl",
            "kl_penalty_target", "kl_penalty_beta", "hidden_sizes", "eval_episodes"}
RANK, WORLD_SIZE = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))  # torchrun
CHECKPOINT_FORMAT = "ppo_continuous/5"


class UserError(Exception):
    """Bad input: one line, exit status 2."""


# --- Data parallelism: under torchrun, N processes (ranks) train one run ------------------------
def init_distributed(cuda: bool) -> torch.device:
    """Join torchrun's process group: NCCL on cuda:LOCAL_RANK where each rank on this machine has a
    GPU of its own, else gloo on CPU. Ranks other than 0 print nothing."""
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    gpus_needed = int(os.environ.get("LOCAL_WORLD_SIZE", 1))  # NCCL takes one GPU per rank
    use_cuda = cuda and torch.cuda.is_available() and gpus_needed <= torch.cuda.device_count()
    if WORLD_SIZE > 1:
        if use_cuda:
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if RANK > 0:
        sys.stdout = open(os.devnull, "w")
    return torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")


# --- The command line's run: logging, checkpoints, Ctrl-C -----------------------------------------
class ManagedRun(Run):
    """Rank 0 logs to TensorBoard (W&B takes its scalars) and the console, and checkpoints. Ctrl-C
    or SIGTERM: the first stops training after this env step (under torchrun, after this iteration,
    on every rank) with a checkpoint, a second exits at once."""

    def __init__(self, args: RunArgs, checkpoint=None):
        self.args, self.checkpoint, self.writer = args, checkpoint, None  # the writer: rank 0's
        self.start = (checkpoint["iteration"] if checkpoint else 0, time.time())
        if args.capture_video and self.rank == 0:  # RecordVideo numbers each run's videos from 0
            self.video_dir = f"videos/{args.run_name}" + (
                f"/from-iteration-{self.start[0]}" if checkpoint else "")
        self.returns, self.videos, self.signum, self.state = deque(maxlen=20), set(), 0, None
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)

    def handle(self, signum, frame) -> None:
        if self.signum:
            os._exit(128 + signum)
        self.signum = signum
        print(f"\n{signal.Signals(signum).name}: stopping (again to exit at once)", flush=True)

    def stopping(self) -> bool:  # under torchrun the ranks stop together, after the iteration
        return self.signum != 0 and self.world_size == 1

    def end_iteration(self, iteration: int, episodes: list, scalars: dict, state) -> bool:
        self.log(iteration, episodes, scalars)
        self.state = state  # what main() saves at the end: the state after the last whole iteration
        if self.args.checkpoint_every and iteration % self.args.checkpoint_every == 0:
            self.save(state())
        stop = self.average({"stop": float(self.signum)})["stop"] > 0  # any rank's signal so far
        self.signum = self.signum or (signal.SIGINT if stop else 0)
        return stop

    def log(self, iteration: int, episodes: list, scalars: dict) -> None:
        if self.writer is None:  # ranks other than 0
            return
        args, batch_size = self.args, self.args.num_envs * self.args.num_steps
        for step, episode_return, length in episodes:
            step = (iteration - 1) * batch_size + (step + 1) * args.num_envs
            self.writer.add_scalar("charts/episodic_return", episode_return, step)
            self.writer.add_scalar("charts/episodic_length", length, step)
            self.returns.append(episode_return)
        step, total = iteration * batch_size, args.total_timesteps // batch_size * batch_size
        sps = int((iteration - self.start[0]) * batch_size / (time.time() - self.start[1]))
        for tag, value in {**scalars, "charts/SPS": sps}.items():
            self.writer.add_scalar(tag, value, step)
        if args.track:  # the videos written since the last iteration
            wandb, found = sys.modules["wandb"], Path("videos", args.run_name).glob("**/*.mp4")
            for video in sorted(set(map(str, found)) - self.videos):
                self.videos.add(video)
                wandb.log({"videos": wandb.Video(video, format="mp4")})
        mean = f"{np.mean(self.returns):9.1f}" if self.returns else "        -"
        print(f"step {step:>9}/{total} | SPS {sps:>6} | return {mean} (last {len(self.returns)} "
              f"episodes) | ETA {(total - step) / max(sps, 1) / 60:5.1f} min", flush=True)

    def save(self, state: dict) -> None:
        """Rank 0 writes runs/<run>/checkpoint.pt by os.replace: a crash keeps the last one whole"""
        if self.rank > 0:
            return
        path = os.path.join("runs", self.args.run_name, "checkpoint.pt")
        data = io.BytesIO()  # then a full disk is an OSError of this write, not one inside torch's
        torch.save({"format": CHECKPOINT_FORMAT, "args": asdict(self.args),
                    "world_size": self.world_size, **state}, data)
        try:
            with open(path + ".tmp", "wb") as file:  # on disk before it replaces the checkpoint
                file.write(data.getbuffer())
                file.flush()
                os.fsync(file.fileno())
            os.replace(path + ".tmp", path)
        finally:
            Path(path + ".tmp").unlink(missing_ok=True)


class DataParallelRun(ManagedRun):
    """The command line's run under torchrun: its averages are all-reduces over the ranks, each of
    which steps envs of its own; the ranks stop together, at the end of an iteration."""

    rank, world_size = RANK, WORLD_SIZE

    def mean_std(self, x: torch.Tensor):
        """From the means of x and x^2 over the ranks (x of the same size on every rank)."""
        moments = torch.stack([x.double().mean(), x.double().square().mean()])
        self.average({}, [moments])
        n = x.numel() * self.world_size
        return moments[0], ((moments[1] - moments[0] ** 2) * n / (n - 1)).clamp_min(0).sqrt()

    def average(self, values: dict, tensors=()) -> dict:
        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        like = tensors[0] if tensors else torch.zeros((), dtype=torch.float64, device=device)
        flat = torch.cat([t.reshape(-1) for t in tensors] + [like.new_tensor([*values.values()])])
        dist.all_reduce(flat)
        parts = (flat / self.world_size).split([t.numel() for t in tensors] + [len(values)])
        for tensor, part in zip(tensors, parts):
            tensor.copy_(part.view_as(tensor))
        return dict(zip(values, parts[-1].tolist()))

    def merge(self, *statistics: RunningMeanStd) -> None:
        """With S = n (mean, var + mean^2) the sums of x and x^2, and (n0, S0) the state all ranks
        shared at the last merge, the union of what each rank r added since has n = n0 + sum_r (n_r
        - n0) and S = S0 + sum_r (S_r - S0): mean = S_1 / n, var = S_2 / n - mean^2."""
        for rms in (rms for rms in statistics if rms.shared is not None):
            (n0, mean0, var0), n = rms.shared, rms.count
            s0 = torch.stack([mean0.double(), var0.double() + mean0.double().square()]) * n0
            s = torch.stack([rms.mean.double(), rms.var.double() + rms.mean.double().square()]) * n
            change = torch.cat([(s - s0).flatten(), s0.new_tensor([n - n0])])
            dist.all_reduce(change)
            rms.count, rms.shared = n0 + change[-1].item(), None
            mean, square = (s0 + change[:-1].view_as(s0)) / rms.count
            rms.mean.copy_(mean)
            rms.var.copy_((square - mean.square()).clamp_min(0.0))


# --- Checkpoints and evaluation -----------------------------------------------------------------
def load_checkpoint(path: str, device) -> dict:
    """The checkpoint at path if whole (finite weights, train() starts on it), else a UserError."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        tag = checkpoint["format"]
    except Exception as e:  # missing, a directory, corrupt, not a checkpoint
        raise UserError(f"cannot read checkpoint {path} ({type(e).__name__})") from None
    if tag != CHECKPOINT_FORMAT:
        raise UserError(f"{path} is a {tag} checkpoint; this script reads {CHECKPOINT_FORMAT}")
    try:
        if not all(torch.as_tensor(v).isfinite().all() for v in checkpoint["agent"].values()):
            raise ValueError("its weights are not all finite")
        check_args(RunArgs(**checkpoint["args"]), device, checkpoint, int(checkpoint["world_size"]))
    except (AttributeError, KeyError, TypeError, ValueError, UserError) as e:
        raise UserError(f"{path}: {'no ' if isinstance(e, KeyError) else ''}{e}") from None
    return checkpoint


def load_policy(path: str, device: str = "cpu"):
    """The checkpoint's policy, for your own code: a batch of raw observations (numpy) -> the
    deterministic actions (numpy) in the env's units, those --eval-checkpoint takes:
        policy = load_policy("runs/<run>/checkpoint.pt")
        action = policy(obs[None])[0]"""
    with torch.random.fork_rng():  # the checks start train() and the agent draws weights: the
        checkpoint = load_checkpoint(path, device)  # caller's random state is kept as it was
        args, env = RunArgs(**checkpoint["args"]), gym.make(checkpoint["args"]["env_id"])
        low, high = env.action_space.low, env.action_space.high
        env.close()
        agent = Agent(env.observation_space.shape[0], len(low), args.hidden_sizes,
                      args.log_std_init, args.norm_obs, args.norm_value).to(device)
        agent.load_state_dict(checkpoint["agent"])

    @torch.inference_mode()
    def policy(obs: np.ndarray) -> np.ndarray:
        obs = agent.normalize(torch.as_tensor(obs, dtype=torch.float32, device=device))
        action = agent.policy(obs)[0].cpu().numpy()  # the mean: the deterministic action
        action = unscale_action(action, low, high) if args.scale_actions else action
        return np.clip(action, low, high)

    return policy


# --- Input checks and main() --------------------------------------------------------------------
def check_args(args: RunArgs, device="cpu", checkpoint=None, world_size=1) -> None:
    """Refuse an env this script cannot train, numbers that would fail or mislead, and a run that
    cannot start: train() makes its envs and networks, loads the checkpoint, takes one env step."""
    try:
        env = gym.make(args.env_id)  # gymnasium says what is wrong with an unknown id
    except Exception as e:
        raise UserError(f"cannot make {args.env_id}: {e}".splitlines()[0]) from None
    spaces = (env.observation_space, env.action_space)
    if not all(isinstance(space, gym.spaces.Box) and len(space.shape) == 1 for space in spaces):
        raise UserError(f"{args.env_id}: this script needs flat Box actions and observations "
                        f"(ppo_discrete.py takes Discrete actions)")
    if args.scale_actions and not np.isfinite([env.action_space.low, env.action_space.high]).all():
        raise UserError(f"--scale-actions needs finite action bounds; {args.env_id}'s are not")
    env.close()
    numbers = {key: value for key, value in asdict(args).items() if isinstance(value, (int, float))}
    for name, value in {**numbers, "hidden_sizes": min(args.hidden_sizes, default=0)}.items():
        flag = f"--{name.replace('_', '-')}"
        if not math.isfinite(value):
            raise UserError(f"{flag} must be a finite number, got {value}")
        if (value < 0 and name != "log_std_init") or (value == 0 and name in POSITIVE):
            raise UserError(f"{flag} must be positive{'' if name in POSITIVE else ' or 0'}, "
                            f"got {value}")
        if value > 1 and name in ("gamma", "gae_lambda", "clip_eps"):
            raise UserError(f"{flag} must be at most 1, got {value}")
    batch_size = args.num_envs * args.num_steps
    if batch_size % args.minibatch_size or args.total_timesteps < batch_size:
        raise UserError(f"the batch, --num-envs x --num-steps = {batch_size}, must be divisible by "
                        f"--minibatch-size and at most --total-timesteps")
    if args.norm_adv and args.minibatch_size < 2:  # one advantage has no std
        raise UserError("--norm-adv needs --minibatch-size of at least 2")
    if args.num_envs % WORLD_SIZE or args.minibatch_size % WORLD_SIZE:
        raise UserError(f"--num-envs and --minibatch-size must divide by the {WORLD_SIZE} ranks")
    start = Run()
    start.checkpoint, start.world_size, start.stopping = checkpoint, world_size, lambda: True
    deterministic = torch.are_deterministic_algorithms_enabled()  # restored: train() sets it
    try:
        train(args, device, start)
    except (AssertionError, KeyError, TypeError, ValueError, RuntimeError) as e:  # or no memory
        what = f"no {e}" if isinstance(e, KeyError) else " ".join(str(e).split())[:300]
        raise UserError(f"cannot start: {what}") from None
    finally:
        torch.use_deterministic_algorithms(deterministic)


def main(argv: list) -> int:
    """Train, resume or evaluate as the command line says; returns the exit status."""
    args = tyro.cli(RunArgs, args=argv)
    threading.excepthook = lambda hook: (  # quiet: TensorBoard's failed write re-raises in main()
        isinstance(hook.exc_value, OSError) and "tensorboard" in type(hook.thread).__module__
        or threading.__excepthook__(hook))
    warnings.filterwarnings("ignore", message=r".*The environment \S+-v4 is out of date")
    with contextlib.suppress(Exception):  # no MuJoCo, or a broken one: making an env says so
        import mujoco  # it warns once per v4 env about its model files (harmless); others print
        mujoco.set_mju_user_warning(lambda text: None if "settotalmass" in text else print(text))
    if args.capture_video and "DISPLAY" not in os.environ:  # MuJoCo through EGL, pygame off-screen
        os.environ.setdefault("MUJOCO_GL", "egl")
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    device = init_distributed(args.cuda)
    if "OMP_NUM_THREADS" not in os.environ:  # the update's matrix products: the process's cores
        torch.set_num_threads(max(1, os.cpu_count() // int(os.environ.get("LOCAL_WORLD_SIZE", 1))))
    if args.cuda and device.type == "cpu" and torch.cuda.is_available():
        print("more processes than GPUs on this machine: running on CPU")
    # With a checkpoint its settings hold: only run flags (and evaluation's env seed) may be typed.
    typed = {token[2:].split("=")[0].removeprefix("no-").replace("-", "_") for token in argv
             if token.startswith("--")}
    allowed = EVAL_FLAGS if args.eval_checkpoint is not None else RUN_FLAGS
    if (args.eval_checkpoint or args.resume) is not None and typed - allowed:
        names = ", ".join(sorted(f"--{key.replace('_', '-')}" for key in allowed))
        raise UserError(f"--{min(typed - allowed).replace('_', '-')} may not be given with a "
                        f"checkpoint, whose settings hold (only {names})")
    checkpoint = load_checkpoint(args.resume, device) if args.resume is not None else None
    if checkpoint is not None:
        if checkpoint["world_size"] != WORLD_SIZE:
            raise UserError(f"{args.resume} was written by {checkpoint['world_size']} process(es); "
                            f"resume it with as many")
        args = RunArgs(**{**checkpoint["args"], **{key: getattr(args, key) for key in typed}})
        # the run goes on where its checkpoint is: a copied run directory is a run of its own
        args.run_name = os.path.relpath(os.path.dirname(os.path.abspath(args.resume)), "runs")
        if checkpoint["iteration"] >= args.total_timesteps // (args.num_envs * args.num_steps):
            print(f"{args.resume}: the run has finished; nothing to resume")
            return 0
    for flag, package in (("capture_video", "moviepy"), ("track", "wandb")):
        if getattr(args, flag) and not importlib.util.find_spec(package):
            raise UserError(f"--{flag.replace('_', '-')} needs {package}: pip install {package}")
    if args.eval_checkpoint is not None:
        if args.eval_episodes < 1:
            raise UserError(f"--eval-episodes must be positive, got {args.eval_episodes}")
        policy = load_policy(args.eval_checkpoint, device)
        envs = make_envs(torch.load(args.eval_checkpoint, weights_only=True)["args"]["env_id"], 1,
                         f"videos/eval-{int(time.time())}" if args.capture_video else None)
        obs, returns = envs.reset(seed=args.seed)[0], []
        while len(returns) < args.eval_episodes:
            obs, _, _, _, info = envs.step(policy(obs))
            if "episode" in info:
                returns.append(float(info["episode"]["r"][0]))
        envs.close()
        print(f"return {np.mean(returns):.1f} +- {np.std(returns):.1f} ({len(returns)} episodes)")
        return 0
    if args.run_name is None:  # with the pid: runs started in one second (a sweep) do not collide
        time_now = f"{int(time.time())}-{os.getpid()}"
        args.run_name = f"{args.env_id}__{args.exp_name}__{args.seed}__{time_now}"
    if not args.run_name.isprintable() or not 0 < len(args.run_name.encode()) < 256:
        raise UserError("--run-name must be 1 to 255 bytes of printable characters")
    check_args(args, device)
    run_dir = os.path.normpath(os.path.join("runs", args.run_name))
    if not run_dir.startswith("runs" + os.sep):
        raise UserError(f"the run's directory {run_dir} must be inside runs/ (see --run-name)")
    if checkpoint is None and os.path.exists(run_dir):
        raise UserError(f"{run_dir} exists; continue it with --resume {run_dir}/checkpoint.pt or "
                        f"choose another --run-name")
    runs_above = [parent for parent in Path(run_dir).parents if any(parent.glob("events.*"))]
    if checkpoint is None and runs_above:
        raise UserError(f"{run_dir} would lie inside the run {runs_above[0]}; choose another name")
    if WORLD_SIZE > 1:  # every rank has checked for runs/<run> before rank 0 creates it
        dist.barrier()
    run = (DataParallelRun if WORLD_SIZE > 1 else ManagedRun)(args, checkpoint)
    cleanup = contextlib.ExitStack()  # rank 0's lock, W&B run and writer, released in reverse
    if RANK == 0:  # runs/<run> is this process's until main() returns (the OS frees a dead one's)
        os.makedirs(run_dir, exist_ok=checkpoint is not None)
        lock = os.open(run_dir, os.O_RDONLY)
        cleanup.callback(os.close, lock)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{run_dir} is in use by another process") from None
        if args.track:  # before the writer, which W&B hooks into; a fresh run never joins another
            import wandb
            wandb.init(project=args.wandb_project_name, entity=args.wandb_entity,
                       name=args.run_name, id=args.run_name.replace("/", "-"), config=asdict(args),
                       resume="allow" if checkpoint else "never", sync_tensorboard=True)
            cleanup.callback(wandb.finish)
        # purge_step: TensorBoard drops what a killed run logged after its checkpoint
        step = checkpoint["iteration"] * args.num_envs * args.num_steps if checkpoint else None
        run.writer = cleanup.enter_context(SummaryWriter(run_dir, purge_step=step and step + 1))
        if checkpoint is None:
            run.writer.add_text("args", "\n".join(f"|{k}|{v}|" for k, v in asdict(args).items()))
    with cleanup:
        train(args, device, run)
        if run.state is not None and (args.save_model or run.signum):  # an iteration has ended
            run.save(run.state())
    command = "python" if WORLD_SIZE == 1 else f"torchrun --nproc_per_node {WORLD_SIZE}"
    if run.signum and os.path.exists(f"{run_dir}/checkpoint.pt"):  # on stdout: rank 0 says it
        print(f"stopped; resume with: {command} {sys.argv[0]} --resume {run_dir}/checkpoint.pt")
    elif run.signum:
        print(f"stopped before the first iteration ended: nothing saved; {run_dir} holds its logs")
    return 128 + run.signum if run.signum else 0


def cli() -> None:
    try:
        code = main(sys.argv[1:])
    except UserError as e:
        if RANK == 0:  # under torchrun every rank has the same error
            print(f"error: {e}", file=sys.stderr)
        code = 2
    except (OSError, FloatingPointError) as e:  # a full disk, an unwritable directory; divergence
        print(f"error: {str(e).splitlines()[0]} (the last checkpoint.pt, if any, is kept)",
              file=sys.stderr)
        code = 1
    except KeyboardInterrupt:  # before training or during evaluation
        print("error: interrupted; nothing was saved", file=sys.stderr)
        code = 130
    except RuntimeError as e:  # under torchrun: a rank that died leaves the others mid-collective
        if WORLD_SIZE == 1 or "Connection" not in str(e):
            raise
        os.write(2, f"error: rank {RANK} stops: another rank has stopped\n".encode())  # atomic
        os._exit(1)
    if dist.is_initialized():  # exit without the interpreter's shutdown, in which gloo's threads,
        dist.destroy_process_group()  # still releasing the last collective's tensors, can abort
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    cli()
