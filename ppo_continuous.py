"""PPO for continuous actions (Schulman et al. 2017, "Proximal Policy Optimization Algorithms").

One file, read top to bottom. First the algorithm, in its order:
    Args -> environments -> normalization -> agent -> rollout -> GAE -> losses -> update -> training loop
then, under the RUN MANAGEMENT banner, what keeps a run safe and is not needed to learn PPO:
    data parallelism (torchrun) -> run set-up and resume -> logging -> checkpoints -> evaluation -> input checks
    -> signals -> main() and the CLI

    python ppo_continuous.py                                        # HalfCheetah-v4, 1M steps
    python ppo_continuous.py --env-id Walker2d-v4 --no-value-clip   # any Box-action gymnasium env
    python ppo_continuous.py --env-id Humanoid-v4 --no-value-clip   # the users' command (README, Results)
    python ppo_continuous.py --num-envs 8 --num-steps 256 --minibatch-size 64 --update-epochs 10 \
        --learning-rate 3e-4 --lr-schedule linear --log-std-init 0 --no-scale-actions  # the course's recipe
    python ppo_continuous.py --save-model                           # writes runs/<run>/checkpoint.pt
    python ppo_continuous.py --eval-checkpoint runs/<run>/checkpoint.pt --eval-episodes 10
    python ppo_continuous.py --resume runs/<run>/checkpoint.pt      # continue an interrupted run
    torchrun --standalone --nproc_per_node 2 ppo_continuous.py      # one run, data-parallel over 2 processes
    tensorboard --logdir runs

The defaults (16 envs x 256 steps, 10 epochs of 512-sample minibatches, lr 3e-4 adapted to a KL of 0.02,
initial log-std -1 in actions scaled to [-1, 1]) are the one setting that trained best across the five MuJoCo
tasks in the README's screen (benchmark/ppo_screen.sh); no setting depends on the env. The course's recipe,
above, was the defaults before that screen.

Gymnasium 1.x correctness: vector envs run in SAME_STEP autoreset mode, so the step that ends an
episode returns the first observation of the next one and no reward-0 "reset transition" is ever
stored; truncated episodes (time limits) bootstrap from the critic's value of the true final
observation, terminated ones from 0.
"""

import copy
import difflib
import glob
import importlib
import math
import os
import random
import re
import signal
import sys
import threading
import time
import warnings
from collections import deque
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, NamedTuple, NoReturn, Optional

import gymnasium as gym
import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import tyro
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from torch.utils.tensorboard import SummaryWriter


@dataclass
class Args:
    # --- experiment ---
    exp_name: str = "ppo_continuous"
    """name of the experiment, part of the default run name"""
    run_name: Optional[str] = None
    """the run directory under runs/ (default: <env-id>__<exp-name>__<seed>__<unix time>)"""
    seed: int = 1
    """seed of python, numpy, torch and the environments"""
    torch_deterministic: bool = True
    """use deterministic torch algorithms (two CPU runs with the same seed give identical losses)"""
    cuda: bool = True
    """use a GPU when one is available (falls back to CPU, and says so)"""
    torch_threads: int = 1
    """CPU threads for torch; 1 is fastest for these small networks on a few cores (0: torch's default)"""
    capture_video: bool = False
    """record videos of env 0 into videos/<run> (needs moviepy and a rendering backend)"""
    track: bool = False
    """send the run to Weights & Biases (needs wandb): its scalars, hyperparameters and, with --capture-video,
    videos, under the TensorBoard run's name; WANDB_MODE=offline keeps it on disk"""
    wandb_project_name: str = "ppo-trpo-single-file"
    """W&B project of --track"""
    wandb_entity: Optional[str] = None
    """W&B entity (user or team) of --track; default: your default entity"""
    save_model: bool = False
    """write a checkpoint to runs/<run>/checkpoint.pt at the end of training"""
    checkpoint_every: int = 0
    """also write that checkpoint every N iterations (0: only at the end with --save-model, and on Ctrl-C)"""
    resume: Optional[str] = None
    """continue training from this checkpoint, in the same run directory and TensorBoard run"""
    eval_checkpoint: Optional[str] = None
    """do not train: evaluate this checkpoint with the deterministic action (Agent.deterministic_action)"""
    eval_episodes: int = 10
    """number of episodes for --eval-checkpoint"""

    # --- environment ---
    env_id: str = "HalfCheetah-v4"
    """gymnasium id of an environment with a Box action space (Humanoid-v4: see the README for its flags)"""
    total_timesteps: int = 1_000_000
    """total environment steps, summed over all envs"""
    num_envs: int = 16
    """number of parallel environments (gymnasium SyncVectorEnv); under torchrun the total over all ranks,
    each rank stepping num_envs / N of them"""
    num_steps: int = 256
    """steps per environment per rollout; the batch is num_envs * num_steps"""

    # --- advantages ---
    gamma: float = 0.99
    """discount factor gamma"""
    gae_lambda: float = 0.95
    """GAE lambda"""
    norm_adv: bool = True
    """normalize advantages per minibatch to mean 0, std 1"""

    # --- PPO: the optimiser ---
    learning_rate: float = 3e-4
    """Adam learning rate (the initial one, with --lr-schedule linear or adaptive)"""
    lr_schedule: Literal["linear", "constant", "adaptive"] = "adaptive"
    """linear: anneal to 0 over training; constant; adaptive: after each update, divide by 1.5 when the batch
    KL after the update exceeds 2 x --adaptive-lr-target-kl, multiply by 1.5 when it is below half of it"""
    adaptive_lr_target_kl: float = 0.02
    """target KL(pi_old || pi_new) per update of --lr-schedule adaptive"""
    adaptive_lr_max: float = 1e-2
    """upper bound of the learning rate under --lr-schedule adaptive (the lower bound is 1e-6)"""
    adaptive_lr_undo_ratio: float = 10.0
    """under --lr-schedule adaptive, undo an update whose KL after it exceeds this multiple of
    --adaptive-lr-target-kl and redo it on the same batch at lr / 1.5 (update_within_kl_bound; 0: never undo)"""
    update_epochs: int = 10
    """passes over the batch per iteration (minibatches are reshuffled every epoch)"""
    minibatch_size: int = 512
    """samples per gradient step; must divide the batch (under torchrun: the global minibatch, minibatch_size
    / N samples from each rank)"""
    grad_clip: bool = True
    """clip the global gradient norm to --max-grad-norm"""
    max_grad_norm: float = 0.5
    """maximum global gradient norm (with --grad-clip)"""
    target_kl: Optional[float] = None
    """stop the epochs of an iteration early once a minibatch's approx KL, measured before its gradient step,
    exceeds this (off by default)"""

    # --- PPO: the objective ---
    objective: Literal["clip", "kl-penalty"] = "clip"
    """policy objective: the clipped surrogate, or the adaptive KL penalty of the PPO paper (section 4)"""
    clip_eps: float = 0.2
    """clipping range epsilon of the surrogate (and of the value function, with --value-clip)"""
    value_clip: bool = True
    """clip the value function update around the old values, as in the OpenAI baselines"""
    value_coef: float = 0.5
    """coefficient c1 of the value loss"""
    entropy_coef: float = 0.0
    """coefficient c2 of the entropy bonus"""
    anneal_entropy: bool = False
    """anneal the entropy coefficient linearly to 0 over training"""
    kl_penalty_target: float = 0.01
    """target KL d_targ of --objective kl-penalty"""
    kl_penalty_beta: float = 1.0
    """initial penalty coefficient beta of --objective kl-penalty"""

    # --- normalization and episode ends ---
    norm_obs: bool = True
    """normalize observations by a running mean/var shared by all envs (clipped to +-10)"""
    norm_reward: bool = True
    """scale rewards by the running std of the discounted return (clipped to +-10)"""
    bootstrap_truncated: bool = True
    """bootstrap truncated episodes from V(final observation); off: treat truncation as termination"""

    # --- network ---
    hidden_sizes: tuple[int, ...] = (256, 256)
    """hidden layer sizes of the actor and of the critic MLPs"""
    log_std_init: float = -1.0
    """initial log standard deviation of the Gaussian policy"""
    scale_actions: bool = True
    """the policy acts in [-1, 1] per action dimension, mapped linearly onto the env's bounds, so --log-std-init
    is relative to each dimension's half range; an env bounded by -1 and 1 is unchanged (scale_action_space)"""


# ------------------------------------------------------------------------------------------------
# Environments
# ------------------------------------------------------------------------------------------------
def make_env(env_id: str, video_dir: Optional[str] = None, scale_actions: bool = False):
    """A thunk creating one environment; with video_dir, the env records videos there; with scale_actions,
    its actions are scaled to [-1, 1] (scale_action_space)."""

    def thunk():
        if video_dir is None:
            env = gym.make(env_id)
        else:
            env = gym.make(env_id, render_mode="rgb_array")
            env = gym.wrappers.RecordVideo(env, video_dir, disable_logger=True)
        return scale_action_space(env) if scale_actions else env

    return thunk


