"""The algorithm part of each script stands alone: nothing above the RUN MANAGEMENT banner uses a name
defined below it, and train(Args(...)) runs from a user's own code, writing no file.

    python tests/test_library_use.py     # lists, for each script, the names the check finds
"""

import ast
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import ALL_SCRIPTS, ROOT, load  # noqa: E402

BANNER = "# RUN MANAGEMENT"
SMALL_RUN = {"ppo_continuous": "Pendulum-v1", "ppo_discrete": "CartPole-v1", "trpo_continuous": "Pendulum-v1",
             "trpo_discrete": "CartPole-v1"}


def names_used_above_defined_below(name: str) -> list:
    """Module-level names bound below the banner that the code above it reads, as 'line: name'."""
    path = os.path.join(ROOT, f"{name}.py")
    source = open(path).read()
    banner = next(i for i, line in enumerate(source.splitlines(), 1) if line.startswith(BANNER))
    tree = ast.parse(source)
    above = [node for node in tree.body if node.lineno < banner]
    bound_above, bound_below = set(), set()
    for node in tree.body:
        bound = bound_above if node.lineno < banner else bound_below
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in (n for t in targets if t is not None for n in ast.walk(t)):
            if isinstance(target, ast.Name):
                bound.add(target.id)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return sorted({f"{used.lineno}: {used.id}" for node in above for used in ast.walk(node)
                   if isinstance(used, ast.Name) and used.id in bound_below - bound_above})


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_nothing_above_the_banner_uses_a_name_defined_below_it(name):
    assert names_used_above_defined_below(name) == []


def test_the_check_finds_such_a_name(tmp_path, monkeypatch):
    script = tmp_path / "toy.py"
    script.write_text(f"def f():\n    return LATER + 1\n\n\n{BANNER}\nLATER = 2\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    assert names_used_above_defined_below("toy") == ["2: LATER"]


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_train_from_your_own_code_writes_nothing_and_returns_the_agent(name, tmp_path, monkeypatch):
    # As in the README: from <script> import Args, train; agent = train(Args(env_id=..., total_timesteps=8192))
    monkeypatch.chdir(tmp_path)
    module = load(name)
    agent = module.train(module.Args(env_id=SMALL_RUN[name], total_timesteps=8192))
    assert os.listdir(tmp_path) == []  # no runs/, no videos/, no other file
    assert isinstance(agent, module.Agent) and agent.obs_rms.count > 8000  # its statistics came with it
    env = module.make_envs(SMALL_RUN[name], 1)
    obs = torch.as_tensor(env.reset(seed=0)[0], dtype=torch.float32)
    with torch.no_grad():
        action = agent.act(agent.normalize(obs))
    assert env.step(action.numpy())[0].shape == obs.shape  # ready to act


if __name__ == "__main__":
    for script in ALL_SCRIPTS:
        found = names_used_above_defined_below(script)
        print(f"{script}.py: {', '.join(found) if found else 'none'}")
