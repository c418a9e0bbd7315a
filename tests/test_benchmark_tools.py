"""The benchmark readers (benchmark/summarize.py, benchmark/training_stats.py, benchmark/speed.py's
timing) on event files written here, with expected numbers worked out by hand; and
benchmark/first_losses.py's --base, against a commit of this repository."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmark"))
import first_losses  # noqa: E402
import screen_score  # noqa: E402
import speed  # noqa: E402
import summarize  # noqa: E402
import training_stats  # noqa: E402


def write_run(run_dir, scalars):
    """scalars: {tag: [(step, value) or (step, value, wall_time), ...]}, as TensorBoard events."""
    writer = SummaryWriter(run_dir)
    for tag, points in scalars.items():
        for step, value, *wall_time in points:
            writer.add_scalar(tag, value, step, walltime=wall_time[0] if wall_time else None)
    writer.close()


@pytest.fixture
def sweep(tmp_path):
    """Two seeds of one variant, written by an older version of the scripts that logged the time/*
    scalars; seed 2 stopped before 2000 steps, before logging any."""
    root = tmp_path / "runs" / "toy"
    write_run(str(root / "v__Toy-v0__1"), {
        "losses/approx_kl": [(500, 1.0), (1000, 3.0), (1500, 5.0), (2000, 7.0)],
        "time/rollout_seconds": [(1000, 30.0), (2000, 42.0)],
        "time/gae_seconds": [(1000, 6.0), (2000, 6.0)],
        "time/update_seconds": [(1000, 24.0), (2000, 12.0)],
    })
    write_run(str(root / "v__Toy-v0__2"), {
        "losses/approx_kl": [(500, 2.0, 1000.0), (1000, 4.0, 1000.0)],
    })
    return root


def test_training_minutes_sum_the_phase_times(sweep):
    # Older runs: the time/* scalars, (30 + 6 + 24) + (42 + 6 + 12) = 120 seconds, whatever the
    # events' wall times.
    assert summarize.training_minutes(str(sweep / "v__Toy-v0__1")) == pytest.approx(2.0)
    # No time/* scalars: the events' wall times, here both in the same second.
    assert summarize.training_minutes(str(sweep / "v__Toy-v0__2")) == 0.0


def test_training_minutes_without_time_tags_leave_out_a_pause(tmp_path):
    """A run of the current scripts (no time/* scalars), stopped after its third iteration and
    resumed about an hour later: the gaps between consecutive events count, across tags; the pause
    does not."""
    write_run(str(tmp_path / "run"), {
        "charts/SPS": [(1, 100.0, 1000.0), (2, 100.0, 1030.0), (3, 100.0, 1090.0),
                       (4, 100.0, 5000.0), (5, 100.0, 5030.0)],
        "charts/episodic_return": [(2, 5.0, 1020.0)],
    })
    # gaps 20 + 10 + 60 + (3910: a pause, longer than MAX_GAP_SECONDS) + 30 = 120 seconds
    assert summarize.MAX_GAP_SECONDS < 3910
    assert summarize.training_minutes(str(tmp_path / "run")) == pytest.approx(2.0)


def test_training_sps_comes_from_the_wall_times_of_the_sps_events(tmp_path):
    # The first event ends the warm-up iteration; the 4 after it take 4 x 2048 steps in 8 seconds.
    wall_times = [50.0, 52.0, 53.0, 56.0, 58.0]
    write_run(str(tmp_path / "run"),
              {"charts/SPS": [(2048 * i, 0.0, t) for i, t in enumerate(wall_times, 1)]})
    events = summarize.load_events(str(tmp_path / "run"))["charts/SPS"]
    assert speed.sps_from_events(events, 2048) == pytest.approx(4 * 2048 / 8)
    with pytest.raises(ValueError, match="too few"):
        speed.sps_from_events(events[:1], 2048)


TINY = ["--num-envs", "1", "--num-steps", "64", "--minibatch-size", "64", "--update-epochs", "1",
        "--hidden-sizes", "8"]
in_git = pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, ".git")),
                            reason="--compare checks out commits of this git repository")


def compare_argv(out, *argv):
    return ["speed.py", "--compare", "tiny", "--sides", "HEAD", "WORKTREE", "--repeats", "1",
            "--iterations", "2", "--min-steps", "0", "--out", str(out), *argv]


@pytest.fixture
def temporary(tmp_path, monkeypatch):
    """speed.py's temporary directories (its worktrees among them) made in tmp_path; yields a
    function that lists those still there or still registered with git."""
    monkeypatch.setattr(speed.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setitem(speed.CONFIGS, "tiny", ("ppo_discrete", "CartPole-v1", TINY))
    here = os.path.realpath(tmp_path)
    yield lambda: [line for line in speed.git("worktree", "list").splitlines() if here in line] + [
        path.name for path in tmp_path.iterdir() if path.name.startswith(("speed-", "tmp"))]


@in_git
def test_compare_runs_the_sides_in_turn_and_says_what_it_compared(temporary, tmp_path,
                                                                   monkeypatch):
    """HEAD (from a temporary worktree) against the working tree, each with its own
    OMP_NUM_THREADS, on a tiny config: one run each, old first, 2 timed iterations of 64 steps;
    the file names the commit and the settings, new/old is the runs' ratio, and no worktree is
    left behind."""
    out = tmp_path / "compare"
    monkeypatch.setattr(sys, "argv", compare_argv(out, "--old-env", "OMP_NUM_THREADS=1",
                                                  "--new-env", "OMP_NUM_THREADS=2"))
    assert speed.main() == 0
    assert temporary() == []
    header, *runs = [line.split(",") for line in out.with_suffix(".csv").read_text().splitlines()]
    assert header == ["config", "side", "repeat", "batch", "timed_steps", "env_sps", "train_sps"]
    assert [run[:5] for run in runs] == [["tiny", "old", "1", "64", "128"],
                                         ["tiny", "new", "1", "64", "128"]]
    text = out.with_suffix(".md").read_text()
    head = speed.git("rev-parse", "HEAD")
    assert f"- old: commit {head} (HEAD: " in text and "; OMP_NUM_THREADS=1\n" in text
    assert "- new: the working tree" in text and "; OMP_NUM_THREADS=2\n" in text
    assert "Repeats: 1;" in text and "torch " in text and "gymnasium " in text
    row = next(line for line in text.splitlines() if line.startswith("| tiny |"))
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[1:5] == ["ppo_discrete.py", "CartPole-v1", " ".join(TINY), "128"]
    old, new = (float(run[6]) for run in runs)
    assert float(cells[7]) == pytest.approx(new / old, abs=1e-3)


@in_git
def test_a_failed_compare_run_removes_the_worktree(temporary, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", compare_argv(tmp_path / "c", "--extra", "--no-such-flag"))
    with pytest.raises(RuntimeError, match="no-such-flag"):
        speed.main()
    assert temporary() == []
    assert not (tmp_path / "c.md").exists()


def test_bin_steps_line_up_runs_of_different_lengths(sweep, tmp_path, monkeypatch):
    out = tmp_path / "stats.md"
    monkeypatch.setattr(sys, "argv", ["training_stats.py", str(sweep), "--bin-steps", "1000",
                                      "--tags", "losses/approx_kl", "--out", str(out)])
    assert training_stats.main() == 0
    header, _, row = out.read_text().splitlines()
    assert "| 0-0.001M | 0.001-0.002M | 0.002-0.003M |" in header
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    # [0, 1000): seed 1 has 1.0, seed 2 has 2.0 -> 1.5. [1000, 2000): seed 1 (3 + 5) / 2 = 4,
    # seed 2 has 4 -> 4. [2000, 3000): only seed 1 reached it -> 7. Then min, max and the count
    # over both seeds.
    assert cells == ["Toy-v0", "v (2 seeds)", "losses/approx_kl", "1.5", "4", "7", "1", "7",
                     "6 of 6"]


def test_steps_to_threshold_uses_the_window_mean():
    steps, returns = np.array([10, 20, 30, 40]), np.array([0.0, 10.0, 2.0, 9.0])
    # window 2: means 5, 6, 5.5 at steps 20, 30, 40
    assert summarize.steps_to_threshold(steps, returns, 6.0, 2) == 30
    assert summarize.steps_to_threshold(steps, returns, 6.5, 2) is None


def test_steps_staying_above_is_the_start_of_the_last_stretch_at_or_above():
    steps, returns = np.array([10, 20, 30, 40, 50]), np.array([0.0, 10.0, 2.0, 9.0, 9.0])
    # window 2: means 5, 6, 5.5, 9 at steps 20, 30, 40, 50
    assert summarize.steps_staying_above(steps, returns, 5.5, 2) == 30
    # 6 is first reached at 30, below again at 40
    assert summarize.steps_staying_above(steps, returns, 6.0, 2) == 50
    assert summarize.steps_to_threshold(steps, returns, 6.0, 2) == 30
    assert summarize.steps_staying_above(steps, returns, 4.0, 2) == 20
    assert summarize.steps_staying_above(steps, returns, 10.0, 2) is None


def test_renamed_tags_are_read_under_their_older_name(tmp_path):
    # A run written before the rename logged the per-minibatch KL as losses/approx_kl; a newer one
    # as losses/minibatch_approx_kl. Asking for the new name reads either; a tag logged under both
    # reads the new one.
    write_run(str(tmp_path / "old"), {"losses/approx_kl": [(1, 0.5), (2, 0.25)]})
    write_run(str(tmp_path / "new"),
              {"losses/minibatch_approx_kl": [(1, 0.75)], "losses/approx_kl": [(1, 9.0)]})
    tag = "losses/minibatch_approx_kl"
    steps, values = summarize.read_scalars(str(tmp_path / "old"), [tag])[tag]
    assert steps.tolist() == [1, 2] and values.tolist() == [0.5, 0.25]
    _, values = summarize.read_scalars(str(tmp_path / "new"), [tag])[tag]
    assert values.tolist() == [0.75]
    assert summarize.read_scalars(str(tmp_path / "old"), ["losses/kl"]) == {}


RESULTS_CSV_HEADER = ("variant,env,seed,finished,last_episode_step,final_return_last20,"
                      "steps_to_threshold,steps_staying_above_threshold,training_minutes\n")


def test_earlier_rows_join_the_table_with_their_recorded_values(tmp_path, monkeypatch, capsys):
    """A sweep with one run (seed 2: returns 10, 20, 30) plus an earlier results CSV: its row of the
    variant asked for (renamed to the sweep's variant) joins; another variant's row and the earlier,
    unfinished row of seed 2 (superseded by the run here) stay out. Without matplotlib (as after the
    README's set-up, which does not install it) the table and the CSV are written, and one line
    says what the plot needs."""
    write_run(str(tmp_path / "runs" / "toy" / "v__Toy-v0__2"),
              {"charts/episodic_return": [(100, 10.0), (200, 20.0), (300, 30.0)]})
    (tmp_path / "runs" / "toy" / "v__Toy-v0__2" / "DONE").write_text("")
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(
        RESULTS_CSV_HEADER +
        "old-name,Toy-v0,1,True,250,40.0,,,3.0\n"
        "other,Toy-v0,1,True,250,1000.0,,,3.0\n"
        "old-name,Toy-v0,2,False,150,5.0,,,1.0\n")  # superseded by the finished run of seed 2 here
    out = tmp_path / "table"
    monkeypatch.setattr(sys, "argv", ["summarize.py", str(tmp_path / "runs" / "toy"),
                                      "--out", str(out), "--earlier", f"{earlier}:old-name=v"])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    assert summarize.main() == 0
    row = out.with_suffix(".md").read_text().splitlines()[2]
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    # finals: the earlier seed 1 at 40 and the new seed 2 at mean(10, 20, 30) = 20 -> 30 +- 10
    # (ddof 0); steps: the smaller last step of the two, 250.
    assert cells[:6] == ["Toy-v0", "v", "2", "250", "30.0 +- 10.0", "40, 20"]
    csv_rows = out.with_suffix(".csv").read_text().splitlines()[1:]
    assert [line.split(",")[:3] for line in csv_rows] == [["v", "Toy-v0", "1"],
                                                          ["v", "Toy-v0", "2"]]
    said = capsys.readouterr().out.strip().splitlines()[-1]
    assert said.endswith("no plot: it needs matplotlib (pip install -r benchmark/requirements.txt)")
    assert not out.with_suffix(".png").exists()


def test_with_matplotlib_the_curves_are_plotted(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="the plot needs benchmark/requirements.txt")
    write_run(str(tmp_path / "runs" / "toy" / "v__Toy-v0__1"),
              {"charts/episodic_return": [(100, 1.0), (200, 2.0)]})
    out = tmp_path / "table"
    monkeypatch.setattr(sys, "argv", ["summarize.py", str(tmp_path / "runs" / "toy"),
                                      "--out", str(out)])
    assert summarize.main() == 0
    assert out.with_suffix(".png").stat().st_size > 0


@pytest.mark.parametrize("content,said", [
    (RESULTS_CSV_HEADER, "has no rows of variant 'nope'"),
    ("script,config,env_sps\nppo,B,1.0\n",
     "is not a results CSV of this script with --last 20 (no column variant)"),
])
def test_earlier_rows_that_cannot_be_read_are_one_error_line(content, said, tmp_path, monkeypatch,
                                                              capsys):
    write_run(str(tmp_path / "runs" / "toy" / "v__Toy-v0__1"),
              {"charts/episodic_return": [(100, 1.0)]})
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(content)
    monkeypatch.setattr(sys, "argv", ["summarize.py", str(tmp_path / "runs" / "toy"), "--out",
                                      str(tmp_path / "t"), "--earlier", f"{earlier}:nope"])
    assert summarize.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --earlier:") and err[0].endswith(said)
    assert not (tmp_path / "t.md").exists()


def test_the_interquartile_mean_drops_the_lowest_and_highest_quarter():
    # 5 seeds: floor(5 / 4) = 1 off each end, the mean of 20, 30, 40 by hand = 30
    assert summarize.interquartile_mean([100.0, 20.0, 40.0, 30.0, -500.0]) == 30.0
    # 8 values: 2 off each end -> mean(3, 4, 5, 6) = 4.5; 3 values: the plain mean
    assert summarize.interquartile_mean([1.0, 2, 3, 4, 5, 6, 7, 80]) == 4.5
    assert summarize.interquartile_mean([1.0, 2.0, 6.0]) == 3.0


def worktrees():
    return subprocess.run(["git", "-C", ROOT, "worktree", "list", "--porcelain"],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture
def head_tree(tmp_path):
    """A git worktree of HEAD with this working tree's first_losses.py: its scripts are HEAD's, so
    --base HEAD from there compares a commit with itself, whatever is being edited here."""
    tree = tmp_path / "tree"
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", str(tree), "HEAD"],
                   capture_output=True, check=True)
    for name in ("first_losses.py", "summarize.py"):
        shutil.copy(os.path.join(ROOT, "benchmark", name), tree / "benchmark" / name)
    yield tree
    subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", str(tree)], check=True)


def test_base_runs_the_script_at_the_commit_and_finds_it_identical(head_tree, tmp_path):
    before = worktrees()
    done = subprocess.run([sys.executable, str(head_tree / "benchmark" / "first_losses.py"),
                           "--script", "ppo_discrete.py", "--iterations", "1", "--base", "HEAD",
                           "--", "--total-timesteps", "2048"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    said = re.fullmatch(r"ppo_discrete.py --total-timesteps 2048: (\d+) of (\d+) tags at HEAD "
                        r"identical over 1 iterations\n", done.stdout)
    assert said and said[1] == said[2] and int(said[1]) > 0, done.stdout
    assert worktrees() == before  # the temporary worktree of HEAD is gone


def base_argv(script):
    return ["first_losses.py", "--script", script, "--iterations", "1", "--base", "HEAD"]


def test_base_without_the_script_at_the_commit_is_one_error_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", base_argv("no_such_script.py"))
    assert first_losses.main() == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith("error: no no_such_script.py at HEAD (")


def test_base_reports_a_difference_and_removes_its_worktree(monkeypatch, capsys):
    """The runs stood in for: the one in the commit's worktree (which holds the script) logs 1.0,
    the working tree's 2.0. Exit 1 with the difference; the worktree is removed, also when the
    commit's run fails."""
    trees = []

    def losses(script, iterations, flags, root=first_losses.ROOT):
        if root == first_losses.ROOT:
            return {"losses/kl": [2.0]}
        assert os.path.exists(os.path.join(root, script)) and str(root) in worktrees()
        trees.append(root)
        if len(trees) == 2:
            raise SystemExit("error: the run at the commit failed")
        return {"losses/kl": [1.0]}

    before = worktrees()
    monkeypatch.setattr(first_losses, "first_losses", losses)
    monkeypatch.setattr(sys, "argv", base_argv("ppo_discrete.py"))
    assert first_losses.main() == 1
    assert capsys.readouterr().out.splitlines() == [
        "DIFFERS losses/kl: recorded [1.0], now [2.0]",
        "ppo_discrete.py : 0 of 1 tags at HEAD identical over 1 iterations"]
    with pytest.raises(SystemExit, match="failed"):
        first_losses.main()
    assert len(trees) == 2 and not any(os.path.exists(tree) for tree in trees)
    assert worktrees() == before


def test_screen_score_compares_iqm_and_worst_seed_with_the_baseline(tmp_path, monkeypatch, capsys):
    rows = ["variant,env,seed,finished,final_return_last20"]
    finals = {("base", "A"): [100, 200, 300, 400], ("c", "A"): [150, 250, 350, 1000],
              ("base", "B"): [10, 20, 30, 40], ("c", "B"): [8, 30, 30, 30], ("d", "A"): [90, 300, 300, 500]}
    for (variant, env), values in finals.items():
        rows += [f"{variant},{env},{seed},True,{value}" for seed, value in enumerate(values, 1)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(sys, "argv", ["screen_score.py", str(tmp_path / "s.csv"), "--base", "base"])
    screen_score.main()
    out = capsys.readouterr().out
    # c: IQM A (250 + 350) / 2 = 300 against 250 (1.2), B 30 against 25 (1.2); worst B 8 < 0.9 x 10
    assert "| c | A | 4 | 300 (base 250) | 150 (base 100) | 1.200 | 1.500 |" in out
    assert "| c | B | 4 | 30 (base 25) | 8 (base 10) | 1.200 | 0.800 |" in out
    assert "- c: score 1.200 on 2 task(s); worst seeds not held" in out and "**fails**" in out
    # d, run on A alone: IQM 300 / 250 = 1.2, worst 90 >= 0.9 x 100
    assert "- d: score 1.200 on 1 task(s); worst seeds held (floor 0.9 x base's): **passes**" in out


def test_screen_score_median_of_three_seeds(tmp_path, monkeypatch, capsys):
    rows = ["variant,env,seed,finished,final_return_last20"]
    finals = {("base", "A"): [100, 200, 900], ("c", "A"): [90, 300, 310]}  # means 400 and 233
    for (variant, env), values in finals.items():
        rows += [f"{variant},{env},{seed},True,{value}" for seed, value in enumerate(values, 1)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(sys, "argv", ["screen_score.py", str(tmp_path / "s.csv"), "--base", "base",
                                      "--median", "--min-score", "1.0", "--worst-floor", "0.8"])
    screen_score.main()
    out = capsys.readouterr().out
    # medians 300 against 200: 1.5; worst 90 >= 0.8 x 100
    assert "| c | A | 3 | 300 (base 200) | 90 (base 100) | 1.500 | 0.900 |" in out
    assert "- c: score 1.500 on 1 task(s); worst seeds held (floor 0.8 x base's): **passes**" in out


@pytest.mark.parametrize("caller, child", [(None, "1"), ("2", "2")])
def test_sweep_gives_each_run_one_thread_unless_told(tmp_path, monkeypatch, caller, child):
    """The README's results are one torch thread's: a sweep's runs get OMP_NUM_THREADS=1, or the
    caller's value where it set one."""
    import sweep
    script = tmp_path / "print_threads.py"
    script.write_text("import os\nprint('threads', os.environ.get('OMP_NUM_THREADS'))\n")
    monkeypatch.setattr(sweep, "ROOT", str(tmp_path))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    if caller:
        monkeypatch.setenv("OMP_NUM_THREADS", caller)
    monkeypatch.setattr(sys, "argv", ["sweep.py", "--name", "t", "--script", str(script),
                                      "--envs", "Toy-v0", "--seeds", "1", "--jobs", "1"])
    assert sweep.main() == 0
    log = (tmp_path / "runs" / "t" / "default__Toy-v0__1" / "stdout.log").read_text()
    assert f"threads {child}\n" in log