def unscale_action(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """--scale-actions: the env's action for a policy action u in [-1, 1]^n (per action dimension)
        a = c + h * u,   c = (high + low) / 2,   h = (high - low) / 2,
    so u = -1 and u = 1 are the env's bounds, and a Gaussian policy's std in u is a fraction of h.
    Where low = -1 and high = 1 it is the identity, exactly."""
    return ((high + low) / 2 + (high - low) / 2 * u).astype(low.dtype)


def scale_action_space(env: gym.Env) -> gym.Env:
    """--scale-actions: env as seen by a policy acting in [-1, 1]^n, its actions mapped by unscale_action.
    An env whose bounds are already -1 and 1 is returned as it is."""
    low, high = env.action_space.low, env.action_space.high
    if np.all(low == -1) and np.all(high == 1):
        return env
    space = gym.spaces.Box(-1.0, 1.0, low.shape, env.action_space.dtype)
    return gym.wrappers.TransformAction(env, lambda u: unscale_action(u, low, high), space)


def make_vector_env(env_id: str, num_envs: int, video_dir: Optional[str] = None,
                    scale_actions: bool = False) -> gym.vector.VectorEnv:
    """num_envs copies of env_id (make_env) in SAME_STEP autoreset mode, with episode statistics.

    SAME_STEP: the step that ends an episode returns the reset observation, and the true final
    observation is in info["final_obs"]. The default NEXT_STEP mode would instead spend the next
    step on a reset whose (obs, reward 0) transition is not a real one.
    """
    envs = gym.vector.SyncVectorEnv(
        [make_env(env_id, video_dir if i == 0 else None, scale_actions) for i in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    return gym.wrappers.vector.RecordEpisodeStatistics(envs)  # info["episode"] on the done step


def env_action(action: np.ndarray, action_space: gym.spaces.Space) -> np.ndarray:
    """The action the env receives for a sampled (or deterministic) action: clipped to the env's bounds
    (with --scale-actions, the scaled env's [-1, 1]). The unclipped sample is what the rollout stores and
    the update scores."""
    return np.clip(action, action_space.low, action_space.high)


# ------------------------------------------------------------------------------------------------
# Normalization
# ------------------------------------------------------------------------------------------------
class RunningMeanStd(nn.Module):
    """Running mean and variance of a stream of batches (Chan et al. parallel update).

    For a batch with mean m_b, variance v_b and size n_b, with w = n_b / (count + n_b) and d = m_b - mean:
        mean  <- (1 - w) * mean + w * m_b
        var   <- (1 - w) * var + w * v_b + w * (1 - w) * d^2
        count <- count + n_b
    mean and var are buffers and count a Python float (so w costs no tensor op in the rollout loop);
    all three are in the state dict of the module that owns them. Under torchrun each rank updates them
    with its own envs' data during a rollout, and sync() merges the ranks' data after it.
    """

    def __init__(self, shape=()):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("var", torch.ones(shape))
        self.count = 1e-4
        self.synced = None  # (count, mean, var) that every rank held at the last sync (data parallelism)

    def update(self, batch: torch.Tensor) -> None:
        if self.synced is None and dist.is_initialized():
            self.synced = (self.count, self.mean.clone(), self.var.clone())
        batch_var, batch_mean = torch.var_mean(batch, 0, correction=0)
        w = batch.shape[0] / (self.count + batch.shape[0])
        delta = batch_mean - self.mean
        self.var.lerp_(batch_var, w).addcmul_(delta, delta, value=w * (1.0 - w))
        self.mean.lerp_(batch_mean, w)
        self.count += batch.shape[0]

    def sync(self) -> None:
        """Data parallelism: merge the data every rank added since the last sync, so that all ranks hold the
        statistics of the union. From the common state (n0, m0, v0) and each rank's (n_r, m_r, v_r), with
        d_r = m_r - m0 and sums over ranks:
            n = n0 + sum (n_r - n0),   S1 = sum n_r d_r,   S2 = n0 v0 + sum [ n_r (v_r + d_r^2) - n0 v0 ]
            mean = m0 + S1 / n,   var = S2 / n - (S1 / n)^2
        (the first and second moments about m0 of the union). Nothing to do in a single process."""
        if self.synced is None:
            return
        n0, m0, v0 = self.synced
        d = (self.mean - m0).double().reshape(-1)
        v0 = v0.double().reshape(-1)
        sums = torch.cat([d.new_tensor([self.count - n0]), self.count * d,
                          self.count * (self.var.double().reshape(-1) + d * d) - n0 * v0])
        dist.all_reduce(sums)
        n, s1, s2 = n0 + sums[0].item(), sums[1:1 + d.numel()], sums[1 + d.numel():] + n0 * v0
        self.mean.copy_((m0.double().reshape(-1) + s1 / n).view_as(self.mean))
        self.var.copy_((s2 / n - (s1 / n).square()).clamp_min(0.0).view_as(self.var))
        self.count, self.synced = n, None

    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor(self.count, dtype=torch.float64)

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.count, self.synced = state.item(), None


class RewardScaler(nn.Module):
    """Divides rewards by the running std of the discounted return R_t = gamma * R_{t-1} + r_t.

    The return restarts at 0 in each env whose episode ended. Scaled rewards are clipped to +-clip.
    """

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0):
        super().__init__()
        self.gamma, self.clip = gamma, clip
        self.return_rms = RunningMeanStd()
        self.register_buffer("discounted_return", torch.zeros(num_envs))

    def forward(self, rewards: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        self.discounted_return.mul_(self.gamma).add_(rewards)
        self.return_rms.update(self.discounted_return)
        self.discounted_return.mul_(1.0 - dones)
        return (rewards / torch.sqrt(self.return_rms.var + 1e-8)).clamp(-self.clip, self.clip)


# ------------------------------------------------------------------------------------------------
# Agent: separate actor and critic MLPs, Gaussian policy with a state-independent log-std
# ------------------------------------------------------------------------------------------------
def layer_init(layer: nn.Linear, gain: float) -> nn.Linear:
    """Orthogonal weights with the given gain, zero bias."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(in_dim: int, hidden_sizes: tuple[int, ...], out_dim: int, out_gain: float) -> nn.Sequential:
    """Tanh MLP; hidden layers initialised with gain sqrt(2), the output layer with out_gain."""
    layers, last = [], in_dim
    for size in hidden_sizes:
        layers += [layer_init(nn.Linear(last, size), math.sqrt(2)), nn.Tanh()]
        last = size
    layers.append(layer_init(nn.Linear(last, out_dim), out_gain))
    return nn.Sequential(*layers)


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """log N(a | mu, sigma^2), summed over action dimensions:
        log pi(a|s) = sum_i [ -(a_i - mu_i)^2 / (2 sigma_i^2) - log sigma_i - log(2 pi) / 2 ]
    Computed directly: building torch.distributions objects in the hot loop costs more than the math.
    """
    z = (action - mean) * torch.exp(-log_std)
    return (-0.5 * z.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """Entropy of a diagonal Gaussian, summed over action dimensions: H = sum_i [ log sigma_i + (1 + log 2 pi) / 2 ]."""
    return (log_std + 0.5 * (1.0 + math.log(2 * math.pi))).sum(-1)


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: tuple[int, ...], log_std_init: float,
                 norm_obs: bool):
        super().__init__()
        self.norm_obs = norm_obs
        self.obs_rms = RunningMeanStd((obs_dim,))  # part of the state dict: checkpoints evaluate correctly
        self.critic = mlp(obs_dim, hidden_sizes, 1, out_gain=1.0)
        self.actor_mean = mlp(obs_dim, hidden_sizes, act_dim, out_gain=0.01)
        self.actor_log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))

    def normalize(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """(obs - mean) / sqrt(var + 1e-8), clipped to +-10; with update, first add obs to the statistics."""
        if not self.norm_obs:
            return obs
        if update:
            self.obs_rms.update(obs)
        return ((obs - self.obs_rms.mean) / torch.sqrt(self.obs_rms.var + 1e-8)).clamp(-10.0, 10.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def policy(self, obs: torch.Tensor):
        """The parameters of pi(.|s) = N(mu(s), sigma^2): mu(s) and the state-independent log sigma."""
        return self.actor_mean(obs), self.actor_log_std

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """Sample a ~ N(mu(s), sigma^2); its log-prob and V(s) come after the rollout, batched."""
        mean, log_std = self.policy(obs)
        return mean + torch.exp(log_std) * torch.randn_like(mean)

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor):
        """log pi(a|s), entropy of pi(.|s) and V(s) under the current parameters."""
        mean, log_std = self.policy(obs)
        return gaussian_log_prob(mean, log_std, actions), gaussian_entropy(log_std), self.value(obs)

    def deterministic_action(self, obs: torch.Tensor) -> torch.Tensor:
        """The action evaluation takes: the mean mu(s) (the env then clips it to its bounds)."""
        return self.policy(obs)[0]


def build_agent(args: Args, envs: gym.vector.VectorEnv, device: torch.device) -> Agent:
    """The agent for the envs' observation and action sizes."""
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    act_dim = int(np.prod(envs.single_action_space.shape))
    return Agent(obs_dim, act_dim, args.hidden_sizes, args.log_std_init, args.norm_obs).to(device)


# ------------------------------------------------------------------------------------------------
# Rollout: num_steps steps in each of num_envs envs with the current policy
# ------------------------------------------------------------------------------------------------
class Rollout:
    """Storage for one rollout, allocated once on the training device; every field is [num_steps, num_envs, ...].

    obs holds the (normalized) observations the policy acted on. next_values[t] is what step t bootstraps
    from, as compute_gae expects: V(s_{t+1}) where no episode ended at t, V(true final observation)
    where the episode was truncated at t, and 0 where it terminated at t.
    """

    def __init__(self, num_steps: int, num_envs: int, obs_shape: tuple, action_shape: tuple, device: torch.device):
        self.obs = torch.zeros((num_steps, num_envs) + obs_shape, device=device)
        self.actions = torch.zeros((num_steps, num_envs) + action_shape, device=device)
        self.log_probs = torch.zeros((num_steps, num_envs), device=device)
        self.rewards = torch.zeros_like(self.log_probs)
        self.values = torch.zeros_like(self.log_probs)
        self.next_values = torch.zeros_like(self.log_probs)
        self.terminations = torch.zeros_like(self.log_probs)
        self.dones = torch.zeros_like(self.log_probs)

    def batch(self, advantages: torch.Tensor, returns: torch.Tensor) -> dict:
        """The rollout and its advantages as one flat batch of num_steps * num_envs samples."""
        return {"obs": self.obs.flatten(0, 1), "actions": self.actions.flatten(0, 1),
                "log_probs": self.log_probs.flatten(), "advantages": advantages.flatten(),
                "returns": returns.flatten(), "values": self.values.flatten()}


class RolloutResult(NamedTuple):
    next_obs: torch.Tensor  # the (normalized) observation the next rollout starts from
    episodes: list  # (step index, return, length) of every episode that ended during the rollout
    env_seconds: float  # time spent inside envs.step
    complete: bool  # False when a stop request cut the rollout short (its data is then not used)


@torch.inference_mode()
def collect_rollout(agent: Agent, envs: gym.vector.VectorEnv, rollout: Rollout, next_obs: torch.Tensor,
                    reward_scaler: Optional[RewardScaler], bootstrap_truncated: bool, stop=None) -> RolloutResult:
    """Fill rollout with the current policy, starting from next_obs (normalized). stop: an object whose
    .requested becomes true to cut the rollout short after the current env step (StopRequest, below)."""
    device = rollout.obs.device
    num_steps = rollout.obs.shape[0]
    space = envs.single_action_space
    episodes, env_seconds = [], 0.0
    rollout.next_values.zero_()  # 0 stays where an episode terminated: there is nothing to bootstrap from

    def to_tensor(array):
        return torch.as_tensor(array, dtype=torch.float32, device=device)

    for step in range(num_steps):
        rollout.obs[step] = next_obs
        action = agent.act(next_obs)
        rollout.actions[step] = action
        env_start = time.perf_counter()
        next_obs_np, reward, terminated, truncated, info = envs.step(env_action(action.cpu().numpy(), space))
        env_seconds += time.perf_counter() - env_start
        done = terminated | truncated
        # Without truncation bootstrapping, a time limit counts as a termination (as many implementations do).
        rollout.terminations[step].copy_(torch.from_numpy(terminated if bootstrap_truncated else done))
        rollout.dones[step].copy_(torch.from_numpy(done))
        reward = to_tensor(reward)
        rollout.rewards[step] = reward if reward_scaler is None else reward_scaler(reward, rollout.dones[step])
        next_obs = agent.normalize(to_tensor(next_obs_np), update=True)
        if bootstrap_truncated and (truncated & ~terminated).any():
            # SAME_STEP autoreset: next_obs is already the next episode's first observation; the
            # truncated episode's true last observation is in info["final_obs"].
            index = np.flatnonzero(truncated & ~terminated)
            final_obs = agent.normalize(to_tensor(np.stack(info["final_obs"][index])))
            rollout.next_values[step, torch.as_tensor(index, device=device)] = agent.value(final_obs)
        if "episode" in info:
            for i in np.flatnonzero(info["_episode"]):
                episodes.append((step, float(info["episode"]["r"][i]), int(info["episode"]["l"][i])))
        if stop is not None and stop.requested:
            return RolloutResult(next_obs, episodes, env_seconds, complete=False)
    # The policy did not change during the rollout, so log pi_old(a_t|s_t) and V(s_t) of all steps come
    # from one batched forward pass rather than num_steps small ones.
    log_probs, _, values = agent.evaluate_actions(rollout.obs.flatten(0, 1), rollout.actions.flatten(0, 1))
    rollout.log_probs.copy_(log_probs.view_as(rollout.log_probs))
    rollout.values.copy_(values.view_as(rollout.values))
    # Where no episode ended at t, the next state's value is V(s_{t+1}).
    following_values = torch.cat([rollout.values[1:], agent.value(next_obs).unsqueeze(0)])
    rollout.next_values.copy_(torch.where(rollout.dones.bool(), rollout.next_values, following_values))
    agent.obs_rms.sync()  # under torchrun: every rank now holds the statistics of all ranks' observations
    if reward_scaler is not None:
        reward_scaler.return_rms.sync()
    return RolloutResult(next_obs, episodes, env_seconds, complete=True)


# ------------------------------------------------------------------------------------------------
# Generalized advantage estimation (Schulman et al. 2016)
# ------------------------------------------------------------------------------------------------
def compute_gae(rewards, values, next_values, terminations, dones, gamma, gae_lambda):
    """GAE over a rollout; every input is a float tensor of shape [T, N] (steps x envs).

        delta_t = r_t + gamma * (1 - term_t) * V(s_{t+1}) - V(s_t)
        A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1},    A_T = 0
        returns = A + V

    next_values[t] is V of the state that followed step t: V(s_{t+1}) within an episode, V(true final
    observation) where the episode was truncated at t; where it terminated, term_t = 1 cuts the
    bootstrap whatever next_values holds (collect_rollout leaves 0 there). done_t (terminated or
    truncated) stops the recursion at episode ends.
    """
    deltas = rewards + gamma * (1.0 - terminations) * next_values - values
    advantages = torch.zeros_like(rewards)
    next_advantage = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        next_advantage = deltas[t] + gamma * gae_lambda * (1.0 - dones[t]) * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


# ------------------------------------------------------------------------------------------------
# Losses
# ------------------------------------------------------------------------------------------------
def value_loss(values, old_values, returns, clip_eps, value_clip):
    """L^V = 0.5 * mean( max( (V - G)^2, (V_clip - G)^2 ) ),  V_clip = V_old + clip(V - V_old, -eps, eps);
    without value_clip, L^V = 0.5 * mean( (V - G)^2 )."""
    unclipped = (values - returns).square()
    if not value_clip:
        return 0.5 * unclipped.mean()
    clipped = old_values + (values - old_values).clamp(-clip_eps, clip_eps)
    return 0.5 * torch.max(unclipped, (clipped - returns).square()).mean()


def kl_estimates(log_ratio: torch.Tensor):
    """Two sample estimates of KL(pi_old || pi) from log r = log pi(a|s) - log pi_old(a|s), a ~ pi_old:
    mean(-log r) (unbiased, high variance, can be negative) and mean((r - 1) - log r) (unbiased, >= 0)."""
    return (-log_ratio).mean(), (log_ratio.exp() - 1.0 - log_ratio).mean()


def total_loss(policy_loss, v_loss, entropy, log_ratio, clip_eps, value_coef, entropy_coef):
    """loss = policy_loss + c1 L^V - c2 mean(H), and the info dict of floats that both objectives report."""
    entropy_mean = entropy.mean()
    loss = policy_loss + value_coef * v_loss - entropy_coef * entropy_mean
    with torch.no_grad():
        old_approx_kl, approx_kl = kl_estimates(log_ratio)
        clipfrac = ((log_ratio.exp() - 1.0).abs() > clip_eps).float().mean()
    info = {"loss": loss.item(), "policy_loss": policy_loss.item(), "value_loss": v_loss.item(),
            "entropy": entropy_mean.item(), "approx_kl": approx_kl.item(),
            "old_approx_kl": old_approx_kl.item(), "clipfrac": clipfrac.item()}
    return loss, info


def ppo_loss(new_log_probs, old_log_probs, advantages, values, old_values, returns, entropy,
             clip_eps=0.2, value_coef=0.5, entropy_coef=0.0, value_clip=True):
    """The PPO-Clip loss to minimise (PPO paper, eq. 7 and 9):

        r      = pi(a|s) / pi_old(a|s) = exp(log pi - log pi_old)
        L^CLIP = mean( min( r A, clip(r, 1 - eps, 1 + eps) A ) )
        loss   = -L^CLIP + c1 L^V - c2 mean(H)

    with L^V from value_loss. Returns (loss, info); info holds floats: loss, policy_loss (= -L^CLIP),
    value_loss, entropy, approx_kl ((r - 1) - log r) and old_approx_kl (-log r) of this minibatch
    before its gradient step, and clipfrac (fraction of samples with |r - 1| > eps).
    """
    log_ratio = new_log_probs - old_log_probs
    ratio = log_ratio.exp()
    policy_loss = -torch.min(ratio * advantages, ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * advantages).mean()
    v_loss = value_loss(values, old_values, returns, clip_eps, value_clip)
    return total_loss(policy_loss, v_loss, entropy, log_ratio, clip_eps, value_coef, entropy_coef)


def kl_penalty_loss(new_log_probs, old_log_probs, advantages, values, old_values, returns, entropy,
                    beta, clip_eps=0.2, value_coef=0.5, entropy_coef=0.0, value_clip=True):
    """The adaptive-KL-penalty loss to minimise (PPO paper, eq. 8):

        L^KLPEN = mean( r A - beta * KL_i ),   KL_i = (r - 1) - log r
        loss    = -L^KLPEN + c1 L^V - c2 mean(H)

    KL_i is the sample estimate of KL(pi_old || pi) at (s, a) with a ~ pi_old: its mean and the mean of
    its gradient are those of the exact KL. clip_eps is used only by the value clipping. Returns
    (loss, info) with the same keys as ppo_loss (clipfrac is still measured, not used).
    """
    log_ratio = new_log_probs - old_log_probs
    ratio = log_ratio.exp()
    kl = ratio - 1.0 - log_ratio
    policy_loss = -(ratio * advantages - beta * kl).mean()
    v_loss = value_loss(values, old_values, returns, clip_eps, value_clip)
    return total_loss(policy_loss, v_loss, entropy, log_ratio, clip_eps, value_coef, entropy_coef)


def explained_variance(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    """1 - Var(G - V) / Var(G): 1 is a perfect critic, 0 no better than a constant (nan if Var(G) = 0).
    Under torchrun, over every rank's batch."""
    if dist.is_initialized():
        var = global_moments(torch.stack([targets, targets - predictions]), dim=1)[1]
        return float("nan") if var[0] == 0 else (1.0 - var[1] / var[0]).item()
    var_targets = targets.var()
    return float("nan") if var_targets == 0 else (1.0 - (targets - predictions).var() / var_targets).item()


# ------------------------------------------------------------------------------------------------
# Update: update_epochs passes over the batch in shuffled minibatches, then d = KL(pi_old || pi_new)
# ------------------------------------------------------------------------------------------------
def ppo_update(agent: Agent, optimizer: torch.optim.Optimizer, batch: dict, args: Args, entropy_coef: float,
               kl_penalty_beta: float) -> dict:
    """Minimise the chosen loss over the flattened batch (keys obs, actions, log_probs, advantages,
    returns, values). Returns the loss statistics averaged over all minibatch steps taken, the mean
    gradient norm (before clipping), the number of epochs run (fewer when --target-kl stops early), and
    kl: d = KL(pi_old || pi_new) of the whole batch after the update, mean((r - 1) - log r).

    Under torchrun (data parallelism, below) each rank holds its own envs' batch: a minibatch takes
    minibatch_size / N samples from each rank, its advantages are normalized with the statistics of all N
    parts, each step follows the gradient averaged over the ranks, --target-kl compares the averaged KL,
    and the returned statistics are averages over ranks, so every rank takes the same steps."""
    batch_size, ranks = batch["obs"].shape[0], world_size()
    minibatch_size = args.minibatch_size // ranks
    if args.objective == "clip":
        loss_fn, objective_args = ppo_loss, {}
    else:
        loss_fn, objective_args = kl_penalty_loss, {"beta": kl_penalty_beta}
    coefficients = dict(clip_eps=args.clip_eps, value_coef=args.value_coef, entropy_coef=entropy_coef,
                        value_clip=args.value_clip, **objective_args)
    params = optimizer.param_groups[0]["params"]
    max_norm = args.max_grad_norm if args.grad_clip else math.inf  # inf: measure the norm, clip nothing
    totals, num_updates, kl_exceeded = {}, 0, False
    grad_norm_total = torch.zeros((), device=batch["obs"].device)
    for epoch in range(args.update_epochs):
        minibatches = torch.randperm(batch_size, device=batch["obs"].device).view(-1, minibatch_size)
        if args.norm_adv and ranks > 1:  # mean and std of each global minibatch's advantages, one collective
            adv_means, adv_vars = global_moments(batch["advantages"][minibatches], dim=1, correction=1)
        for k, index in enumerate(minibatches):
            new_log_probs, entropy, new_values = agent.evaluate_actions(batch["obs"][index], batch["actions"][index])
            advantages = batch["advantages"][index]
            if args.norm_adv and ranks > 1:
                advantages = (advantages - adv_means[k]) / (adv_vars[k].sqrt() + 1e-8)
            elif args.norm_adv:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            loss, info = loss_fn(new_log_probs=new_log_probs, old_log_probs=batch["log_probs"][index],
                                 advantages=advantages, values=new_values, old_values=batch["values"][index],
                                 returns=batch["returns"][index], entropy=entropy, **coefficients)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            info["loss"], info["approx_kl"] = average_gradients(params, info["loss"], info["approx_kl"])
            if not math.isfinite(info["loss"]):
                raise FloatingPointError(f"non-finite loss ({info['loss']}) in epoch {epoch}")
            grad_norm_total += nn.utils.clip_grad_norm_(params, max_norm, foreach=True)
            optimizer.step()
            num_updates += 1
            for key, value in info.items():
                totals[key] = totals.get(key, 0.0) + value
            kl_exceeded = args.target_kl is not None and info["approx_kl"] > args.target_kl
            if kl_exceeded:
                break
        if kl_exceeded:
            break
    # d: how far the whole update moved the policy, on the whole batch in one forward pass.
    with torch.no_grad():
        new_log_probs, _, _ = agent.evaluate_actions(batch["obs"], batch["actions"])
        _, kl = kl_estimates(new_log_probs - batch["log_probs"])
    stats = {key: value / num_updates for key, value in totals.items()}
    stats = average_over_ranks({**stats, "kl": kl.item()})
    return {**stats, "grad_norm": grad_norm_total.item() / num_updates, "epochs": epoch + 1}


def update_kl_beta(beta: float, kl: float, kl_penalty_target: float) -> float:
    """The PPO paper's rule (section 4) after each policy update, with d = KL(pi_old || pi_new) after it:
    beta <- beta / 2 if d < d_targ / 1.5;  beta <- beta * 2 if d > d_targ * 1.5;  else unchanged."""
    if kl < kl_penalty_target / 1.5:
        return beta / 2.0
    if kl > kl_penalty_target * 1.5:
        return beta * 2.0
    return beta


def scheduled_learning_rate(args: Args, progress: float, adapted_lr: float) -> float:
    """The learning rate of an iteration, with progress = (iteration - 1) / iterations in [0, 1):
    linear: lr_0 * (1 - progress); constant: lr_0; adaptive: the rate adapt_learning_rate set after the
    previous update (lr_0 at the start)."""
    if args.lr_schedule == "linear":
        return args.learning_rate * (1.0 - progress)
    return args.learning_rate if args.lr_schedule == "constant" else adapted_lr


ADAPTIVE_LR_MIN = 1e-6  # lower bound of the adaptive learning rate


def adapt_learning_rate(lr: float, kl: float, target_kl: float, lr_min: float = ADAPTIVE_LR_MIN,
                        lr_max: float = 1e-2) -> float:
    """rl_games' adaptive schedule after each update, with d = KL(pi_old || pi_new) after it:
    lr <- lr / 1.5 if d > 2 d_targ;  lr <- lr * 1.5 if d < d_targ / 2;  else unchanged;  kept in [lr_min, lr_max].
    The step size then follows the KL the update produces, whatever the training budget."""
    if kl > 2.0 * target_kl:
        return max(lr / 1.5, lr_min)
    if kl < 0.5 * target_kl:
        return min(lr * 1.5, lr_max)
    return lr


def update_within_kl_bound(agent: Agent, optimizer: torch.optim.Optimizer, batch: dict, args: Args, lr: float,
                           entropy_coef: float, kl_penalty_beta: float) -> tuple[dict, float, int]:
    """ppo_update at the rate lr, with the adaptive schedule's guard against a runaway update: with
    rho = --adaptive-lr-undo-ratio, an update after which
        d = KL(pi_old || pi_new) > rho * d_targ
    is undone (parameters and Adam's moments restored to those before it) and redone on the same batch at
    lr / 1.5, until d <= rho * d_targ or lr reaches its lower bound. adapt_learning_rate alone lowers the
    rate by 1.5 per iteration, after the fact: a rate that climbed on a plateau (README, PPO screen stage 10:
    Hopper, 26 x lr_0) can take one update with d = 80 and several more before it is back down. Runs that
    never exceed the bound are unchanged. Returns the stats of the update kept, its rate and the number undone."""
    bound = args.adaptive_lr_undo_ratio * args.adaptive_lr_target_kl
    guarded = args.lr_schedule == "adaptive" and bound > 0
    before = (copy.deepcopy(agent.state_dict()), copy.deepcopy(optimizer.state_dict())) if guarded else None
    undone = 0
    while True:
        stats = ppo_update(agent, optimizer, batch, args, entropy_coef, kl_penalty_beta)
        if not guarded or stats["kl"] <= bound or lr <= ADAPTIVE_LR_MIN:
            return stats, lr, undone
        agent.load_state_dict(before[0])
        optimizer.load_state_dict(before[1])  # also restores the group's old rate: set the new one after it
        lr, undone = max(lr / 1.5, ADAPTIVE_LR_MIN), undone + 1
        for group in optimizer.param_groups:
            group["lr"] = lr


# ------------------------------------------------------------------------------------------------
# Training loop
# ------------------------------------------------------------------------------------------------
def train(run: "Run") -> None:
    """Iterations of rollout -> advantages -> update, from run.iteration on. run (start_run, below) holds
    the args, envs, agent, optimizer, reward scaler, rollout storage and logs, and what a checkpoint
    restores: the iteration, the adaptive learning rate and the KL penalty's beta."""
    args, agent, optimizer = run.args, run.agent, run.optimizer
    for iteration in range(run.iteration + 1, run.num_iterations + 1):
        # Schedules: linear ones go from their initial value at the first iteration towards 0 after the last.
        progress = (iteration - 1) / run.num_iterations
        lr = scheduled_learning_rate(args, progress, run.adapted_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        entropy_coef = args.entropy_coef * (1.0 - progress) if args.anneal_entropy else args.entropy_coef

        # 1. Rollout
        with run.timed("rollout"):
            rollout = collect_rollout(agent, run.envs, run.rollout, run.next_obs,
                                      run.reward_scaler if args.norm_reward else None, args.bootstrap_truncated,
                                      run.stop if world_size() == 1 else None)  # ranks stop together, below
        if not rollout.complete:
            break  # interrupted: the partial rollout is dropped; the checkpoint holds the last full iteration
        run.next_obs = rollout.next_obs

        # 2. Advantages (no_grad, not inference_mode: the update's autograd graph takes them as inputs)
        with run.timed("gae"), torch.no_grad():
            advantages, returns = compute_gae(run.rollout.rewards, run.rollout.values, run.rollout.next_values,
                                              run.rollout.terminations, run.rollout.dones, args.gamma, args.gae_lambda)

        # 3. Update, then adapt beta and the learning rate to d = KL(pi_old || pi_new) after it
        with run.timed("update"):
            batch = run.rollout.batch(advantages, returns)
            stats, lr, undone = update_within_kl_bound(agent, optimizer, batch, args, lr, entropy_coef,
                                                       run.kl_penalty_beta)
            if args.objective == "kl-penalty":
                run.kl_penalty_beta = update_kl_beta(run.kl_penalty_beta, stats["kl"], args.kl_penalty_target)
            if args.lr_schedule == "adaptive":
                run.adapted_lr = adapt_learning_rate(lr, stats["kl"], args.adaptive_lr_target_kl,
                                                     lr_max=args.adaptive_lr_max)
        run.iteration = iteration

        # 4. Log and checkpoint
        log_iteration(run, rollout, batch, stats, {"charts/learning_rate": lr, "charts/entropy_coef": entropy_coef,
                                                   "charts/updates_undone": undone})
        if args.checkpoint_every and iteration % args.checkpoint_every == 0:
            write_checkpoint(run)
        if run.stop.agreed():
            break


# ================================================================================================
# RUN MANAGEMENT: everything below keeps a run safe, resumable and observable (data parallelism, set-up and resume,
# logging, checkpoints, evaluation, input checks, signals, the command line), not the algorithm.
# ================================================================================================

# Fields that manage a run rather than define it: --resume may change these, and nothing else.
RUN_MANAGEMENT_FIELDS = {"cuda", "torch_threads", "capture_video", "save_model", "checkpoint_every",
                         "resume", "eval_checkpoint", "eval_episodes", "track", "wandb_project_name", "wandb_entity"}


# ------------------------------------------------------------------------------------------------
# Data parallelism: under torchrun, N processes (ranks) train one run, each stepping num_envs / N envs
# ------------------------------------------------------------------------------------------------
def init_distributed(cuda: bool) -> torch.device:
    """The training device. Under torchrun (WORLD_SIZE > 1), first join the process group: NCCL and
    cuda:LOCAL_RANK where every rank on the machine has a GPU of its own, else gloo on CPU (and says so when
    GPUs exist); ranks other than 0 then print nothing on stdout (rank 0 writes the console line,
    TensorBoard and checkpoints). A plain python run starts no process group."""
    use_cuda = cuda and torch.cuda.is_available()
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return torch.device("cuda" if use_cuda else "cpu")
    local_rank, ranks_here = int(os.environ["LOCAL_RANK"]), int(os.environ["LOCAL_WORLD_SIZE"])
    gpus = torch.cuda.device_count() if use_cuda else 0
    use_cuda = use_cuda and ranks_here <= gpus  # NCCL takes a GPU of its own for each rank
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    if dist.get_rank() != 0:
        sys.stdout = open(os.devnull, "w")
    if gpus and not use_cuda:
        plural = "s" if gpus > 1 else ""
        print(f"{ranks_here} processes on this machine but {gpus} GPU{plural} (NCCL needs one per process): "
              f"running on CPU (gloo); --nproc_per_node {gpus} trains on the GPU{plural}")
    return torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")


def world_size() -> int:
    """N, the number of ranks (1 in a plain python run)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def average_gradients(params: list, *values: float) -> list:
    """Each parameter's gradient <- its mean over the ranks: the gradient of the global minibatch, whose
    parts hold the same number of samples on every rank. values (floats) are averaged in the same
    all-reduce. In a single process nothing changes."""
    if not dist.is_initialized():
        return list(values)
    grads = [p.grad for p in params]
    flat = mean_over_ranks(torch.cat([g.reshape(-1) for g in grads] + [grads[0].new_tensor(values)]))
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()
    return flat[offset:].tolist()


def mean_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """tensor, replaced in place by its mean over the ranks (unchanged in a single process)."""
    if dist.is_initialized():
        dist.all_reduce(tensor)
        tensor /= dist.get_world_size()
    return tensor


def average_over_ranks(values: dict) -> dict:
    """The mean over ranks of each float in values (the same keys on every rank)."""
    if not dist.is_initialized():
        return values
    flat = torch.tensor(list(values.values()), dtype=torch.float64, device=device_of_collectives())
    return dict(zip(values, mean_over_ranks(flat).tolist()))


def global_moments(x: torch.Tensor, dim: int = 0, correction: int = 0):
    """(mean, variance) along dim of the union of every rank's x (the same size on every rank), from one
    all-reduce of the sums over n values in all: mean = sum x / n, var = (sum x^2 - n mean^2) / (n - correction).
    In a single process: torch.var_mean."""
    if not dist.is_initialized():
        var, mean = torch.var_mean(x, dim, correction=correction)
        return mean, var
    x64 = x.double()
    sums = torch.stack([x64.sum(dim), x64.square().sum(dim)])
    dist.all_reduce(sums)
    n = x.shape[dim] * dist.get_world_size()
    mean = sums[0] / n
    return mean.to(x.dtype), ((sums[1] - n * mean.square()) / (n - correction)).clamp_min(0.0).to(x.dtype)


def gather_lists(items: list) -> list:
    """The concatenation of every rank's list, in rank order (items in a single process)."""
    if not dist.is_initialized():
        return items
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, items)
    return [item for part in gathered for item in part]


def device_of_collectives() -> torch.device:
    """Where tensors for a collective live: the rank's GPU under NCCL, the CPU under gloo."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def on_rank_zero(fn, *args, share: bool = False):
    """fn(*args) on rank 0 alone (file-system work: the run directory, checkpoints). A UserError or RunFault
    it raises is raised on every rank, so that all ranks stop together. share: every rank gets fn's result
    (pickled), else the others get None. In a single process: fn(*args)."""
    if not dist.is_initialized():
        return fn(*args)
    box = [None]
    if dist.get_rank() == 0:
        try:
            result = fn(*args)
            box = [("ok", result if share else None)]
        except (UserError, RunFault) as e:
            box = [(type(e), str(e))]
    dist.broadcast_object_list(box, src=0)
    outcome, value = box[0]
    if outcome != "ok":
        raise outcome(value)
    return result if dist.get_rank() == 0 else value


class UserError(Exception):
    """A problem with the user's input: reported as one line, exit status 2."""


class RunFault(Exception):
    """A fault of the machine, not of the input (a full disk, an unwritable directory): one line, exit status 1."""


@dataclass
class Run:
    """Everything a training run holds; iteration, adapted_lr and kl_penalty_beta are what a checkpoint
    restores besides the modules."""
    args: Args
    run_name: str
    run_dir: str
    envs: gym.vector.VectorEnv
    agent: Agent
    optimizer: torch.optim.Optimizer
    reward_scaler: RewardScaler
    rollout: Rollout
    writer: SummaryWriter
    stop: "StopRequest"
    tracker: Optional["Tracker"] = None
    next_obs: Optional[torch.Tensor] = None
    num_iterations: int = 0
    iteration: int = 0  # the last iteration whose update is done
    adapted_lr: float = 0.0
    kl_penalty_beta: float = 0.0
    start_iteration: int = 0
    start_time: float = 0.0
    seconds: dict = field(default_factory=dict)
    recent_returns: Any = field(default_factory=lambda: deque(maxlen=20))

    @property
    def batch_size(self) -> int:
        return self.args.num_envs * self.args.num_steps  # samples per iteration

    @property
    def checkpoint_path(self) -> str:
        return os.path.join(self.run_dir, "checkpoint.pt")

    @contextmanager
    def timed(self, phase: str):
        """Time the block into seconds[phase] (logged as time/<phase>_seconds)."""
        start = time.perf_counter()
        yield
        self.seconds[phase] = time.perf_counter() - start


def start_run(args: Args, device: torch.device, given: set) -> Optional[Run]:
    """Seed everything, build the envs, agent, optimizer and logs, and restore a checkpoint with --resume
    (given: the Args fields typed on the command line). None: the run to resume is already finished.

    The order of the random draws (seeding, agent weights, env resets) is part of what makes two runs
    with the same seed identical: change it and every run's numbers change."""
    checkpoint = None
    if args.resume is not None:
        checkpoint = on_rank_zero(load_checkpoint, args.resume, device, share=True)  # rank 0 reads, all get it
        args = resolve_resume(args, checkpoint, given)
        saved_ranks = checkpoint.get("world_size", 1)  # absent from checkpoints written before torchrun support
        if saved_ranks != world_size():
            raise UserError(f"{args.resume} was written by a run of {saved_ranks} process(es) and this one has "
                            f"{world_size()}: resume with as many (torchrun --nproc_per_node {saved_ranks}; "
                            f"plain python for 1)")
        run_name = checkpoint["run_name"]
        batch_size, done = args.num_envs * args.num_steps, checkpoint["iteration"]
        if done >= args.total_timesteps // batch_size:
            print(f"{run_name} is finished (step {done * batch_size} of {args.total_timesteps}): nothing to resume")
            return None
    else:
        run_name = args.run_name or f"{args.env_id}__{args.exp_name}__{args.seed}__{int(time.time())}"
    run_dir, purge_step = on_rank_zero(claim_run_dir, run_name, args, checkpoint, share=True)
    check_env(args.env_id, args.scale_actions)  # the run's env: the checkpoint's when resuming
    video_dir = f"videos/{run_name}" if args.capture_video and rank() == 0 else None
    tracker = on_rank_zero(Tracker, args, run_name, video_dir) if args.track else None  # before the writer
    writer = on_rank_zero(open_writer, run_dir, purge_step, args, checkpoint is None)  # None on other ranks

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(args.torch_deterministic)

    if args.capture_video:
        check_video_support(args.env_id)
    num_envs = args.num_envs // world_size()  # this rank's envs: the global envs rank * num_envs, ... (seeds too)
    envs = make_vector_env(args.env_id, num_envs, video_dir, args.scale_actions)
    agent = build_agent(args, envs, device)  # the same weights on every rank: the same seed so far
    if rank() > 0:  # from here on, each rank draws its own actions and minibatches
        seed_rank(args.seed, rank())
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5, fused=True)
    reward_scaler = RewardScaler(num_envs, args.gamma).to(device)
    run = Run(args, run_name, run_dir, envs, agent, optimizer, reward_scaler,
              Rollout(args.num_steps, num_envs, envs.single_observation_space.shape,
                      envs.single_action_space.shape, device),
              writer, StopRequest(), tracker, adapted_lr=args.learning_rate,
              kl_penalty_beta=args.kl_penalty_beta)
    run.num_iterations = args.total_timesteps // run.batch_size
    if checkpoint is None:
        next_obs_np, _ = envs.reset(seed=args.seed + rank() * num_envs)
    else:
        restore_checkpoint(run, checkpoint)
        print(f"resuming {run_name} at step {run.iteration * run.batch_size}")
        # Episodes in progress are not saved: a resumed run starts new ones, drawn from the envs' saved
        # random generators (so they continue the run's stream rather than replay its first episodes).
        next_obs_np, _ = envs.reset()
    with torch.inference_mode():
        run.next_obs = agent.normalize(torch.as_tensor(next_obs_np, dtype=torch.float32, device=device), update=True)
    run.start_iteration, run.start_time = run.iteration, time.time()
    return run


def restore_checkpoint(run: Run, checkpoint: dict) -> None:
    """Restore the modules, the loop's state and this rank's random generators and envs' generators."""
    num_envs = run.rollout.obs.shape[1]
    try:
        run.agent.load_state_dict(checkpoint["agent"])
        run.optimizer.load_state_dict(checkpoint["optimizer"])
        run.reward_scaler.load_state_dict(checkpoint["reward_scaler"])
        run.iteration, run.adapted_lr = checkpoint["iteration"], checkpoint["adapted_lr"]
        run.kl_penalty_beta = checkpoint["kl_penalty_beta"]
        set_rng_states(checkpoint["rank_rng"][rank()] if world_size() > 1 else checkpoint["rng"])
        set_env_rng_states(run.envs, checkpoint["env_rng"][rank() * num_envs:(rank() + 1) * num_envs])
    except (KeyError, IndexError, RuntimeError, TypeError, ValueError) as e:
        raise UserError(f"{run.args.resume} cannot be restored ({type(e).__name__}: {e})".splitlines()[0]) from None
    # Episodes in progress are not saved: the resumed run starts new ones, whose discounted returns start at 0.
    run.reward_scaler.discounted_return.zero_()


def open_writer(run_dir: str, purge_step: Optional[int], args: Args, fresh: bool) -> SummaryWriter:
    """The run directory's TensorBoard writer; a fresh run's first record is its hyperparameters."""
    try:
        os.makedirs(run_dir, exist_ok=True)
        writer = SummaryWriter(run_dir, purge_step=purge_step)
    except OSError as e:
        raise RunFault(f"cannot write to {run_dir}: {e.strerror or e}") from None
    if fresh:
        writer.add_text("hyperparameters", "|param|value|\n|-|-|\n"
                        + "\n".join(f"|{k}|{v}|" for k, v in asdict(args).items()))
    return writer


def seed_rank(seed: int, rank: int) -> None:
    """Seed python, numpy and torch of a rank > 0 with a stream of its own, derived from (seed, rank)."""
    rank_seed = int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])
    random.seed(rank_seed)
    np.random.seed(rank_seed)
    torch.manual_seed(rank_seed)


def claim_run_dir(run_name: str, args: Args, checkpoint: Optional[dict]):
    """runs/<run_name> and the purge step of its new event file. A fresh run never writes into a directory
    that holds another run's events or checkpoint; a resumed run never goes behind a newer checkpoint of
    its own, and when the directory holds TensorBoard points logged after the checkpoint (the run was
    killed between two checkpoints), TensorBoard is told to drop them (purge_step), and the user is told."""
    if os.path.isabs(run_name) or os.path.normpath(run_name).split(os.sep)[0] in ("..", "."):
        raise UserError(f"--run-name {run_name!r} must be a relative name that stays inside runs/")
    run_dir = os.path.join("runs", run_name)
    checkpoint_path = os.path.join(run_dir, "checkpoint.pt")
    event_files = glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))
    if checkpoint is None:
        if event_files or os.path.exists(checkpoint_path):
            raise UserError(f"{run_dir} already holds a run; continue it with --resume {checkpoint_path}, "
                            f"or choose another --run-name")
        return run_dir, None
    step = checkpoint["iteration"] * args.num_envs * args.num_steps
    if os.path.isfile(checkpoint_path) and not os.path.samefile(checkpoint_path, args.resume):
        newer = load_checkpoint(checkpoint_path, torch.device("cpu"))["iteration"] * args.num_envs * args.num_steps
        if newer > step:
            raise UserError(f"{checkpoint_path} is at step {newer}, beyond this checkpoint's step {step}; resuming "
                            f"from this one would overwrite it: resume from {checkpoint_path}")
    logged = max((event.step for path in event_files for event in EventFileLoader(path).Load()), default=0)
    if logged <= step:
        return run_dir, None
    print(f"note: {run_dir} holds TensorBoard points up to step {logged}, logged after this checkpoint (step "
          f"{step}); TensorBoard drops those after step {step} (purge_step) as this run logs them anew")
    return run_dir, step + 1


