"""Pid files name exactly one process: a reused or stale pid is never taken for ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.process import ProcessRecord, read_record, running_record, spawn, stop, tail, wait_until


def test_spawned_process_is_recorded_found_and_stopped(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "sleeper.pid", tmp_path / "logs" / "sleeper.log"
    record = spawn(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        log_file=log_file,
        pid_file=pid_file,
    )
    assert wait_until(lambda: tail(log_file) == "up", timeout=10, interval=0.05)
    assert read_record(pid_file) == record
    assert running_record(pid_file) == record
    assert stop(record, timeout=10) is True
    assert not record.is_alive()
    assert running_record(pid_file) is None
    assert not pid_file.exists()  # a stale pid file is cleared


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    record = spawn([sys.executable, "-c", code], log_file=tmp_path / "log", pid_file=tmp_path / "pid")
    while "ready" not in (tmp_path / "log").read_text():
        pass
    assert stop(record, timeout=1) is False
    assert not record.is_alive()


def test_a_pid_with_another_start_time_is_not_ours(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        impostor = ProcessRecord(proc.pid, start_ticks=1)
        assert not impostor.is_alive()
        pid_file = tmp_path / "x.pid"
        pid_file.write_text(f"{proc.pid} 1\n")
        assert running_record(pid_file) is None
        assert proc.poll() is None  # the unrelated process was left alone
    finally:
        proc.kill()
        proc.wait()


def test_tail_gives_the_last_lines_or_says_the_log_is_missing(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_text("".join(f"line {n}\n" for n in range(50)))
    assert tail(log, 20).splitlines() == [f"line {n}" for n in range(30, 50)]
    assert "no log at" in tail(tmp_path / "missing.log")
