"""TRPO for discrete actions (Schulman et al. 2015): each policy step goes along the natural
gradient x ~ F^-1 g, found by conjugate gradient on Fisher-vector products, as far as the KL bound
allows, then backs off by a line search until the KL holds and the surrogate improves; the critic
learns by Adam. Read top to bottom: the algorithm, then run management (checkpoints, resume,
torchrun, logging) below its banner.

    python trpo_discrete.py                                         # CartPole-v1, 100k steps
    python trpo_discrete.py --env-id Acrobot-v1 --total-timesteps 500000  # any Discrete-action env
    python trpo_discrete.py --save-model      # then --eval-checkpoint or --resume its checkpoint
    torchrun --standalone --nproc_per_node 2 trpo_discrete.py       # one run, 2 processes
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
    exp_name: str = "trpo_discrete"  # name of the experiment, part of the default run name
    run_name: Optional[str] = None  # directory in runs/ (None: <env-id>__<exp-name>__<seed>__<t>)
    seed: int = 1  # seed of torch and of the environments
    torch_deterministic: bool = True  # deterministic kernels: a seed gives the same losses
    # environment
    env_id: str = "CartPole-v1"  # gymnasium id of an env with Box observations, Discrete actions
    total_timesteps: int = 100_000  # environment steps in all
    num_envs: int = 8  # parallel environments (under torchrun: in all, num_envs / N per rank)
    num_steps: int = 128  # steps of each env per rollout; the batch is num_envs * num_steps
    # advantages
    gamma: float = 0.99  # discount factor gamma
    gae_lambda: float = 0.95  # GAE lambda
    norm_adv: bool = True  # normalize the batch's advantages to mean 0, std 1
    # trust region: the policy step
    max_kl: float = 0.01  # trust-region size delta: the bound on a step's mean KL(pi_old || pi_new)
    cg_iters: int = 10  # conjugate-gradient iterations for the search direction x ~ F^-1 g
    cg_damping: float = 0.1  # damping lambda of the Fisher matrix: CG solves (F + lambda I) x = g
    backtrack_coef: float = 0.8  # line search: each try shrinks the step by this factor
    backtrack_iters: int = 10  # line search: step sizes tried before the old parameters are kept
    # critic: Adam on the returns
    learning_rate: float = 3e-4  # Adam's learning rate of the critic (the initial one if linear)
    lr_schedule: Literal["linear", "constant"] = "constant"  # linear: anneal it to 0 over training
    update_epochs: int = 10  # critic passes over the batch per iteration, in shuffled minibatches
    minibatch_size: int = 64  # samples per critic gradient step (under torchrun: in all)
    max_grad_norm: float = 0.5  # clip the critic's global gradient norm to this (0: no clipping)
    clip_eps: float = 0.2  # clipping range eps of --value-clip
    value_clip: bool = False  # clip the value update around the old values (OpenAI baselines)
    # normalization and episode ends
    norm_obs: bool = True  # normalize observations by running statistics shared by all envs
    norm_reward: bool = True  # scale rewards by the running std of the discounted return
    bootstrap_truncated: bool = True  # truncation bootstraps from V(final obs); off: as termination
    # network
    hidden_sizes: tuple[int, ...] = (64, 64)  # hidden layer sizes of the actor and of the critic


# --- Environments -------------------------------------------------------------------------------
def make_envs(env_id: str, num_envs: int, video_dir=None):
    """num_envs copies of env_id with episode statistics; env 0 records videos into video_dir.
    SAME_STEP autoreset: the step that ends an episode returns the next one's first observation and
    the true final one in info["final_obs"]; the default NEXT_STEP would spend the next step on a
    reset whose (obs, reward 0) transition is not real."""

    def make_env(i: int) -> gym.Env:
        if video_dir is None or i > 0:
            return gym.make(env_id)
        env = gym.make(env_id, render_mode="rgb_array")
        return gym.wrappers.RecordVideo(env, video_dir, disable_logger=True)

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


# --- Agent: separate actor and critic MLPs, a categorical policy over the actions' logits -------
def mlp(in_dim: int, hidden_sizes: tuple, out_dim: int, out_gain: float) -> nn.Sequential:
    """Tanh MLP, orthogonal weights (gain sqrt(2), out_gain on the output layer), zero biases."""
    sizes, layers = (in_dim, *hidden_sizes, out_dim), []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.Tanh()]
        nn.init.orthogonal_(layers[-2].weight, out_gain if i == len(sizes) - 2 else math.sqrt(2))
        nn.init.zeros_(layers[-2].bias)
    return nn.Sequential(*layers[:-1])


def categorical_log_prob(logits: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """log pi(a|s) = logits_a - log sum_b exp(logits_b), for integer actions a."""
    return torch.log_softmax(logits, -1).gather(-1, action.long().unsqueeze(-1)).squeeze(-1)


def categorical_entropy(logits: torch.Tensor) -> torch.Tensor:
    """H = -sum_a pi(a|s) log pi(a|s)."""
    log_probs = torch.log_softmax(logits, -1)
    return -(log_probs.exp() * log_probs).sum(-1)


class Agent(nn.Module):
    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes, norm_obs):
        super().__init__()
        self.norm_obs = norm_obs
        self.obs_rms = RunningMeanStd((obs_dim,))  # in the state dict: checkpoints act as trained
        self.critic = mlp(obs_dim, hidden_sizes, 1, out_gain=1.0)
        self.actor = mlp(obs_dim, hidden_sizes, num_actions, out_gain=0.01)  # the logits

    def normalize(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """(obs - mean) / sqrt(var + 1e-8), clipped to +-10; with update, first add obs to them."""
        if not self.norm_obs:
            return obs
        if update:
            self.obs_rms.update(obs)
        return ((obs - self.obs_rms.mean) / torch.sqrt(self.obs_rms.var + 1e-8)).clamp(-10.0, 10.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def policy(self, obs: torch.Tensor):
        """pi(.|s) = softmax(logits(s)): the logits."""
        return self.actor(obs)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.multinomial(torch.softmax(self.policy(obs), -1), 1).squeeze(-1)

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor):
        """log pi(a|s), the entropy of pi(.|s) and V(s)."""
        logits = self.policy(obs)
        return categorical_log_prob(logits, actions), categorical_entropy(logits), self.value(obs)


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
    actions = torch.zeros(shape + space.shape, dtype=torch.long, device=device)
    rewards, next_values, dones = torch.zeros((3,) + shape, device=device)
    episodes = []
    for step in range(num_steps):
        obs[step] = next_obs
        actions[step] = agent.act(next_obs)
        next_obs_np, reward, terminated, truncated, info = envs.step(actions[step].cpu().numpy())
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


def surrogate(new_log_probs, old_log_probs, advantages):
    """L(theta) = mean( pi_theta(a|s) / pi_old(a|s) A ), the importance-sampled policy objective."""
    return (torch.exp(new_log_probs - old_log_probs) * advantages).mean()


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


# --- Trust region (Schulman et al. 2015, appendix C) --------------------------------------------
def categorical_kl(logits_p, logits_q):
    """KL(p || q) of categorical distributions per state, p = softmax(logits_p), q likewise:
        KL = sum_a p_a (log p_a - log q_a)"""
    log_p, log_q = torch.log_softmax(logits_p, -1), torch.log_softmax(logits_q, -1)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def conjugate_gradient(fvp, b, iters, residual_tol=1e-10):
    """Solve F x = b for a symmetric positive-definite F, given only v -> F v, in at most iters
    steps:
        x_0 = 0,   r_0 = p_0 = b,   alpha_k = r_k.r_k / p_k.F p_k
        x_{k+1} = x_k + alpha_k p_k,   r_{k+1} = r_k - alpha_k F p_k
        p_{k+1} = r_{k+1} + (r_{k+1}.r_{k+1} / r_k.r_k) p_k
    stopping once r.r < residual_tol. Returns (x, |r|), r = b - F x the recursion's residual."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    r_dot_r = r.dot(r)
    for _ in range(iters):
        if r_dot_r < residual_tol:
            break
        fp = fvp(p)
        alpha = r_dot_r / p.dot(fp)
        x += alpha * p
        r -= alpha * fp
        new_r_dot_r = r.dot(r)
        p = r + (new_r_dot_r / r_dot_r) * p
        r_dot_r = new_r_dot_r
    return x, r_dot_r.sqrt()


