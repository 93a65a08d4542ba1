"""`retail worker` and `retail beat` start against the real Redis broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retail.celery_app import celery_app
from retail.settings import Settings


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
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


def test_worker_logs_json_lines_that_name_the_request_that_sent_the_task(
    tmp_path: Path, pg_settings: Settings
) -> None:
    # pg_settings: the task reads the test database, which must exist even when this test runs alone.
    from orders import tasks as orders_tasks
    from retail.logs import request_id_var

    worker = _start(["worker", "--concurrency", "1"], tmp_path)
    try:
        token = request_id_var.set("req-from-the-api")
        try:
            # What `send_reservation` does after an order's commit while serving a request. No order has
            # this key, so the task only logs that there was nothing to reserve.
            orders_tasks.reserve_order.delay(987654321)
        finally:
            request_id_var.reset(token)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not celery_app.control.ping(timeout=1.0):
            assert worker.poll() is None, "the worker exited early"
        time.sleep(3)
    finally:
        output = _stop(worker)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines, output
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)
    reservation = [line for line in lines if line["logger"] == "orders.tasks"]
    assert [line["message"] for line in reservation] == ["order 987654321 reservation: None"]
    assert reservation[0]["request_id"] == "req-from-the-api"
    assert reservation[0]["task_id"]


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
        [sys.executable, "-m", "app", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "RETAIL_REDIS_URL" in result.stderr


def test_the_embedded_schedule_runs_each_entry_when_due_and_survives_a_failing_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from retail.celery_app import EmbeddedSchedule

    calls: list[str] = []

    @celery_app.task(name="tests.tick")
    def tick() -> None:
        calls.append("tick")

    @celery_app.task(name="tests.broken")
    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("a failing run must not stop the schedule")

    schedule = EmbeddedSchedule(
        {
            "tick": {"task": "tests.tick", "schedule": 5.0},
            "broken": {"task": "tests.broken", "schedule": 2.0},
        }
    )
    # Moments of the monotonic clock, as the schedule thread passes them once a second.
    ran = {now: schedule.run_due(now) for now in (100.0, 101.0, 102.0, 104.5, 105.0)}
    assert ran == {
        100.0: ["tests.tick", "tests.broken"],
        101.0: [],
        102.0: ["tests.broken"],
        104.5: ["tests.broken"],
        105.0: ["tests.tick"],
    }
    assert calls == ["tick", "broken", "broken", "broken", "tick"]
    failures = [r for r in caplog.records if r.getMessage() == "periodic task tests.broken failed"]
    assert len(failures) == 3


def test_workers_and_beat_never_give_up_on_the_broker() -> None:
    # Celery's default (100 attempts, about 50 minutes) ends a worker, and beat, during a longer outage;
    # None retries for as long as it takes. (Riding out the outage itself: tests/e2e/test_broker_outage.py.)
    assert celery_app.conf.broker_connection_max_retries is None
    assert celery_app.conf.broker_connection_retry is True
