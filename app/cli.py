"""The `retail` command line (Typer). It imports every domain (`app.registry`): a worker and beat find
every task there, and `serve` runs the embedded schedule with all of them."""

from __future__ import annotations

import gc
import io
import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app import (
    registry as registry,  # every domain's tables and tasks: worker, beat and the schedule need them
)
from app.main import create_app
from app.migrations import upgrade_database
from app.serving import http_protocol
from demo.load import load_demo
from inventory import service as inventory_service
from inventory.csv_import import snapshot_rows
from inventory.exceptions import InvalidCsv
from orders import metrics as orders_metrics
from orders import sweeps
from retail.auth import Role, create_api_key
from retail.celery_app import celery_app, run_schedule_in_process
from retail.db import session_scope
from retail.errors import RetailError
from retail.logs import configure_logging
from retail.settings import DEFAULT_DATA_DIR, get_settings
from stores import service as stores_service
from stores.importing import count_rows, read_store_file

app = typer.Typer(help="Winkelpunt: click-and-collect and store inventory.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
stores_app = typer.Typer(help="The store network.", no_args_is_help=True)
stock_app = typer.Typer(help="Stock counts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(stores_app, name="stores")
app.add_typer(stock_app, name="stock")

console = Console(stderr=True)
IMPORT_CHUNK = 500


@app.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="load the demo chain first")] = False,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="uvicorn worker processes sharing the port (one per core)")
    ] = 1,
) -> None:
    """Run the API. With nothing configured: an embedded SQLite database and tasks run in-process."""
    settings = get_settings()
    if settings.is_embedded:
        # The embedded default must work from a fresh checkout with no separate setup step.
        upgrade_database()
    if demo:
        _load_demo()
    if not settings.redis_url:
        # No broker, so no beat: the periodic tasks run here, in a thread of this process. With `--workers`
        # this is uvicorn's supervising process: one for the life of the service (uvicorn replaces a
        # worker that dies, never itself), it serves no requests, and its workers are spawned afresh, so
        # none of them runs the schedule too. It has imported every task it calls (`app.registry`).
        threading.Thread(
            target=run_schedule_in_process, args=(threading.Event(),), name="schedule", daemon=True
        ).start()

    console.print(f"Winkelpunt on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    # One process answers requests on one core only (the handlers are CPU-bound Python); with `--workers`
    # uvicorn starts that many (spawned, not forked), each building the app from the factory.
    # log_config=None: uvicorn keeps the JSON logging (set up again in each worker by `served_app`); its
    # access log is replaced by the request id middleware's one line per request.
    trusted_proxies = settings.forwarded_allow_ips.strip()
    uvicorn.run(
        "app.cli:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=http_protocol(),
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
        # The shopper rate limit counts per client address: behind a load balancer that is the one the
        # balancer forwards in X-Forwarded-For, trusted only from the proxies configured. None are by
        # default: any client can send that header, and would otherwise pick the address it is counted as.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )


def served_app() -> FastAPI:
    """The app `serve` runs, in each worker process."""
    # A worker process started by uvicorn's `--workers` does not inherit the parent's logging setup.
    configure_logging(get_settings().log_level)
    # The offline gazetteer takes a second or two to load; do it now, beside the server, rather than in
    # the first shopper's request.
    threading.Thread(target=_warm_up, name="gazetteer", daemon=True).start()
    return create_app()


def _warm_up() -> None:
    stores_service.warm_up_geocoder()
    # What the process keeps for good (modules, the app, the gazetteer's tables) is loaded by now: frozen,
    # the collector's full passes walk only what requests made since, not those too (README, Benchmarks).
    gc.freeze()


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="worker processes")] = 2,
) -> None:
    """Run a Celery worker (needs RETAIL_REDIS_URL)."""
    _require_broker()
    celery_app.worker_main(["worker", f"--concurrency={concurrency}", "--loglevel=INFO"])


@app.command()
def beat() -> None:
    """Run Celery beat, the one scheduler of the periodic sweeps (needs RETAIL_REDIS_URL)."""
    _require_broker()
    # Beat keeps only its last-run times here; the deadlines themselves live in the database.
    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", "--loglevel=INFO", f"--schedule={DEFAULT_DATA_DIR / 'celerybeat-schedule'}"])


@app.command()
def demo() -> None:
    """Load the demo chain (stores in Dutch and Belgian towns) and print demo API keys."""
    upgrade_database()
    _load_demo()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    upgrade_database()
    console.print("database is up to date")


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin, staff or webshop")],
    store: Annotated[str | None, typer.Option(help="the store a staff key is scoped to")] = None,
    label: Annotated[str, typer.Option(help="who or what the key is for")] = "",
) -> None:
    """Create an API key. The secret is printed once, as the last line, and only its hash is kept."""
    try:
        with session_scope() as session:
            if store is not None:
                stores_service.get_store(session, code=store)
            secret = create_api_key(session, role=role, store_code=store, label=label)
    except RetailError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"created a {role.value} key{f' for store {store}' if store else ''}; it is shown only once:"
    )
    print(secret)