def log_iteration(run: Run, rollout: RolloutResult, batch: dict, stats: dict, schedules: dict) -> None:
    """TensorBoard scalars of the iteration just completed, its episodes, and the console line."""
    batch_size, iteration, writer = run.batch_size, run.iteration, run.writer
    global_step = iteration * batch_size
    episodes = sorted(gather_lists(rollout.episodes))  # every rank's episodes (data parallelism)
    explained = explained_variance(batch["values"], batch["returns"])
    if writer is None:  # ranks other than 0 log nothing
        return
    for step, episode_return, episode_length in episodes:
        episode_end = (iteration - 1) * batch_size + (step + 1) * run.args.num_envs
        writer.add_scalar("charts/episodic_return", episode_return, episode_end)
        writer.add_scalar("charts/episodic_length", episode_length, episode_end)
        run.recent_returns.append(episode_return)
    sps = int((iteration - run.start_iteration) * batch_size / (time.time() - run.start_time))
    scalars = {
        **schedules, "charts/SPS": sps,
        "charts/policy_std": run.agent.actor_log_std.exp().mean().item(), "charts/update_epochs": stats["epochs"],
        "time/rollout_seconds": run.seconds["rollout"], "time/env_seconds": rollout.env_seconds,
        "time/gae_seconds": run.seconds["gae"], "time/update_seconds": run.seconds["update"],
        "losses/explained_variance": explained,
        # kl: KL(pi_old || pi_new) of the whole batch after the update; minibatch_*: the mean over minibatch
        # steps of each minibatch's estimate before its step (what --target-kl compares)
        "losses/kl": stats["kl"], "losses/minibatch_approx_kl": stats["approx_kl"],
        "losses/minibatch_old_approx_kl": stats["old_approx_kl"],
        **{f"losses/{key}": stats[key] for key in ("policy_loss", "value_loss", "entropy", "clipfrac", "grad_norm")},
    }
    if run.args.objective == "kl-penalty":
        scalars["losses/kl_penalty_beta"] = run.kl_penalty_beta
    for tag, value in scalars.items():
        writer.add_scalar(tag, value, global_step)
    eta_minutes = (run.num_iterations - iteration) * batch_size / max(sps, 1) / 60
    mean_return = f"{np.mean(run.recent_returns):9.1f}" if run.recent_returns else "        -"
    print(f"step {global_step:>9}/{run.num_iterations * batch_size} | SPS {sps:>6} | return {mean_return} "
          f"(last {len(run.recent_returns)} episodes) | ETA {eta_minutes:5.1f} min", flush=True)
    if run.tracker is not None:
        run.tracker.upload_videos()