def fisher_vector_product(kl_fn, params, damping, run=Run()):
    """v -> (F + damping I) v, F the Hessian of the mean KL(pi_old || pi_theta) at theta_old, the
    Fisher information matrix of the policy: F v = grad( grad(KL) . v ), two backward passes and no
    F in memory. kl_fn() is the mean KL with pi_old held fixed; F v is averaged over the ranks."""
    grads = torch.autograd.grad(kl_fn(), params, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])

    def fvp(v):
        hessian_v = torch.autograd.grad(flat_grad.dot(v), params, retain_graph=True)
        hessian_v = torch.cat([h.reshape(-1) for h in hessian_v])
        run.average({}, [hessian_v])
        return hessian_v + damping * v

    return fvp


def max_step_size(x, fx, max_kl):
    """beta = sqrt(2 delta / x^T fx), fx = (F + lambda I) x the damped product CG solved with: the
    step beta x reaches the KL bound delta of the quadratic model KL(theta_old + s) ~ s^T F s / 2
    when lambda = 0, and stays inside it when lambda > 0 (x^T (F + lambda I) x >= x^T F x)."""
    return torch.sqrt(2 * max_kl / x.dot(fx))


def line_search(f, theta_old, surrogate_old, full_step, max_kl, backtrack_coef=0.8,
                backtrack_iters=10):
    """Try theta_old + backtrack_coef^i full_step, i = 0, 1, ..., backtrack_iters - 1, with f(theta)
    -> (surrogate, mean KL from theta_old); accept the first whose KL is within max_kl and whose
    surrogate improves on surrogate_old, else keep theta_old. Returns (theta, accepted, backtracks,
    surrogate, kl)."""
    for i in range(backtrack_iters):
        theta = theta_old + backtrack_coef ** i * full_step
        surrogate_new, kl = f(theta)
        if kl <= max_kl and surrogate_new > surrogate_old:
            return theta, True, i, surrogate_new, kl
    return theta_old, False, backtrack_iters, surrogate_old, 0.0


