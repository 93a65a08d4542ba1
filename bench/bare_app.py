"""The ceiling the service is measured against: a FastAPI app with two trivial endpoints, on its own
uvicorn process. `bench/load.py` runs it with uvicorn's defaults; `bench/http_endpoints.py` runs it through
`serve` below, under `retail serve`'s own uvicorn settings (`app/cli.py`).

    python -m uvicorn bench.bare_app:app --port 8001
    python bench/bare_app.py --port 8001 --workers 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.serving import http_protocol
from orders.schemas import OrderIn
from retail.logs import configure_logging
from retail.settings import get_settings

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, str]:
    # A plain `def`, as the service's endpoints are: the same threadpool hop per request.
    return {"status": "ok"}


@app.post("/orders", status_code=202)
def accept(order_in: OrderIn) -> dict[str, str]:
    # The body model of `POST /mobile/v1/orders`: the baseline pays its JSON parsing and validation too, so
    # the service's extra over it is what placing the order costs.
    return {"status": "accepted", "store_code": order_in.store_code}


def serve(*, host: str, port: int, workers: int) -> None:
    """Run `app` as `retail serve` runs the service: the same protocol class, worker processes, log level
    and log settings (JSON lines, no uvicorn log config, no access log, no proxy headers), so the
    difference is the app alone."""
    configure_logging(get_settings().log_level)
    uvicorn.run(
        "bench.bare_app:app",
        host=host,
        port=port,
        workers=workers,
        http=http_protocol(),
        log_level=get_settings().log_level.lower(),
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the bare app under `retail serve`'s uvicorn settings")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    serve(host=arguments.host, port=arguments.port, workers=arguments.workers)