class Tracker:
    """--track: the run in Weights & Biases, under its TensorBoard name. The scalars reach W&B through
    sync_tensorboard (TensorBoard stays the record), the Args as the run's config, and the videos of
    --capture-video as they are written. A resumed run continues the same W&B run (its id is the run name)."""

    def __init__(self, args: Args, run_name: str, video_dir: Optional[str]):
        try:
            import wandb
        except ImportError:
            raise UserError("--track needs wandb, an optional dependency: pip install wandb") from None
        self.wandb, self.video_dir, self.uploaded = wandb, video_dir, set()
        wandb.init(project=args.wandb_project_name, entity=args.wandb_entity, name=run_name,
                   id=re.sub(r"[^A-Za-z0-9_-]", "-", run_name), resume="allow", config=asdict(args),
                   sync_tensorboard=True)

    def upload_videos(self) -> None:
        """Log each video file written since the last call (gymnasium writes one when an episode ends)."""
        if self.video_dir is None or not os.path.isdir(self.video_dir):
            return
        for name in sorted(set(os.listdir(self.video_dir)) - self.uploaded):
            if name.endswith(".mp4"):
                self.uploaded.add(name)
                self.wandb.log({"videos": self.wandb.Video(os.path.join(self.video_dir, name), format="mp4")})

    def finish(self) -> None:
        self.upload_videos()
        self.wandb.finish()


