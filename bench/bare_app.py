"""The ceiling `bench/load.py` measures the service against: a FastAPI app with one trivial endpoint, on
its own uvicorn process, configured as `retail serve` runs the service (one process, default settings).

    python -m uvicorn bench.bare_app:app --port 8001
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, str]:
    # A plain `def`, as the service's endpoints are: the same threadpool hop per request.
    return {"status": "ok"}
