"""A primary and its streaming replica, private PostgreSQL clusters of a test's own (processes.py:
PrivatePostgres), for the tests of reads on a replica."""

from __future__ import annotations

import time

import psycopg

from tests.e2e.processes import PrivatePostgres

# A standby's WAL comes from the primary's sender; replica is the level that writes what a standby
# replays (PostgreSQL's default, set anyway: the test depends on it).
PRIMARY_OPTIONS = "-c wal_level=replica -c max_wal_senders=4"
REPLAY_TIMEOUT_S = 20.0


def conninfo(cluster: PrivatePostgres) -> str:
    return f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"


def one(cluster: PrivatePostgres, query: str, params: tuple[object, ...] = ()) -> object:
    with psycopg.connect(conninfo(cluster), autocommit=True) as connection:
        row = connection.execute(query, params).fetchone()
    assert row is not None
    return row[0]


class Primary(PrivatePostgres):
    """A cluster that a standby may copy and stream from: replication connections from 127.0.0.1 are
    trusted (initdb writes such a line with `-A trust`; written here so the test does not rely on it)."""

    def __init__(self) -> None:
        super().__init__(options=PRIMARY_OPTIONS)
        hba = self.data / "pg_hba.conf"
        with hba.open("a", encoding="utf-8") as file:
            file.write("host replication postgres 127.0.0.1/32 trust\n")

    def lsn(self) -> str:
        """Where the primary's WAL ends now: everything committed so far lies before it."""
        return str(one(self, "SELECT pg_current_wal_lsn()::text"))


class StreamingReplica(PrivatePostgres):
    """A hot standby of `primary`: `pg_basebackup -R` into a data directory of its own (which writes
    standby.signal and primary_conninfo), served on another free port."""

    def __init__(self, primary: Primary) -> None:
        super().__init__(initdb=False)
        self.primary = primary
        self._run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"),
        )

    def wait_replayed(self, lsn: str) -> None:
        """Until the standby has replayed the primary's WAL up to `lsn` (polled, never a blind sleep)."""
        deadline = time.monotonic() + REPLAY_TIMEOUT_S
        while not one(self, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)):
            assert time.monotonic() < deadline, f"the replica did not replay up to {lsn}"
            time.sleep(0.05)

    def catch_up(self) -> None:
        self.wait_replayed(self.primary.lsn())

    def pause_replay(self) -> None:
        """Changes still stream in, but none is applied until `resume_replay`: what the replica answers
        from then on is what it held when paused."""
        one(self, "SELECT pg_wal_replay_pause()::text")
        deadline = time.monotonic() + REPLAY_TIMEOUT_S
        while one(self, "SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "replay did not pause"
            time.sleep(0.05)

    def resume_replay(self) -> None:
        one(self, "SELECT pg_wal_replay_resume()::text")