# ------------------------------------------------------------------------------------------------
# Checkpoints
# ------------------------------------------------------------------------------------------------
CHECKPOINT_FORMAT = "ppo_continuous/3"


# What write_checkpoint writes, all of which a checkpoint must hold.
CHECKPOINT_KEYS = ("run_name", "args", "iteration", "agent", "optimizer", "reward_scaler", "adapted_lr",
                   "kl_penalty_beta", "rng", "env_rng")


def write_checkpoint(run: Run) -> None:
    """The run's state after run.iteration: enough to resume it exactly (episodes in progress aside). Under
    torchrun, rank 0 writes it with every rank's random generators (rank_rng) and envs' generators (env_rng,
    in global env order); the modules and the loop's state are the same on every rank."""
    rank_rng, env_rng = gather_lists([rng_states()]), gather_lists(env_rng_states(run.envs))
    on_rank_zero(lambda: save_checkpoint(
        run.checkpoint_path, run_name=run.run_name, args=asdict(run.args), iteration=run.iteration,
        agent=run.agent.state_dict(), optimizer=run.optimizer.state_dict(),
        reward_scaler=run.reward_scaler.state_dict(), adapted_lr=run.adapted_lr, kl_penalty_beta=run.kl_penalty_beta,
        rng=rank_rng[0], env_rng=env_rng, world_size=world_size(),
        **({"rank_rng": rank_rng} if world_size() > 1 else {})))


