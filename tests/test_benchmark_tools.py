"""The benchmark readers (benchmark/summarize.py, benchmark/training_stats.py) on event files written here,
with expected numbers worked out by hand."""

import os
import sys

import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmark"))
import summarize  # noqa: E402
import training_stats  # noqa: E402


def write_run(run_dir, scalars):
    """scalars: {tag: [(step, value), ...]}, written as TensorBoard events."""
    writer = SummaryWriter(run_dir)
    for tag, points in scalars.items():
        for step, value in points:
            writer.add_scalar(tag, value, step)
    writer.close()


@pytest.fixture
def sweep(tmp_path):
    """Two seeds of one variant; seed 2 stopped before 2000 steps."""
    root = tmp_path / "runs" / "toy"
    write_run(str(root / "v__Toy-v0__1"), {
        "losses/approx_kl": [(500, 1.0), (1000, 3.0), (1500, 5.0), (2000, 7.0)],
        "time/rollout_seconds": [(1000, 30.0), (2000, 42.0)],
        "time/gae_seconds": [(1000, 6.0), (2000, 6.0)],
        "time/update_seconds": [(1000, 24.0), (2000, 12.0)],
    })
    write_run(str(root / "v__Toy-v0__2"), {
        "losses/approx_kl": [(500, 2.0), (1000, 4.0)],
    })
    return root


def test_training_minutes_sum_the_phase_times(sweep):
    # (30 + 6 + 24) + (42 + 6 + 12) = 120 seconds
    assert summarize.training_minutes(str(sweep / "v__Toy-v0__1")) == pytest.approx(2.0)
    assert summarize.training_minutes(str(sweep / "v__Toy-v0__2")) == 0.0


def test_bin_steps_line_up_runs_of_different_lengths(sweep, tmp_path, monkeypatch):
    out = tmp_path / "stats.md"
    monkeypatch.setattr(sys, "argv", ["training_stats.py", str(sweep), "--bin-steps", "1000",
                                      "--tags", "losses/approx_kl", "--out", str(out)])
    assert training_stats.main() == 0
    header, _, row = out.read_text().splitlines()
    assert "| 0-0.001M | 0.001-0.002M | 0.002-0.003M |" in header
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    # [0, 1000): seed 1 has 1.0, seed 2 has 2.0 -> 1.5. [1000, 2000): seed 1 (3 + 5) / 2 = 4, seed 2 has 4 -> 4.
    # [2000, 3000): only seed 1 reached it -> 7. Then min, max and the count over both seeds.
    assert cells == ["Toy-v0", "v (2 seeds)", "losses/approx_kl", "1.5", "4", "7", "1", "7", "6 of 6"]


def test_steps_to_threshold_uses_the_window_mean():
    steps, returns = np.array([10, 20, 30, 40]), np.array([0.0, 10.0, 2.0, 9.0])
    # window 2: means 5, 6, 5.5 at steps 20, 30, 40
    assert summarize.steps_to_threshold(steps, returns, 6.0, 2) == 30
    assert summarize.steps_to_threshold(steps, returns, 6.5, 2) is None


def test_steps_staying_above_is_the_start_of_the_last_stretch_at_or_above():
    steps, returns = np.array([10, 20, 30, 40, 50]), np.array([0.0, 10.0, 2.0, 9.0, 9.0])
    # window 2: means 5, 6, 5.5, 9 at steps 20, 30, 40, 50
    assert summarize.steps_staying_above(steps, returns, 5.5, 2) == 30
    assert summarize.steps_staying_above(steps, returns, 6.0, 2) == 50  # first reached at 30, below again at 40
    assert summarize.steps_to_threshold(steps, returns, 6.0, 2) == 30
    assert summarize.steps_staying_above(steps, returns, 4.0, 2) == 20
    assert summarize.steps_staying_above(steps, returns, 10.0, 2) is None


def test_renamed_tags_are_read_under_their_older_name(tmp_path):
    # A run written before the rename logged the per-minibatch KL as losses/approx_kl; a newer one as
    # losses/minibatch_approx_kl. Asking for the new name reads either; a tag logged under both reads the new one.
    write_run(str(tmp_path / "old"), {"losses/approx_kl": [(1, 0.5), (2, 0.25)]})
    write_run(str(tmp_path / "new"), {"losses/minibatch_approx_kl": [(1, 0.75)], "losses/approx_kl": [(1, 9.0)]})
    tag = "losses/minibatch_approx_kl"
    steps, values = summarize.read_scalars(str(tmp_path / "old"), [tag])[tag]
    assert steps.tolist() == [1, 2] and values.tolist() == [0.5, 0.25]
    _, values = summarize.read_scalars(str(tmp_path / "new"), [tag])[tag]
    assert values.tolist() == [0.75]
    assert summarize.read_scalars(str(tmp_path / "old"), ["losses/kl"]) == {}


RESULTS_CSV_HEADER = ("variant,env,seed,finished,last_episode_step,final_return_last20,steps_to_threshold,"
                      "steps_staying_above_threshold,training_minutes\n")  # as summarize.py writes it


def test_earlier_rows_join_the_table_with_their_recorded_values(tmp_path, monkeypatch):
    """A sweep with one run (seed 2: returns 10, 20, 30) plus an earlier results CSV: its row of the variant
    asked for (renamed to the sweep's variant) joins; another variant's row and the earlier, unfinished
    row of seed 2 (superseded by the run here) stay out."""
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
    monkeypatch.setattr(sys, "argv", ["summarize.py", str(tmp_path / "runs" / "toy"), "--out", str(out),
                                      "--earlier", f"{earlier}:old-name=v"])
    assert summarize.main() == 0
    row = out.with_suffix(".md").read_text().splitlines()[2]
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    # finals: the earlier seed 1 at 40 and the new seed 2 at mean(10, 20, 30) = 20 -> 30 +- 10 (ddof 0);
    # steps: the smaller last step of the two, 250.
    assert cells[:6] == ["Toy-v0", "v", "2", "250", "30.0 +- 10.0", "40, 20"]
    assert [line.split(",")[:3] for line in out.with_suffix(".csv").read_text().splitlines()[1:]] == [
        ["v", "Toy-v0", "1"], ["v", "Toy-v0", "2"]]


@pytest.mark.parametrize("content,said", [
    (RESULTS_CSV_HEADER, "has no rows of variant 'nope'"),
    ("script,config,env_sps\nppo,B,1.0\n", "is not a results CSV of this script with --last 20 (no column variant)"),
])
def test_earlier_rows_that_cannot_be_read_are_one_error_line(content, said, tmp_path, monkeypatch, capsys):
    write_run(str(tmp_path / "runs" / "toy" / "v__Toy-v0__1"), {"charts/episodic_return": [(100, 1.0)]})
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(content)
    monkeypatch.setattr(sys, "argv", ["summarize.py", str(tmp_path / "runs" / "toy"), "--out",
                                      str(tmp_path / "t"), "--earlier", f"{earlier}:nope"])
    assert summarize.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --earlier:") and err[0].endswith(said)
    assert not (tmp_path / "t.md").exists()
