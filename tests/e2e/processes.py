"""Starting and stopping the service's own processes, a private Redis and a private PostgreSQL for
end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

# .ci/run installs Redis where it is missing, so the server binary is always there.
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    raise AssertionError("redis did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ------------------------------------------------------------------------- the service's own processes


def service_env(*, database_url: str, redis_url: str, secret: str, **extra: str) -> dict[str, str]:
    """The environment of `retail serve|worker|beat`: this machine's, with only the given RETAIL_ settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")},
        "RETAIL_DATABASE_URL": database_url,
        "RETAIL_REDIS_URL": redis_url,
        "RETAIL_SECRET_KEY": secret,
        "RETAIL_LOG_LEVEL": "WARNING",
        **{f"RETAIL_{k.upper()}": v for k, v in extra.items()},
    }


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start `retail <args>` in a session of its own, so it and the children it forks (the worker's pool)
    can be killed as one group. Its output goes to a log file in `cwd`, for a failing test to show."""
    log = (cwd / f"{args[0]}-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "retail", *args],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def end(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process started by `spawn`, with its whole group; SIGKILL if it does not go within 30 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children left behind by a killed parent


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def wait_serving(base: str, *, timeout: float = 60) -> None:
    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up, timeout=timeout, what=f"{base} to serve")


# ---------------------------------------------------------------------------------- a private PostgreSQL

PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port, trust auth),
    so a test may stop and restart it. Runs as the `postgres` user when the tests run as root, which
    PostgreSQL refuses."""

    def __init__(self) -> None:
        if not PG_BINARIES or not (PG_BINARIES[-1] / "initdb").exists():
            pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
        self.bin = PG_BINARIES[-1]
        self.port = free_port()
        # Not under pytest's tmp_path: as root, that directory is closed to the postgres user.
        self.dir = Path(tempfile.mkdtemp(prefix="winkelpunt-pg-"))
        self.data = self.dir / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._as_user, str(self.bin / program), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _ctl(self, action: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "-m",
            "fast",
            action,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")

    def restart(self) -> None:
        self._ctl("restart")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