# --- Update: one trust-region step of the policy, then update_epochs passes of the critic -------
def trpo_update(agent, critic_optimizer, batch: dict, args: Args, run=Run()) -> dict:
    """The policy step (surrogate gradient g, x ~ F^-1 g by conjugate gradient, the step beta x, the
    line search), then Adam steps of the critic on value_loss in shuffled minibatches. Returns the
    stats logged as losses/*, with kl: KL(pi_old || pi_new) of the batch after the accepted step (0
    if none). Under torchrun the advantages are normalized over every rank's batch; g, each F v, the
    line search's surrogate and KL and the critic's gradients are averaged over the ranks."""
    # not inference tensors: autograd saves them in the graph (the actions as gather's index)
    obs, actions = batch["obs"].clone(), batch["actions"].clone()
    old_log_probs, advantages = batch["log_probs"], batch["advantages"]
    if args.norm_adv:
        mean, std = run.mean_std(advantages)
        advantages = (advantages - mean) / (std + 1e-8)
    policy_params = list(agent.actor.parameters())  # not the critic's
    logits = agent.policy(obs)
    old_logits = logits.detach()  # pi_old: the fixed side of every KL below

    def mean_kl():
        return categorical_kl(old_logits, agent.policy(obs)).mean()

    # 1. Surrogate gradient g at theta_old (and the surrogate, in the same all-reduce)
    surrogate_old = surrogate(categorical_log_prob(logits, actions), old_log_probs, advantages)
    g = torch.cat([grad.reshape(-1) for grad in torch.autograd.grad(surrogate_old, policy_params)])
    surrogate_old = run.average({"surrogate": surrogate_old.item()}, [g])["surrogate"]
    # 2. Search direction x ~ F^-1 g, and the full step beta x to the KL bound
    fvp = fisher_vector_product(mean_kl, policy_params, args.cg_damping, run)
    x, cg_residual = conjugate_gradient(fvp, g, args.cg_iters)
    full_step = max_step_size(x, fvp(x), args.max_kl) * x if x.any() else x  # g ~ 0: x = 0, no step
    # 3. Backtracking line search: the old parameters stay when no step is accepted
    theta_old = nn.utils.parameters_to_vector(policy_params).detach()

    @torch.no_grad()
    def evaluate(theta):
        nn.utils.vector_to_parameters(theta, policy_params)
        new_log_probs = categorical_log_prob(agent.policy(obs), actions)
        values = run.average({
            "surrogate": surrogate(new_log_probs, old_log_probs, advantages).item(),
            "kl": mean_kl().item()})
        return values["surrogate"], values["kl"]

    theta, accepted, backtracks, surrogate_new, kl = line_search(
        evaluate, theta_old, surrogate_old, full_step, args.max_kl, args.backtrack_coef,
        args.backtrack_iters)
    with torch.no_grad():
        nn.utils.vector_to_parameters(theta, policy_params)
        entropy = categorical_entropy(agent.policy(obs)).mean().item()  # of pi_new
    # 4. Critic: update_epochs passes over the batch in shuffled minibatches
    params, size = critic_optimizer.param_groups[0]["params"], args.minibatch_size // run.world_size
    value_losses, grad_norm = [], 0.0
    for _ in range(args.update_epochs):
        for index in torch.randperm(len(obs), device=obs.device).view(-1, size):
            v_loss = value_loss(agent.value(obs[index]), batch["values"][index],
                                batch["returns"][index], args.clip_eps, args.value_clip)
            critic_optimizer.zero_grad(set_to_none=True)
            v_loss.backward()
            run.average({}, [p.grad for p in params])  # the global minibatch's gradient
            max_norm = args.max_grad_norm or math.inf  # inf: measure the norm, clip nothing
            grad_norm += nn.utils.clip_grad_norm_(params, max_norm, foreach=True)
            critic_optimizer.step()
            value_losses.append(v_loss.detach())
    stats = run.average({  # each a read from the device, once per iteration
        "value_loss": torch.stack(value_losses).mean().item(), "kl": kl,
        "surrogate_improvement": surrogate_new - surrogate_old,
        "expected_improvement": g.dot(full_step).item(), "backtracks": backtracks,
        "step_accepted": float(accepted), "cg_residual": cg_residual.item(),
        "step_norm": (theta - theta_old).norm().item(),
        "entropy": entropy,
        "grad_norm": grad_norm.item() / len(value_losses)})
    if not math.isfinite(stats["value_loss"]):  # the run ends: its last checkpoint is sound
        raise FloatingPointError(f"non-finite value loss ({stats['value_loss']}) in the update")
    return stats


