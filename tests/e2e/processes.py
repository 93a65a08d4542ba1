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
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from retail.settings import Settings

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


def service_env(*, database_url: str, redis_url: str | None, secret: str, **extra: str) -> dict[str, str]:
    """The environment of `retail serve|worker|beat`: this machine's, with only the given RETAIL_ settings
    (`redis_url` None: no broker, tasks run in the API process)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")},
        "RETAIL_DATABASE_URL": database_url,
        **({"RETAIL_REDIS_URL": redis_url} if redis_url is not None else {}),
        "RETAIL_SECRET_KEY": secret,
        "RETAIL_LOG_LEVEL": "WARNING",
        # The suite's traffic all comes from one address: the shopper limit of the suite (see conftest),
        # not the production default, or a fast stream of orders meets 429 instead of the behaviour tested.
        "RETAIL_SHOPPER_REQUESTS_PER_MINUTE": os.environ["RETAIL_SHOPPER_REQUESTS_PER_MINUTE"],
        **{f"RETAIL_{k.upper()}": v for k, v in extra.items()},
    }


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start `retail <args>` in a session of its own, so it and the children it forks (the worker's pool)
    can be killed as one group. Its output goes to a log file in `cwd`, for a failing test to show."""
    log = (cwd / f"{args[0]}-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
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


def wait_serving(base: str, *, probe: str = "/healthz", timeout: float = 60) -> None:
    """Until `probe` answers 200: /healthz once the process serves, /readyz once it also reaches the
    database and the broker."""

    def up() -> bool:
        try:
            return httpx.get(f"{base}{probe}", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up, timeout=timeout, what=f"{base}{probe} to answer 200")


def reservation_waiting_for_a_lock(engine: Engine, *, held_by: int | None = None) -> bool:
    """Whether a reservation waits for a stock row lock (with `held_by`, one that backend pid holds): its
    task is then provably running, inside its transaction and not yet acknowledged."""
    # The reservation locks the basket's stock rows (in product order) before it changes them; a transfer
    # order's, those of its store and its sources (inventory.transfer_ledger, with their store_id).
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' "
                "AND query LIKE 'SELECT %product_id, on_hand - reserved - safety_stock "
                "FROM stock %FOR UPDATE'"
                " AND (CAST(:held_by AS integer) IS NULL OR :held_by = ANY(pg_blocking_pids(pid)))"
            ),
            {"held_by": held_by},
        ).scalar_one()
    return int(waiting) > 0


class ServiceProcesses:
    """The service as it runs in production, each part in its own process (`retail serve`, `retail worker`,
    `retail beat`), against the given database and a Redis server of the test's own, so a test may stop
    that Redis or kill a worker and disturb nothing else. Made by `running_service`, which stops it all."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        *,
        worker_concurrency: int | None,
        workers: int = 1,
        extra_settings: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.env = service_env(
            database_url=settings.database_url,
            redis_url=self.redis_url,
            secret=settings.secret,
            **(extra_settings or {}),
        )
        self.api_port = free_port()
        self.worker_concurrency = worker_concurrency
        self.worker_count = workers
        self.redis: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.beat: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The address `retail serve` answers at."""
        assert self.api is not None, "this service runs no `retail serve`"
        return f"http://127.0.0.1:{self.api_port}"

    def start_redis(self) -> None:
        """Start Redis, or start it again after `stop_redis`: on the same port, where the service's
        processes look for it."""
        self.redis = start_redis(self.redis_port, self.workdir)

    def stop_redis(self) -> None:
        """The broker goes away; the service's processes keep running."""
        assert self.redis is not None
        stop(self.redis)

    def start_api(self) -> None:
        self.api = spawn(["serve", "--port", str(self.api_port)], self.env, self.workdir)

    def start_workers(self) -> None:
        """Start the `retail worker` processes, or new ones after `kill_workers`."""
        assert self.worker_concurrency is not None, "this service runs no worker"
        self.workers = [
            spawn(["worker", "--concurrency", str(self.worker_concurrency)], self.env, self.workdir)
            for _ in range(self.worker_count)
        ]

    def kill_workers(self) -> None:
        """SIGKILL to every worker and its pool at once: a task one was running is neither finished nor
        acknowledged."""
        assert self.workers, "no worker is running"
        for worker in self.workers:
            end(worker, signal.SIGKILL)

    def dead_workers(self) -> dict[int, int]:
        """The workers that have exited since they started: pid -> exit status."""
        return {w.pid: code for w in self.workers if (code := w.poll()) is not None}

    def start_beat(self) -> None:
        self.beat = spawn(["beat"], self.env, self.workdir)

    def stop_all(self) -> None:
        for process in (self.api, *self.workers, self.beat):
            if process is not None:
                end(process)
        if self.redis is not None:
            stop(self.redis)


@contextlib.contextmanager
def running_service(
    settings: Settings,
    workdir: Path,
    *,
    serve: bool = True,
    worker_concurrency: int | None = None,
    workers: int = 1,
    beat: bool = False,
    extra_settings: dict[str, str] | None = None,
) -> Iterator[ServiceProcesses]:
    """A Redis of its own and the processes asked for (`worker_concurrency` None: no worker; else
    `workers` `retail worker` processes of that concurrency each), ready once `retail serve` answers; all
    of them stopped afterwards, whatever the test did. Their output goes to log files in `workdir`.
    `extra_settings` adds RETAIL_ settings (`{"log_level": "INFO"}`)."""
    service = ServiceProcesses(
        settings,
        workdir,
        worker_concurrency=worker_concurrency,
        workers=workers,
        extra_settings=extra_settings,
    )
    try:
        service.start_redis()
        if serve:
            service.start_api()
        if worker_concurrency is not None:
            service.start_workers()
        if beat:
            service.start_beat()
        if serve:
            wait_serving(service.base)
        yield service
    finally:
        service.stop_all()


# ---------------------------------------------------------------------------------- a private PostgreSQL

PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port, trust auth),
    so a test may stop and restart it. Runs as the `postgres` user when the tests run as root, which
    PostgreSQL refuses. `initdb=False` leaves the data directory to be made otherwise (a base backup);
    `options` are more server settings (`-c name=value ...`)."""

    def __init__(self, *, initdb: bool = True, options: str = "") -> None:
        if not PG_BINARIES or not (PG_BINARIES[-1] / "initdb").exists():
            pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
        self.bin = PG_BINARIES[-1]
        self.port = free_port()
        # Not under pytest's tmp_path: as root, that directory is closed to the postgres user.
        self.dir = Path(tempfile.mkdtemp(prefix="winkelpunt-pg-"))
        self.data = self.dir / "data"
        self.options = options
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        if initdb:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"
            )

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
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 {self.options}"
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
        # A server that would not stop (or a test that failed half-way through starting it) is killed,
        # so no cluster outlives its test.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            # Only this cluster's postmaster: a stale file's pid may belong to anyone by now.
            if str(self.data) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
