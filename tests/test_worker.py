"""`retail worker` and `retail beat` start against the real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retail.celery_app import celery_app


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "retail", *args],
        cwd=cwd,
        env=os.environ.copy(),  # the test settings: PostgreSQL, Redis database 15, a secret key
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_worker_answers_a_ping_over_redis(tmp_path: Path) -> None:
    worker = _start(["worker", "--concurrency", "1"], tmp_path)
    try:
        replies: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while not replies and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited early"
            replies = celery_app.control.ping(timeout=1.0) or []
        assert replies, "no worker answered the ping"
        assert all(next(iter(reply.values())) == {"ok": "pong"} for reply in replies)
    finally:
        output = _stop(worker)
    assert "ready" in output


def test_beat_starts_and_writes_its_schedule(tmp_path: Path) -> None:
    beat = _start(["beat"], tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("var/celerybeat-schedule*")) and time.monotonic() < deadline:
            assert beat.poll() is None, "beat exited early"
            time.sleep(0.5)
    finally:
        output = _stop(beat)
    assert list(tmp_path.glob("var/celerybeat-schedule*")), output
    assert "beat: Starting" in output


def test_worker_refuses_to_start_without_a_broker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RETAIL_REDIS_URL"}
    env["RETAIL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'w.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "retail", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "RETAIL_REDIS_URL" in result.stderr


def test_the_embedded_default_runs_the_beat_schedule_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from retail import celery_app as celery_module

    calls: list[float] = []

    @celery_module.celery_app.task(name="tests.tick")
    def tick() -> None:
        calls.append(time.monotonic())

    @celery_module.celery_app.task(name="tests.broken")
    def broken() -> None:
        raise RuntimeError("a failing run must not stop the schedule")

    monkeypatch.setattr(
        celery_module,
        "BEAT_SCHEDULE",
        {
            "tick": {"task": "tests.tick", "schedule": 0.2},
            "broken": {"task": "tests.broken", "schedule": 0.2},
        },
    )
    stop = threading.Event()
    runner = threading.Thread(
        target=celery_module.run_schedule_in_process, args=(stop,), kwargs={"tick_s": 0.05}
    )
    runner.start()
    time.sleep(1.1)
    stop.set()
    runner.join(timeout=5)
    assert not runner.is_alive()
    assert 4 <= len(calls) <= 7
