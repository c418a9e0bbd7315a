"""sb3-contrib's TRPO with RL Zoo's MuJoCo settings, on our protocol, beside trpo_continuous.py.

    python -m venv .venv-peer && . .venv-peer/bin/activate
    pip install torch==2.13.0 -r benchmark/requirements-peer.txt
    python benchmark/peer_trpo.py --env-id Ant-v4 --seed 21 --out runs/peer_trpo
    python benchmark/peer_trpo.py --summarize runs/peer_trpo --table benchmark/results/peer_trpo

The peer lives in its own virtual environment (benchmark/requirements-peer.txt), never in the
scripts' dependencies. Settings: RL Zoo's hyperparams/trpo.yml for the MuJoCo v4 tasks (its
"mujoco-defaults"): VecNormalize on observations and rewards (clip 10, gamma 0.99), 2 envs x 1024
steps, critic minibatch 128, 20 critic epochs at 1e-3, conjugate gradient 25 steps with damping
0.1, gamma 0.99, lambda 0.95, target KL 0.01 (HalfCheetah: 0.04), and SB3's MlpPolicy defaults
(separate tanh 64-64 networks, log-std 0). Each run writes <out>/<env>__<seed>.json with:
- train_return: the mean of the last 20 training episodes' raw returns (the Monitor inside
  VecNormalize), the README's protocol;
- eval_return: the final policy's mean action, 10 episodes, observations normalized by the frozen
  training statistics (RL Zoo's evaluation), on a fresh env seeded seed + 1000.
"""

import argparse
import glob
import json
import os
import platform
import time

import numpy as np

ZOO = dict(n_steps=1024, batch_size=128, gamma=0.99, gae_lambda=0.95, sub_sampling_factor=1,
           cg_max_steps=25, cg_damping=0.1, n_critic_updates=20, learning_rate=1e-3)


def run(env_id: str, seed: int, steps: int, out: str) -> dict:
    import sb3_contrib
    import torch
    from sb3_contrib import TRPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    envs = VecNormalize(make_vec_env(env_id, n_envs=2, seed=seed), gamma=ZOO["gamma"])
    target_kl = 0.04 if env_id.startswith("HalfCheetah") else 0.01
    model = TRPO("MlpPolicy", envs, seed=seed, target_kl=target_kl, verbose=0, **ZOO)
    start = time.time()
    model.learn(total_timesteps=steps)
    returns = [info["r"] for info in model.ep_info_buffer][-20:]
    envs.training, envs.norm_reward = False, False
    eval_envs = VecNormalize(make_vec_env(env_id, n_envs=1, seed=seed + 1000), training=False,
                             norm_reward=False)
    eval_envs.obs_rms = envs.obs_rms
    obs, finished = eval_envs.reset(), []
    while len(finished) < 10:
        obs, _, dones, infos = eval_envs.step(model.predict(obs, deterministic=True)[0])
        finished += [info["episode"]["r"] for info, done in zip(infos, dones) if done]
    result = dict(env_id=env_id, seed=seed, steps=steps, train_return=float(np.mean(returns)),
                  eval_return=float(np.mean(finished)), eval_std=float(np.std(finished)),
                  minutes=(time.time() - start) / 60, target_kl=target_kl, **ZOO,
                  sb3_contrib=sb3_contrib.__version__, machine=platform.processor() or
                  platform.machine(), cores=os.cpu_count())
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"{env_id}__{seed}.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


def summarize(out: str, table: str) -> None:
    rows = [json.load(open(path)) for path in sorted(glob.glob(os.path.join(out, "*.json")))]
    lines = ["# sb3-contrib TRPO, RL Zoo's MuJoCo settings, on this machine", "",
             "Made by benchmark/peer_trpo.py (its docstring has the settings and protocol). "
             f"sb3-contrib {rows[0]['sb3_contrib']}, {rows[0]['steps']:,} steps, v4 tasks.", "",
             "| task | seeds | training return (last 20 episodes), per seed | mean +- std | "
             "mean action, 10 episodes, per seed |", "|---|---|---|---|---|"]
    groups = sorted({(row["env_id"], row["seed"] >= 21) for row in rows})  # selection, result seeds
    for env_id, result_seeds in groups:
        runs = [row for row in rows if (row["env_id"], row["seed"] >= 21) == (env_id, result_seeds)]
        train = [row["train_return"] for row in runs]
        lines.append(f"| {env_id} | {', '.join(str(row['seed']) for row in runs)} | "
                     f"{', '.join(f'{r:.0f}' for r in train)} | "
                     f"{np.mean(train):.0f} +- {np.std(train):.0f} | "
                     f"{', '.join(format(row['eval_return'], '.0f') for row in runs)} |")
    with open(table + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="Ant-v4")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--total-timesteps", type=int, default=1_000_000)
    parser.add_argument("--out", default="runs/peer_trpo")
    parser.add_argument("--summarize", help="a directory of runs: write their table instead")
    parser.add_argument("--table", default="benchmark/results/peer_trpo")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize, args.table)
    else:
        print(json.dumps(run(args.env_id, args.seed, args.total_timesteps, args.out)))


if __name__ == "__main__":
    main()