@stores_app.command("import")
def stores_import(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="a .csv or .json file")
    ],
) -> None:
    """Upsert stores from a CSV (hours in OpenStreetMap syntax) or JSON file; bad rows are reported."""
    try:
        total = count_rows(path)
        rows = read_store_file(path)
        applied = 0
        failures: list[str] = []
        with _progress() as progress:
            task = progress.add_task(f"importing {path.name}", total=total)
            offset = 0
            while chunk := list(itertools.islice(rows, IMPORT_CHUNK)):
                with session_scope() as session:
                    result = stores_service.upsert_stores(session, rows=chunk)
                applied += result.applied
                failures.extend(f"row {offset + e.index + 1}: {e.code}: {e.detail}" for e in result.errors)
                offset += len(chunk)
                progress.update(task, advance=len(chunk))
    except (ValueError, UnicodeDecodeError) as exc:
        console.print(f"[red]cannot read {path}: {exc}[/red]")
        raise typer.Exit(2) from exc
    for failure in failures:
        console.print(f"[yellow]{failure}[/yellow]")
    console.print(f"{applied} stores applied, {len(failures)} rows rejected")
    if failures:
        raise typer.Exit(1)


@stock_app.command("import")
def stock_import(
    path: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV: store_code,sku,on_hand,as_of"),
    ],
) -> None:
    """Apply stock counts from a CSV file of any size, as `PUT /sync/v1/stock` does, in one transaction."""
    with _progress() as progress, io.FileIO(path, "r") as raw:
        task = progress.add_task(f"importing {path.name}", total=path.stat().st_size)
        counting = _CountingReader(raw, lambda n: progress.update(task, advance=n))
        try:
            with session_scope() as session:
                result = inventory_service.apply_snapshots(session, rows=snapshot_rows(counting))
        except InvalidCsv as exc:
            console.print(f"[red]{exc.detail}; nothing was applied[/red]")
            raise typer.Exit(2) from exc
    for error in result.errors:
        console.print(f"[yellow]row {error.index + 1}: {error.code}: {error.detail}[/yellow]")
    rejected = len(result.errors) + result.errors_omitted
    console.print(f"{result.applied} counts applied, {result.stale} stale, {rejected} rows rejected")
    if rejected:
        raise typer.Exit(1)


@stock_app.command("check")
def stock_check(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report the drift without repairing it")] = False,
) -> None:
    """Recompute `reserved` from the orders holding stock and repair the rows that drifted, as the
    periodic reconciliation does; prints one line per drifted row (stdout) and a summary (stderr)."""
    with session_scope() as session:
        drifted = sweeps.reconcile_reserved(session, dry_run=dry_run)
    orders_metrics.record_reconciliation(len(drifted), repaired=not dry_run)
    for drift in drifted:
        print(f"{drift.store_code} {drift.sku}: reserved {drift.was} -> {drift.now}")
    if not drifted:
        console.print("no drift")
    elif dry_run:
        console.print(f"{len(drifted)} stock rows drifted (dry run: nothing written)")
    else:
        console.print(f"{len(drifted)} stock rows repaired")


class _CountingReader(io.RawIOBase):
    """A file that reports how many bytes were read, for the progress bar."""

    def __init__(self, raw: io.FileIO, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer) or 0
        self._on_read(count)
        return count


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _require_broker() -> None:
    if not get_settings().redis_url:
        console.print("[red]set RETAIL_REDIS_URL: without a broker, tasks run inside `retail serve`[/red]")
        raise typer.Exit(2)


def _load_demo() -> None:
    with session_scope() as session:
        loaded = load_demo(session, secret=get_settings().secret)
    console.print(
        f"demo chain loaded: {loaded.stores} stores, {loaded.warehouses} warehouses, "
        f"{loaded.lanes} transfer lanes, {loaded.products} products, "
        f"{loaded.store_prices} store prices, {loaded.stock_rows} stock rows, "
        f"{loaded.past_orders} past orders",
        soft_wrap=True,
    )
    # Unwrapped, however narrow the terminal: a key broken over two lines cannot be copied.
    for name, secret in loaded.keys.items():
        console.print(f"  demo {name} key: {secret}", soft_wrap=True, highlight=False)


def main() -> None:
    configure_logging(get_settings().log_level)
    app()
