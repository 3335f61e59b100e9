"""Webhook intake throughput: signed Stripe events sent to a real `hub serve` process for 20 s.

Starts `hub serve` (a subprocess) on a temporary project, then this process sends signed ``invoice.paid`` events
over a pool of keep-alive connections (asyncio, raw HTTP/1.1, each connection sending its next request as soon as the
previous one is answered), with 1 % deliberate re-deliveries of earlier events. Prints accepted events/s and the
p50/p99 acknowledgement latency, then stops the server (which flushes) and checks that raw_stripe.events holds every
distinct event exactly once.

    python benchmarks/webhooks.py [--seconds 20] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

SECRET = "whsec_benchmark_secret"
REPO = Path(__file__).resolve().parents[1]


def event(n: int) -> bytes:
    """A Stripe-shaped invoice.paid event, pretty-printed as Stripe sends it (~2 KB)."""
    invoice = {"id": f"in_{n:014d}", "object": "invoice", "amount_due": 4900, "amount_paid": 4900,
               "amount_remaining": 0,
               "currency": "usd", "customer": f"cus_{n % 5000:010d}", "customer_email": f"person{n % 5000}@example.com",
               "status": "paid", "paid": True, "total": 4900, "subtotal": 4900, "number": f"INV-{n:06d}",
               "lines": {"object": "list", "data": [{"id": f"il_{n}", "amount": 4900, "description": "Pro plan",
                                                     "quantity": 1}], "has_more": False},
               "status_transitions": {"paid_at": 1_700_000_000 + n, "finalized_at": 1_700_000_000 + n},
               "metadata": {"plan": "pro"}, "livemode": False, "created": 1_700_000_000 + n}
    return orjson.dumps({"id": f"evt_{n:020d}", "object": "event", "api_version": "2024-06-20",
                         "created": 1_700_000_000 + n, "type": "invoice.paid", "livemode": False,
                         "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
                         "data": {"object": invoice}}, option=orjson.OPT_INDENT_2)


def request(body: bytes, host: str) -> bytes:
    stamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    head = (f"POST /webhooks/stripe HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"User-Agent: Stripe/1.0\r\nStripe-Signature: t={stamp},v1={digest}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class Sender:
    """Closed-loop load: ``connections`` keep-alive connections, each with one request in flight."""

    def __init__(self, host: str, port: int, seconds: float, connections: int) -> None:
        self.host, self.port, self.seconds, self.connections = host, port, seconds, connections
        self.next = 0
        self.sent_ids: set[int] = set()
        self.latencies: list[float] = []
        self.accepted = 0
        self.errors: dict[str, int] = {}

    def _pick(self) -> int:
        n = self.next
        self.next += 1
        if n % 100 == 99 and self.sent_ids:   # a re-delivery of an earlier event: must not be stored twice
            return n - 50
        return n

    async def _connection(self, deadline: float) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        hostname = f"{self.host}:{self.port}"
        try:
            while time.perf_counter() < deadline:
                n = self._pick()
                data = request(event(n), hostname)
                started = time.perf_counter()
                writer.write(data)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                elapsed = time.perf_counter() - started
                status = status_line.split(b" ", 2)[1].decode() if status_line else "closed"
                if status == "200":
                    self.latencies.append(elapsed)
                    self.accepted += 1
                    self.sent_ids.add(n)
                else:
                    self.errors[status] = self.errors.get(status, 0) + 1
                    if status == "closed":
                        return
        finally:
            writer.close()

    async def run(self) -> float:
        started = time.perf_counter()
        deadline = started + self.seconds
        await asyncio.gather(*(self._connection(deadline) for _ in range(self.connections)))
        return time.perf_counter() - started


def start_server(project: Path) -> tuple[subprocess.Popen[str], str, int]:
    env = {**os.environ, "HUB__CONNECTIONS__STRIPE__WEBHOOK_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "-C", str(project), "serve", "--port", "0"], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("listening on http://"):
        proc.kill()
        raise SystemExit(f"hub serve did not start: {line!r}")
    host, _, port = line.split()[2].removeprefix("http://").rpartition(":")
    return proc, host, int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-webhooks-") as tmp:
        project = Path(tmp)
        (project / "hub.toml").write_text('[connections.stripe]\ntype = "stripe"\n')
        proc, host, port = start_server(project)
        try:
            sender = Sender(host, port, args.seconds, args.connections)
            elapsed = asyncio.run(sender.run())
        finally:
            proc.send_signal(signal.SIGINT)   # Ctrl-C: the server flushes the inbox into the warehouse and exits
            proc.wait(timeout=120)
        lat = sorted(sender.latencies)
        p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
        print(f"sent for {elapsed:.1f} s over {args.connections} keep-alive connections")
        print(f"accepted: {sender.accepted:,} events ({sender.accepted / elapsed:,.0f} events/s), "
              f"errors: {sender.errors or 'none'}")
        print(f"ack latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        sys.path.insert(0, str(REPO))
        from hub.project import Project

        rows, distinct = Project(project).query("SELECT count(*), count(DISTINCT id) FROM raw_stripe.events").rows[0]
        expected = len(sender.sent_ids)
        verdict = "OK" if rows == distinct == expected else "MISMATCH"
        print(f"stored: {rows:,} rows, {distinct:,} distinct ids, {expected:,} distinct events accepted "
              f"(re-deliveries included in accepted: {sender.accepted - expected:,}) -> exactly once: {verdict}")


if __name__ == "__main__":
    main()