# --- Training loop ------------------------------------------------------------------------------
def train(args: Args, device="cpu", run=Run()) -> Agent:
    """Iterations of rollout -> advantages -> update, from run.checkpoint's iteration if it has one.
    Returns the trained agent, its observation statistics with it."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS needs it
    # Every random stream comes from numpy's SeedSequence of --seed: two seeds share none
    torch.manual_seed(int(np.random.SeedSequence(args.seed).generate_state(1)[0]))  # the weights
    torch.use_deterministic_algorithms(args.torch_deterministic)
    num_envs, batch_size = args.num_envs // run.world_size, args.num_envs * args.num_steps
    envs = make_envs(args.env_id, num_envs, run.video_dir)
    agent = Agent(envs.single_observation_space.shape[0], int(envs.single_action_space.n),
                  args.hidden_sizes, args.norm_obs).to(device)
    critic_optimizer = torch.optim.Adam(agent.critic.parameters(), lr=args.learning_rate, eps=1e-5,
                                        fused=True)
    reward_scaler = RewardScaler(num_envs, args.gamma).to(device)
    start, rejected = 0, 0  # rejected: iterations in a row whose line search accepted no step
    if run.checkpoint is not None:  # episodes in progress restart, with random streams of their own
        agent.load_state_dict(run.checkpoint["agent"])
        critic_optimizer.load_state_dict(run.checkpoint["critic_optimizer"])
        reward_scaler.load_state_dict(run.checkpoint["reward_scaler"])
        start = run.checkpoint["iteration"]
    # The same weights on every rank; then each rank's streams (new ones from a resumed iteration)
    streams = np.random.SeedSequence(args.seed, spawn_key=(run.rank, start))  # torch's, each env's
    torch_seed, *seeds = streams.generate_state(1 + num_envs).tolist()
    torch.manual_seed(torch_seed)
    next_obs = torch.as_tensor(envs.reset(seed=seeds)[0], dtype=torch.float32, device=device)
    next_obs = agent.normalize(next_obs, update=True)
    iteration, num_iterations = start, args.total_timesteps // batch_size

    def state() -> dict:  # what a checkpoint holds
        return dict(iteration=iteration, agent=agent.state_dict(),
                    critic_optimizer=critic_optimizer.state_dict(),
                    reward_scaler=reward_scaler.state_dict())

    for iteration in range(start + 1, num_iterations + 1):
        progress = (iteration - 1) / num_iterations  # linear schedule: towards 0 after the last
        lr = args.learning_rate * (1.0 - progress if args.lr_schedule == "linear" else 1.0)
        critic_optimizer.param_groups[0]["lr"] = lr  # the one group: the critic's parameters
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
        # 3. Update: one trust-region step of the policy, then the critic
        stats = trpo_update(agent, critic_optimizer, batch, args, run)
        # 4. Report the iteration to the run: it logs, checkpoints and says whether to stop
        errors_var, returns_var = (batch["returns"] - batch["values"]).var(), batch["returns"].var()
        stats.update(run.average({"explained_variance": (1 - errors_var / returns_var).item()}))
        rejected = 0 if stats["step_accepted"] else rejected + 1
        if rejected and rejected % 10 == 0:  # on stdout: rank 0's alone
            print(f"warning: the line search accepted no step in {rejected} iterations in a row")
        scalars = {"charts/learning_rate": critic_optimizer.param_groups[0]["lr"],
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
            "clip_eps", "learning_rate", "max_kl", "cg_iters", "backtrack_coef",
            "backtrack_iters", "hidden_sizes", "eval_episodes"}
RANK, WORLD_SIZE = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))  # torchrun
CHECKPOINT_FORMAT = "trpo_discrete/4"


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
    deterministic actions (numpy), argmax_a pi(a|s), those --eval-checkpoint takes:
        policy = load_policy("runs/<run>/checkpoint.pt")
        action = policy(obs[None])[0]"""
    with torch.random.fork_rng():  # the checks start train() and the agent draws weights: the
        checkpoint = load_checkpoint(path, device)  # caller's random state is kept as it was
        args, env = RunArgs(**checkpoint["args"]), gym.make(checkpoint["args"]["env_id"])
        env.close()
        agent = Agent(env.observation_space.shape[0], int(env.action_space.n), args.hidden_sizes,
                      args.norm_obs).to(device)
        agent.load_state_dict(checkpoint["agent"])

    @torch.inference_mode()
    def policy(obs: np.ndarray) -> np.ndarray:
        obs = agent.normalize(torch.as_tensor(obs, dtype=torch.float32, device=device))
        return agent.policy(obs).argmax(-1).cpu().numpy()  # the most probable action

    return policy


