"""A stream of shoppers placing (and now and then cancelling) orders against a running service, as the
app does it: each order has its own idempotency key, and an order whose POST failed (a 5xx, or no answer
at all) is sent again with the same key until it is accepted."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import order_body

PROBLEM = "application/problem+json"


@dataclass
class Outcome:
    """What the clients saw. `unclean`: answers that were neither a success, a documented 4xx nor a
    problem+json 5xx; `hung`: requests that got no answer within the client's timeout."""

    accepted: dict[str, str] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    unclean: list[str] = field(default_factory=list)
    hung: list[str] = field(default_factory=list)
    refused: int = 0


class OrderStream:
    def __init__(
        self,
        base: str,
        *,
        store_code: str,
        skus: list[str],
        clients: int = 3,
        timeout: float = 30,
        pause: float = 0.05,
        cancel_every: int = 5,
    ) -> None:
        self.base = base
        self.store_code = store_code
        self.skus = skus
        self.clients = clients
        self.timeout = timeout
        self.pause = pause
        self.cancel_every = cancel_every
        self.outcome = Outcome()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self.outcome.accepted)

    def start(self) -> OrderStream:
        self._threads = [
            threading.Thread(target=self._shopper, args=(n,), name=f"shopper-{n}", daemon=True)
            for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> Outcome:
        """Stop placing new orders; each shopper first gets its unanswered order accepted."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout * 6)
            assert not thread.is_alive(), f"{thread.name} never got its order accepted"
        return self.outcome

    def wait_for(self, more: int, *, timeout: float = 60) -> None:
        """Until `more` orders beyond those accepted so far are accepted."""
        target = self.accepted + more
        deadline = time.monotonic() + timeout
        while self.accepted < target:
            assert time.monotonic() < deadline, f"only {self.accepted} of {target} orders accepted"
            time.sleep(0.1)

    def _record(self, status: int) -> None:
        with self._lock:
            self.outcome.statuses[status] = self.outcome.statuses.get(status, 0) + 1

    def _send(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        """One request; None when it got no answer (recorded as hung on a timeout)."""
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            with self._lock:
                self.outcome.hung.append(f"{method} {url}: {type(exc).__name__}")
            return None
        except httpx.TransportError:
            with self._lock:
                self.outcome.refused += 1
            return None
        self._record(response.status_code)
        if response.status_code >= 500 and not response.headers.get("content-type", "").startswith(PROBLEM):
            with self._lock:
                self.outcome.unclean.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    def _shopper(self, number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=self.base, timeout=self.timeout) as client:
            placed = 0
            while not self._stop.is_set():
                placed += 1
                key = f"shopper-{number}-{placed}"
                basket = {
                    sku: rng.randint(1, 3)
                    for sku in rng.sample(self.skus, rng.randint(1, min(3, len(self.skus))))
                }
                customer = {"name": f"Klant {number}", "email": f"klant{number}@example.nl"}
                body = order_body(self.store_code, basket, customer=customer)
                accepted = self._place(client, key, body)
                if accepted is not None and placed % self.cancel_every == 0:
                    order_id, token = accepted
                    response = self._send(
                        client,
                        "POST",
                        f"/mobile/v1/orders/{order_id}/cancel",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    if response is not None and response.status_code not in (200, 409, 500, 503):
                        with self._lock:
                            self.outcome.unclean.append(f"cancel {order_id}: {response.status_code}")
                time.sleep(self.pause)

    def _place(self, client: httpx.Client, key: str, body: dict[str, Any]) -> tuple[str, str] | None:
        # Tried until accepted, even after `stop`: a shopper whose order failed tries again.
        while True:
            response = self._send(
                client, "POST", "/mobile/v1/orders", json=body, headers={"Idempotency-Key": key}
            )
            if response is not None and response.status_code == 202:
                answer = response.json()
                with self._lock:
                    seen = self.outcome.accepted.setdefault(key, answer["order_id"])
                    if seen != answer["order_id"]:
                        self.outcome.unclean.append(f"{key}: answered {seen}, then {answer['order_id']}")
                return answer["order_id"], answer["order_token"]
            if response is not None and response.status_code < 500:
                with self._lock:
                    self.outcome.unclean.append(f"{key}: {response.status_code} {response.text[:200]}")
                return None
            time.sleep(0.5)