def rng_states() -> dict:
    np_state = np.random.get_state()
    return {"python": random.getstate(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:])}


def set_rng_states(states: dict) -> None:
    """Restore rng_states(). Generator states must be CPU tensors, wherever map_location put them."""
    random.setstate(states["python"])
    torch.set_rng_state(states["torch"].cpu())
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([state.cpu() for state in states["cuda"]])
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, keys.cpu().numpy().astype(np.uint32), *rest))


def env_rng_states(envs: gym.vector.VectorEnv) -> list:
    """The random generator state of each sub-env: what its next reset draws its initial state from."""
    return [env.unwrapped.np_random.bit_generator.state for env in envs.unwrapped.envs]


def set_env_rng_states(envs: gym.vector.VectorEnv, states: list) -> None:
    for env, state in zip(envs.unwrapped.envs, states):
        env.unwrapped.np_random.bit_generator.state = state


def save_checkpoint(path: str, **state) -> None:
    """torch.save to a temporary file, fsync, then rename: a crash mid-write keeps the old checkpoint."""
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "wb") as f:
            torch.save({"format": CHECKPOINT_FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)  # a partial file would only fill the disk further
        kept = f"; the previous checkpoint {path} is kept" if os.path.exists(path) else ""
        raise RunFault(f"cannot write the checkpoint: {e.strerror or e}{kept}") from None


def load_checkpoint(path: str, device: torch.device) -> dict:
    """Load a checkpoint onto device (a CUDA checkpoint loads on CPU and vice versa), or raise UserError."""
    if os.path.isdir(path):
        raise UserError(f"{path} is a directory; give the checkpoint file (e.g. {os.path.join(path, 'checkpoint.pt')})")
    if not os.path.isfile(path):
        raise UserError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:
        raise UserError(f"cannot read checkpoint {path}: it is corrupt or not a checkpoint "
                        f"({type(e).__name__})") from None
    tag = str(checkpoint.get("format")) if isinstance(checkpoint, dict) else "none"
    if tag != CHECKPOINT_FORMAT:
        script = tag.split("/")[0]
        scripts = ("ppo_continuous", "ppo_discrete", "trpo_continuous")
        if script != CHECKPOINT_FORMAT.split("/")[0] and script in scripts:
            raise UserError(f"{path} is a checkpoint of {script}.py; use python {script}.py")
        raise UserError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint (its format: {tag})")
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise UserError(f"{path} is incomplete: it lacks {', '.join(missing)}")
    try:
        checkpoint["args"].setdefault("scale_actions", False)  # written before the flag existed: the env's units
        Args(**checkpoint["args"])
    except (TypeError, AttributeError) as e:
        raise UserError(f"{path} holds settings this script does not know ({e})") from None
    return checkpoint


# ------------------------------------------------------------------------------------------------
# Evaluation, and the trained policy for your own code: deterministic actions
# ------------------------------------------------------------------------------------------------
def load_policy(path: str, device: str = "cpu"):
    """The policy a checkpoint holds, as a function for your own code: a batch of raw observations
    (numpy, [batch, obs_dim]) -> the deterministic actions (numpy) in the env's units, as --eval-checkpoint
    sends them, with the run's saved observation normalization applied. For example:

        from <this script's module name> import load_policy
        policy = load_policy("runs/<run>/checkpoint.pt")
        obs, _ = env.reset()
        action = policy(obs[None])[0]
    """
    device = torch.device(device)
    agent, train_args = agent_from_checkpoint(load_checkpoint(path, device), device)
    policy = deterministic_policy(agent)
    if not train_args.scale_actions:
        return policy
    env = gym.make(train_args.env_id)  # a --scale-actions policy acts in [-1, 1]: to the env's units
    low, high = env.action_space.low, env.action_space.high
    env.close()
    return lambda obs: unscale_action(policy(obs), low, high)


def agent_from_checkpoint(checkpoint: dict, device: torch.device):
    """(the trained agent, the run's Args) of a loaded checkpoint; the network's sizes come from its weights."""
    train_args, state = Args(**checkpoint["args"]), checkpoint["agent"]
    try:
        agent = Agent(state["obs_rms.mean"].shape[0], state["actor_log_std"].shape[0], train_args.hidden_sizes,
                      train_args.log_std_init, train_args.norm_obs).to(device)
        agent.load_state_dict(state)
    except (KeyError, IndexError, RuntimeError) as e:
        raise UserError(f"the checkpoint's agent does not load ({type(e).__name__}: {e})".splitlines()[0]) from None
    return agent, train_args


def deterministic_policy(agent: Agent):
    """raw observations (numpy batch) -> agent.deterministic_action of the normalized observations (numpy)."""
    device = next(agent.parameters()).device

    @torch.inference_mode()
    def policy(obs: np.ndarray) -> np.ndarray:
        obs = agent.normalize(torch.as_tensor(obs, dtype=torch.float32, device=device))
        return agent.deterministic_action(obs).cpu().numpy()

    return policy


def evaluate(checkpoint_path: str, episodes: int, device: torch.device, video_dir: Optional[str] = None,
             seed: int = 0) -> list[float]:
    """The returns of `episodes` episodes of the checkpoint's env under its deterministic policy."""
    agent, train_args = agent_from_checkpoint(load_checkpoint(checkpoint_path, device), device)
    policy = deterministic_policy(agent)
    envs = make_vector_env(train_args.env_id, 1, video_dir, train_args.scale_actions)
    returns = []
    obs, _ = envs.reset(seed=seed)
    while len(returns) < episodes:
        obs, _, _, _, info = envs.step(env_action(policy(obs), envs.single_action_space))
        if "episode" in info:
            returns.append(float(info["episode"]["r"][0]))
    envs.close()
    return returns


# ------------------------------------------------------------------------------------------------
# Input checks: one clear line and exit status 2 instead of a traceback
# ------------------------------------------------------------------------------------------------
def check_args(args: Args) -> None:
    """Raise UserError for a flag value that would fail later or train something other than asked."""
    for f in fields(Args):
        value = getattr(args, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"--{f.name.replace('_', '-')} must be a finite number, got {value}")
    if not 0 <= args.seed < 2 ** 32:
        raise UserError(f"--seed must be in [0, 2^32 - 1] (numpy's seed range), got {args.seed}")
    positive = {"total_timesteps": args.total_timesteps, "num_envs": args.num_envs, "num_steps": args.num_steps,
                "minibatch_size": args.minibatch_size, "update_epochs": args.update_epochs,
                "learning_rate": args.learning_rate, "eval_episodes": args.eval_episodes,
                "max_grad_norm": args.max_grad_norm, "kl_penalty_target": args.kl_penalty_target,
                "kl_penalty_beta": args.kl_penalty_beta, "adaptive_lr_target_kl": args.adaptive_lr_target_kl,
                "adaptive_lr_max": args.adaptive_lr_max}
    for name, value in positive.items():
        if not value > 0:
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if not 0 < args.clip_eps < 1:
        raise UserError(f"--clip-eps must be in (0, 1), got {args.clip_eps}")
    for name in ("gamma", "gae_lambda"):
        if not 0 <= getattr(args, name) <= 1:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1], got {getattr(args, name)}")
    for name in ("value_coef", "entropy_coef", "checkpoint_every", "torch_threads"):
        if getattr(args, name) < 0:
            raise UserError(f"--{name.replace('_', '-')} must not be negative, got {getattr(args, name)}")
    if args.target_kl is not None and not args.target_kl > 0:
        raise UserError(f"--target-kl must be positive, got {args.target_kl}")
    if args.adaptive_lr_undo_ratio != 0 and not args.adaptive_lr_undo_ratio > 2:
        raise UserError(f"--adaptive-lr-undo-ratio must be 0 (never undo) or above 2 (the band the schedule keeps "
                        f"the KL in), got {args.adaptive_lr_undo_ratio}")
    if args.lr_schedule == "adaptive" and args.adaptive_lr_max < args.learning_rate:
        raise UserError(f"--adaptive-lr-max {args.adaptive_lr_max} is below the initial --learning-rate "
                        f"{args.learning_rate}")
    if not args.hidden_sizes or min(args.hidden_sizes) <= 0:
        raise UserError(f"--hidden-sizes must be positive integers, got {args.hidden_sizes}")
    batch_size = args.num_envs * args.num_steps
    if batch_size % args.minibatch_size:
        raise UserError(f"the batch (--num-envs {args.num_envs} x --num-steps {args.num_steps} = {batch_size}) "
                        f"is not divisible by --minibatch-size {args.minibatch_size}")
    if args.total_timesteps < batch_size:
        raise UserError(f"--total-timesteps {args.total_timesteps} is less than one batch ({batch_size} steps)")
    ranks = world_size()
    for name in ("num_envs", "minibatch_size"):
        if getattr(args, name) % ranks:
            raise UserError(f"--{name.replace('_', '-')} {getattr(args, name)} is not divisible by the {ranks} "
                            f"processes of torchrun (each takes an equal share)")