# --- Input checks and main() --------------------------------------------------------------------
def check_args(args: RunArgs, device="cpu", checkpoint=None, world_size=1) -> None:
    """Refuse an env this script cannot train, numbers that would fail or mislead, and a run that
    cannot start: train() makes its envs and networks, loads the checkpoint, takes one env step."""
    try:
        env = gym.make(args.env_id)  # gymnasium says what is wrong with an unknown id
    except Exception as e:
        raise UserError(f"cannot make {args.env_id}: {e}".splitlines()[0]) from None
    observations, actions = env.observation_space, env.action_space
    flat_box = isinstance(observations, gym.spaces.Box) and len(observations.shape) == 1
    if not flat_box or not isinstance(actions, gym.spaces.Discrete) or actions.start != 0:
        raise UserError(f"{args.env_id}: this script needs Discrete actions and flat Box "
                        f"observations (trpo_continuous.py takes Box actions)")
    env.close()
    numbers = {key: value for key, value in asdict(args).items() if isinstance(value, (int, float))}
    for name, value in {**numbers, "hidden_sizes": min(args.hidden_sizes, default=0)}.items():
        flag = f"--{name.replace('_', '-')}"
        if not math.isfinite(value):
            raise UserError(f"{flag} must be a finite number, got {value}")
        if value < 0 or (value == 0 and name in POSITIVE):
            raise UserError(f"{flag} must be positive{'' if name in POSITIVE else ' or 0'}, "
                            f"got {value}")
        if value > 1 and name in ("gamma", "gae_lambda", "clip_eps"):
            raise UserError(f"{flag} must be at most 1, got {value}")
        if value >= 1 and name == "backtrack_coef":
            raise UserError(f"{flag} must be below 1, got {value}")
    batch_size = args.num_envs * args.num_steps
    if batch_size % args.minibatch_size or args.total_timesteps < batch_size:
        raise UserError(f"the batch, --num-envs x --num-steps = {batch_size}, must be divisible by "
                        f"--minibatch-size and at most --total-timesteps")
    if args.norm_adv and batch_size < 2:  # one advantage has no std
        raise UserError("--norm-adv needs a batch (--num-envs x --num-steps) of at least 2")
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
