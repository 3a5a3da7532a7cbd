"""The demo keeps the logs of earlier runs instead of overwriting them (issue 20 #22)."""

from pathlib import Path

from billingdesk.ops.management.commands.demo import rotate_log


def test_a_new_run_shifts_the_previous_logs_and_drops_the_oldest(tmp_path: Path) -> None:
    log = tmp_path / "demo-server.log"
    for run in range(1, 8):
        rotate_log(log, keep=3)
        log.write_text(f"run {run}\n")
    assert log.read_text() == "run 7\n"
    assert (tmp_path / "demo-server.log.1").read_text() == "run 6\n"
    assert (tmp_path / "demo-server.log.2").read_text() == "run 5\n"
    assert (tmp_path / "demo-server.log.3").read_text() == "run 4\n"
    assert not (tmp_path / "demo-server.log.4").exists()


def test_an_empty_or_missing_log_is_not_kept(tmp_path: Path) -> None:
    log = tmp_path / "demo-worker.log"
    rotate_log(log)
    log.write_text("")
    rotate_log(log)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-worker.log"]