def check_env(env_id: str, scale_actions: bool = False) -> None:
    """Raise UserError unless env_id is a registered env with Box observations and Box actions (with
    scale_actions, finite action bounds)."""
    module, _, registered_id = env_id.rpartition(":")
    if module:  # "module:EnvName-v0": importing the module registers the env (gymnasium's convention)
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise UserError(f"cannot import {module!r} for --env-id {env_id}: {e}") from None
    if registered_id not in gym.registry:
        close = difflib.get_close_matches(registered_id, list(gym.registry), n=3, cutoff=0.5)
        raise UserError(f"unknown env id {env_id!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    try:
        env = gym.make(env_id)
    except Exception as e:
        raise UserError(f"cannot create {env_id}: {type(e).__name__}: {e}".splitlines()[0]) from None
    action_space, observation_space = env.action_space, env.observation_space
    env.close()
    if isinstance(observation_space, gym.spaces.Box) and len(observation_space.shape) != 1:
        raise UserError(f"{env_id} has observations of shape {observation_space.shape}; these scripts' networks are "
                        f"MLPs and need flat vector observations")
    if isinstance(action_space, gym.spaces.Discrete):
        raise UserError(f"{env_id} has a discrete action space; use ppo_discrete.py")
    if not isinstance(action_space, gym.spaces.Box) or not isinstance(observation_space, gym.spaces.Box):
        raise UserError(f"{env_id} needs Box observation and action spaces, has {observation_space} and {action_space}")
    if scale_actions and not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise UserError(f"--scale-actions needs finite action bounds; {env_id}'s are {action_space.low} to "
                        f"{action_space.high}")


def check_video_support(env_id: str) -> None:
    """--capture-video needs moviepy and a working renderer; say which is missing instead of failing later.
    Without a display, MuJoCo renders through EGL and pygame (classic-control envs) to an off-screen
    surface, unless MUJOCO_GL / SDL_VIDEODRIVER say otherwise; pygame's greeting is not printed."""
    if "DISPLAY" not in os.environ:
        os.environ.setdefault("MUJOCO_GL", "egl")
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import moviepy  # noqa: F401
    except ImportError:
        raise UserError("--capture-video needs moviepy: pip install moviepy") from None
    try:
        env = gym.make(env_id, render_mode="rgb_array")
        env.reset(seed=0)
        env.render()
        env.close()
    except Exception as e:
        raise UserError(f"--capture-video: rendering {env_id} failed ({type(e).__name__}: {e}); MuJoCo envs "
                        f"need a GL backend (MUJOCO_GL=egl without a display), classic-control envs pygame"
                        .splitlines()[0]) from None


def resolve_resume(args: Args, checkpoint: dict, given: set) -> Args:
    """The checkpoint's settings, with the run-management flags typed on this command line (given).

    A setting that defines the run (env id, network, hyperparameters) and was typed here must equal the
    checkpoint's, whatever its value, or the resumed run would not be the same run: refused, never dropped.
    """
    saved = Args(**checkpoint["args"])
    if "run_name" in given and args.run_name != checkpoint["run_name"]:
        raise UserError(f"--run-name {args.run_name} differs from the checkpoint's run {checkpoint['run_name']}; "
                        f"a resumed run continues in its own directory")
    for name in sorted(given - RUN_MANAGEMENT_FIELDS - {"run_name"}):
        given_value, before = getattr(args, name), getattr(saved, name)
        if given_value != before:
            raise UserError(f"--{name.replace('_', '-')} {given_value} differs from the checkpoint's {before}; "
                            f"a resumed run keeps the settings it was started with")
    return replace(saved, **{name: getattr(args, name) for name in given & RUN_MANAGEMENT_FIELDS})


def given_flags(argv: list) -> set:
    """The Args fields named on a command line: --name, --name=value or --no-name."""
    names, given = {f.name for f in fields(Args)}, set()
    for token in argv:
        if token.startswith("--"):
            name = token[2:].split("=", 1)[0].replace("-", "_")
            name = name[3:] if name not in names and name.startswith("no_") else name
            if name in names:
                given.add(name)
    return given


# ------------------------------------------------------------------------------------------------
# Signals: Ctrl-C / SIGTERM stop the run cleanly, with a checkpoint
# ------------------------------------------------------------------------------------------------
class StopRequest:
    """SIGINT/SIGTERM: the first one asks the loop to stop after the current env step (a checkpoint is
    written, TensorBoard flushed); a second one exits at once. Under torchrun (which passes a signal it
    gets on to every rank) the ranks stop together after the current iteration (agreed)."""

    def __init__(self):
        self.signum = None
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def handle(self, signum, frame):
        if self.signum is not None:
            print("\nsecond interrupt: exiting now", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        self.signum = signum
        if rank() == 0:
            print(f"\n{signal.Signals(signum).name}: stopping after this "
                  f"{'iteration' if dist.is_initialized() else 'env step'} (again to exit at once)",
                  file=sys.stderr, flush=True)

    def agreed(self) -> Optional[int]:
        """The signal to stop for, or None. In a single process: the one that came. Under torchrun: one that
        came to any rank before this call, decided by one all-reduce, so that every rank gets the same
        answer (a signal that comes during the call counts at the next one)."""
        if not dist.is_initialized():
            return self.signum
        signum = torch.tensor([self.signum or 0], device=device_of_collectives())
        dist.all_reduce(signum, op=dist.ReduceOp.MAX)
        return int(signum.item()) or None


# ------------------------------------------------------------------------------------------------
# main() and the command line
# ------------------------------------------------------------------------------------------------
def quiet_known_warnings() -> None:
    """Silence two known, harmless library notices, and nothing else: gymnasium's deprecation notice for
    the v4 MuJoCo envs (used on purpose: the published results this project compares with are v4; the
    README says so), and MuJoCo's "compiler attribute 'settotalmass' is deprecated" warning on the v4
    model files, once per env. MuJoCo's other warnings still print, on one line each."""
    warnings.filterwarnings("ignore", message=r".*The environment \S+-v4 is out of date", category=DeprecationWarning)

    def mujoco_warning(message: str) -> None:
        if "'settotalmass' is deprecated" not in message:
            print(f"MuJoCo warning: {message}", file=sys.stderr, flush=True)

    try:
        import mujoco
    except Exception:  # no MuJoCo, or one that cannot load (a bad MUJOCO_GL): nothing to quiet; making a
        return  # MuJoCo env then fails with one line that says why (check_env)
    mujoco.set_mju_user_warning(mujoco_warning)


def main(args: Args, given: Optional[set] = None) -> int:
    """Evaluate a checkpoint, or train (train() above) and save; returns the exit status. given: the Args
    fields typed on the command line (default: those whose value differs from the default)."""
    if given is None:
        given = {f.name for f in fields(Args) if getattr(args, f.name) != getattr(Args(), f.name)}
    quiet_known_warnings()
    threading.excepthook = quiet_writer_thread
    device = init_distributed(args.cuda)
    check_args(args)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if args.cuda and not torch.cuda.is_available():
        print("CUDA is not available: running on CPU")

    if args.eval_checkpoint is not None:
        if args.capture_video:
            check_video_support(Args(**load_checkpoint(args.eval_checkpoint, device)["args"]).env_id)
        returns = evaluate(args.eval_checkpoint, args.eval_episodes, device,
                           "videos/eval" if args.capture_video else None, seed=args.seed)
        print(f"evaluated {args.eval_checkpoint}: {len(returns)} episodes, "
              f"return {np.mean(returns):.1f} +- {np.std(returns):.1f}")
        return 0

    run = start_run(args, device, given)
    if run is None:
        return 0
    try:
        try:
            train(run)
        finally:
            if run.writer is not None:  # rank 0's only under torchrun
                run.writer.close()  # flushes the event file, also on an error
    except FloatingPointError as e:  # under torchrun, on every rank at the same step (the loss is averaged)
        if rank() == 0:
            print(f"error: {e} of iteration {run.iteration + 1}: stopping (logs in {run.run_dir}{kept(run)})",
                  file=sys.stderr)
        return 1
    except OSError as e:  # TensorBoard's event file: a full disk, say
        raise RunFault(f"cannot write the logs in {run.run_dir}: {e.strerror or e}{kept(run)}") from None

    stopped_by = run.stop.agreed()
    if stopped_by or run.args.save_model:
        write_checkpoint(run)
    run.envs.close()  # also writes the video of an episode in progress
    if run.tracker is not None:
        run.tracker.finish()
    script = os.path.basename(__file__)
    if stopped_by:
        launcher = "python" if world_size() == 1 else f"torchrun --nproc_per_node {world_size()}"
        if rank() == 0:
            print(f"interrupted: checkpoint of step {run.iteration * run.batch_size} written to "
                  f"{run.checkpoint_path}\nresume with: {launcher} {script} --resume {run.checkpoint_path}",
                  file=sys.stderr)
        return 128 + stopped_by
    if run.args.save_model:
        print(f"model saved to {run.checkpoint_path}; evaluate with: "
              f"python {script} --eval-checkpoint {run.checkpoint_path}")
    return 0


def kept(run: Run) -> str:
    return f"; the last checkpoint {run.checkpoint_path} is kept" if os.path.exists(run.checkpoint_path) else ""


def quiet_writer_thread(hook_args) -> None:
    """TensorBoard's writer thread hands a failed write (a full disk) to the main thread, which reports it
    in one line, then re-raises it: print no second traceback for that. Other thread errors print."""
    if not (isinstance(hook_args.exc_value, OSError) and type(hook_args.thread).__name__ == "_AsyncWriterThread"):
        threading.__excepthook__(hook_args)


PEER_LOST = ("Connection closed by peer", "Connection reset by peer")  # gloo's words when another rank is gone


def exit_process(code: int, leave_group: bool = True) -> NoReturn:
    """Exit with status code. Under torchrun: leave the process group first (unless its peers are gone), flush
    stdout and stderr, and end the process without the interpreter's shutdown (os._exit). Gloo's worker threads
    may still be releasing the tensors of the last collective; one that asks for the GIL while Python shuts down
    aborts the process (SIGABRT, "terminate called without an active exception"), and torchrun then reports a
    finished run as failed. By this point the run has closed every file it writes."""
    if not dist.is_initialized():
        sys.exit(code)
    if leave_group:
        dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cli() -> None:
    if int(os.environ.get("RANK", "0")) > 0:  # under torchrun, rank 0 alone reports a command-line error or --help
        with open(os.devnull, "w") as null, redirect_stdout(null), redirect_stderr(null):
            args = tyro.cli(Args)
    else:
        args = tyro.cli(Args)
    try:
        code = main(args, given_flags(sys.argv[1:]))
    except (UserError, RunFault) as e:
        if rank() == 0:  # under torchrun every rank raises the same error: one line is enough
            print(f"error: {e}", file=sys.stderr)
        code = 2 if isinstance(e, UserError) else 1
    except KeyboardInterrupt:  # before training installed its handler (start-up), or during --eval-checkpoint
        print("error: interrupted (Ctrl-C) before training started or during evaluation; nothing was saved",
              file=sys.stderr)
        code = 128 + signal.SIGINT
    except RuntimeError as e:  # under torchrun: another rank stopped (its own error is printed) mid-collective
        if not (dist.is_initialized() and any(lost in str(e) for lost in PEER_LOST)):
            raise
        print(f"error: rank {rank()} stops: another rank has stopped (its error says why)", file=sys.stderr)
        exit_process(1, leave_group=False)  # its peers are gone
    exit_process(code)


if __name__ == "__main__":
    cli()
