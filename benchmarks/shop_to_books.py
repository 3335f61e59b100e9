"""Shop to books: 10,000 orders become QuickBooks invoices through `hub push`, measured against the ceiling the
emulated company's limits allow, then the same again with the push killed (SIGKILL) halfway and run once more: every
order must be exactly one invoice.

The sandbox's QuickBooks runs in its own process (as the vendor would) with its limits on. Which limits is
``--limits``:

  contract     issue 13's: 500 requests a minute per company, 30 operations per batch (the default);
  limits-page  Intuit's "API call limits and throttles" page today: 500 requests a minute, batch requests also
               throttled at 40 a minute per company and app, 30 payloads per batch;
  batch-page   Intuit's "Batch operation" page today: 10 payloads per batch, 40 batch requests a minute.

10,000 invoices take about 344 requests, fewer than the 500 a real minute allows, so at full scale the limit would not
bind within the run. The limits are therefore *time-scaled* (``--time-scale K``, default 5): every limit keeps its
rate and shape but over a window K times shorter with K times fewer requests (500 a minute becomes 100 per 12 s), so the
run spends several windows against it. The emulator enforces exactly that; the project's connection says the same
(``rate_limit``, ``batch_rate_limit``, ``batch_size``), as a user whose company has other limits would. Both
ceilings are computed from the limits enforced: the sustained one is the tightest (requests per window / window) x
operations per batch; this run's is what a perfect client would reach on these orders, sending each write batch the
moment the rolling window allows (the first window's worth at once, then one window's worth per window), which a short
run lifts above the sustained one. The ratio is achieved / this run's ceiling. ``--time-scale 1`` runs the real
windows (then use ``--orders 45000`` or more for the limit to bind). A larger K leaves the client less margin: it
counts a window 2% longer than the company's (240 ms at the default scale, 1.2 s at full scale), and a busy machine
delays some arrivals by more than that at 10 (120 ms) or 50 (24 ms): then 429s appear, each costing every request a
quarter of a window.

The orders are the model ``canonical.order_invoice`` (filled directly here; the Shopify half of the flow produces it).
Each sync first looks the orders up by DocNumber (1000 to a request), then creates the missing ones a batch at a time.
The script prints:

  first push     - invoices/s, the ceilings, ``ratio: achieved / this run's ceiling`` (goal >= 0.9), requests, 429s;
  kill + rerun   - how many invoices existed when the push was killed, then the duplicates (DocNumbers with more
                   than one invoice; goal 0) and the orders still without an invoice (goal 0) after the rerun.

The Shopify half (``--half shop``, or both with the default ``--half all``): the sandbox's Shopify holds the orders
(its query-cost bucket restored fast, so the ingest takes seconds), and the project is the shop-to-books example's:
`hub ingest` + `hub build` make ``books.customers`` and ``books.invoices`` from ``canonical.order``, then `hub push`
runs ``customers_to_books`` (found by email, else created) and ``invoices_to_books`` (CustomerRef through ``refs``).
It prints the push's invoices/s against the same ceiling, then kills (SIGKILL) a push of a fresh company halfway,
runs it again and prints the duplicates (goal 0). Orders whose buyer's email QuickBooks refuses get no invoice (the
push rejects them, ``UNRESOLVED_REFERENCE``); they are counted apart.

    python benchmarks/shop_to_books.py [--orders 10000] [--half all|books|shop] [--limits contract|limits-page|batch-page]
                                       [--time-scale 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: name -> (requests, seconds) per company, (batch requests, seconds) or None, operations per batch
LIMITS: dict[str, tuple[tuple[int, float], tuple[int, float] | None, int]] = {
    "contract": ((500, 60.0), None, 30),
    "limits-page": ((500, 60.0), (40, 60.0), 30),
    "batch-page": ((500, 60.0), (40, 60.0), 10),
}


class Limits:
    """One limit shape, time-scaled: what the emulator enforces, the connection paces by, and the ceiling."""

    def __init__(self, name: str, scale: float) -> None:
        (count, window), batches, self.batch = LIMITS[name]
        self.name, self.scale = name, scale
        self.rate = self._scaled(count, window)
        self.batches = self._scaled(*batches) if batches else None

    def _scaled(self, count: int, window: float) -> tuple[int, float]:
        scaled = max(1, round(count / self.scale))
        return scaled, window * scaled / count    # the same rate whatever the rounding

    def ceiling(self) -> float:
        """Invoices a second the enforced limits allow, every request a full batch."""
        per_second = self.rate[0] / self.rate[1]
        if self.batches:
            per_second = min(per_second, self.batches[0] / self.batches[1])
        return per_second * self.batch

    def run_ceiling(self, invoices: int, others: int = 0) -> float:
        """Invoices a second of a perfect client on this run: it sends each of the run's write batches the moment the
        rolling windows allow (a window's worth at once at the start, then a window's worth per window), so its last
        batch goes out floor((batches - 1) / requests) windows after its first. Over a long run this comes down to
        :meth:`ceiling`; over a short one the free first window lifts it above. ``others``: records the run must
        write besides the invoices (the shop half's customers)."""
        batches = -(-invoices // self.batch) + -(-others // self.batch)
        seconds = max(((batches - 1) // count) * window for count, window in filter(None, (self.rate, self.batches)))
        return invoices / seconds if seconds else float("inf")

    def sandbox_options(self) -> dict[str, object]:
        return {"quickbooks_rate_limit": self.rate, "quickbooks_batch_rate_limit": self.batches,
                "quickbooks_batch_max": self.batch}

    def connection(self) -> str:
        """The connection's keys that say the same limits (hub.toml lines)."""
        lines = f"batch_size = {self.batch}\nrate_limit = [{self.rate[0]}, {self.rate[1]:g}]\n"
        if self.batches:
            lines += f"batch_rate_limit = [{self.batches[0]}, {self.batches[1]:g}]\n"
        return lines

    def describe(self) -> str:
        def one(limit: tuple[int, float], what: str) -> str:
            return f"{limit[0]} {what} per {limit[1]:g} s"

        real = LIMITS[self.name]
        text = one(self.rate, "requests")
        if self.batches:
            text += " and " + one(self.batches, "batch requests")
        text += f", {self.batch} operations per batch"
        if self.scale != 1:
            full = one(real[0], "requests") + (" and " + one(real[1], "batch requests") if real[1] else "")
            text += f" (time-scaled by {self.scale:g} from {full}: the same rate, a window {self.scale:g}x shorter)"
        return f"limits enforced ({self.name}): {text}; ceiling {self.ceiling():,.1f} invoices/s"


SYNC = """
[syncs.orders_to_books]
model = "canonical.order_invoice"
key = "order_number"
to = "books"
object = "Invoice"
mode = "upsert"
match = { order_number = "DocNumber" }
fields = { customer_id = "CustomerRef.value", amount = "Amount", note = "PrivateNote" }
"""


def serve(conn, limits: dict[str, object], shop_orders: int = 0) -> None:
    """The sandbox process: answers the benchmark's questions over a pipe until told to stop. ``limits`` are the
    QuickBooks emulator's options; with ``shop_orders``, a Shopify holding that many orders runs beside it."""
    from hub.sandbox import Sandbox

    if shop_orders:
        sb = Sandbox(seed=1, people=400, only=["quickbooks", "shopify"], quickbooks_customers=100,
                     shopify_orders=shop_orders, shopify_restore_rate=15000, shopify_bucket_size=2000,
                     **limits).start()
        shop = sb.emulators["shopify"]
        conn.send((shop.url, shop.token))
    else:
        sb = Sandbox(seed=1, people=200, only=["quickbooks"], quickbooks_customers=100, **limits).start()
    q = sb.quickbooks
    stamps: list[float] = []     # when each request arrived (wall clock, comparable with the benchmark's process)
    count = q.requests.record

    def timed(method: str, template: str) -> None:
        stamps.append(time.time())
        count(method, template)

    q.requests.record = timed
    conn.send((q.url, q.realm, q.auth.client_id, q.auth.client_secret, sorted(q.company.records["Customer"], key=int)))
    while True:
        command, *args = conn.recv()
        if command == "stop":
            break
        if command == "grant":
            conn.send(q.auth.authorize())
        elif command == "reset":
            q.requests.reset()
            stamps.clear()
            q.throttled = 0
            for limiter in (q.limiter, q.batch_limiter):
                if limiter is not None:
                    limiter.reset()
            conn.send(None)
        elif command == "requests":
            conn.send((q.requests.total, q.requests["POST /v3/company/{realm}/batch"], q.throttled,
                       (min(stamps), max(stamps)) if stamps else (0.0, 0.0)))
        elif command == "invoices":
            prefix = args[0]
            counts: dict[str, int] = {}
            with q.company._lock:
                for record in q.company.records["Invoice"].values():
                    doc = str(record.get("DocNumber") or "")
                    if doc.startswith(prefix):
                        counts[doc] = counts.get(doc, 0) + 1
            conn.send(counts)
    sb.stop()


def project(root: Path, url: str, realm: str, client_id: str, client_secret: str, refresh: str,
            limits: Limits) -> Path:
    root.mkdir(parents=True)
    (root / "hub.toml").write_text(f'[connections.books]\ntype = "quickbooks"\nbase_url = "{url}"\n'
                                   f'auth_url = "{url}"\nrealm_id = "{realm}"\n{limits.connection()}{SYNC}')
    (root / "secrets.toml").write_text(f'[connections.books]\nclient_id = "{client_id}"\n'
                                       f'client_secret = "{client_secret}"\nrefresh_token = "{refresh}"\n')
    return root


def fill(root: Path, orders: int, prefix: str, customers: list[str]) -> None:
    from hub.project import Project

    ids = ", ".join(f"'{c}'" for c in customers)
    with Project(root).warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        wh.execute(f"""
            CREATE OR REPLACE TABLE canonical.order_invoice AS
            SELECT '{prefix}' || (100000 + i)::VARCHAR AS order_number,
                   ([{ids}])[1 + i % {len(customers)}] AS customer_id,
                   CAST(10 + (i % 500) + 0.25 AS DECIMAL(18,2)) AS amount,
                   'order: {prefix}' || (100000 + i)::VARCHAR AS note
            FROM range({orders}) t(i)""")


def hub(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen([sys.executable, "-m", "hub", "-C", str(root), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--half", choices=("all", "books", "shop"), default="all")
    parser.add_argument("--limits", choices=tuple(LIMITS), default="contract")
    parser.add_argument("--time-scale", type=float, default=5.0,
                        help="divide every limit's window and request count by this (1: real minutes)")
    args = parser.parse_args()
    if args.time_scale < 1:
        parser.error("--time-scale must be 1 or more")
    args.limits = Limits(args.limits, args.time_scale)
    print(args.limits.describe())
    if args.half in ("all", "books"):
        books_half(args)
    if args.half in ("all", "shop"):
        shop_half(args)


def report(label: str, made: int, orders: int, elapsed: float, limits: Limits, how: str, others: int = 0) -> None:
    """The invoices/s against the sustained ceiling and against this run's (the ratio, goal >= 0.9)."""
    rate, ceiling, run = made / elapsed, limits.ceiling(), limits.run_ceiling(orders, others)
    print(f"{label}: {made:,} invoices for {orders:,} orders in {elapsed:.1f} s ({how}) = {rate:,.1f} invoices/s; "
          f"sustained ceiling {ceiling:,.1f} invoices/s ({rate / ceiling:.2f} of it); this run's ceiling "
          f"{run:,.1f} invoices/s (a perfect client: the first window's burst, then the limit)")
    if run == float("inf"):
        print("ratio: n/a (the run's requests fit in the first window: the limit never binds; use more orders)")
        return
    print(f"ratio: {rate / run:.2f} (achieved / this run's ceiling)")


def inside(made: int, orders: int, span: tuple[float, float], wall: float, elapsed: float, limits: Limits,
           others: int = 0) -> None:
    """Where the whole process's time went: before the first request (interpreter, imports, config, warehouse), the
    requests' span, after the last one; and the rate over the span against this run's ceiling."""
    first, last = span
    run = limits.run_ceiling(orders, others)
    if not last or run == float("inf"):
        return
    between = max(last - first, 1e-9)
    print(f"  of which: {first - wall:.1f} s before the first request (process start, imports, config, token), "
          f"{between:.1f} s from the first request to the last = {made / between:,.1f} invoices/s "
          f"({made / between / run:.2f} of this run's ceiling), {wall + elapsed - last:.1f} s after the last")


def books_half(args: argparse.Namespace) -> None:
    parent, child = mp.Pipe()
    server = mp.Process(target=serve, args=(child, args.limits.sandbox_options()), daemon=True)
    server.start()
    url, realm, client_id, client_secret, customers = parent.recv()

    def ask(*command: object) -> object:
        parent.send(command)
        return parent.recv()

    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp) / "first", url, realm, client_id, client_secret, ask("grant"), args.limits)
        fill(root, args.orders, "A-", customers)
        ask("reset")
        started, wall = time.perf_counter(), time.time()
        proc = hub(root, "push")
        out, err = proc.communicate()
        elapsed = time.perf_counter() - started
        served, batches, throttled, span = ask("requests")
        made = ask("invoices", "A-")
        print(out.strip()[-600:] or err.strip()[-600:])
        report("first push", len(made), args.orders, elapsed, args.limits, "hub push, whole process")
        inside(len(made), args.orders, span, wall, elapsed, args.limits)
        print(f"requests served {served:,} ({batches:,} batch); 429s answered (and retried) {throttled}; "
              f"exit code {proc.returncode}")
        print(f"duplicates: {sum(n - 1 for n in made.values())}; orders without an invoice: "
              f"{args.orders - len(made)}")

        # the same with the push killed halfway, then run again
        root = project(Path(tmp) / "killed", url, realm, client_id, client_secret, ask("grant"), args.limits)
        fill(root, args.orders, "K-", customers)
        proc = hub(root, "push")
        while proc.poll() is None and len(ask("invoices", "K-")) < args.orders // 2:
            time.sleep(0.05)
        at_kill = len(ask("invoices", "K-"))
        finished_first = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if finished_first:
            print(f"the push ended (exit code {proc.returncode}) before it could be killed: "
                  f"{proc.stderr.read().strip()[-300:] if proc.stderr else ''}")
        rerun = hub(root, "push")
        out, err = rerun.communicate()
        made = ask("invoices", "K-")
        duplicates = sum(n - 1 for n in made.values())
        print(f"kill + rerun: killed (SIGKILL) with {at_kill:,} of {args.orders:,} invoices made; rerun exit code "
              f"{rerun.returncode}")
        print(f"duplicates after SIGKILL and rerun: {duplicates}; orders without an invoice: "
              f"{args.orders - len(made)}")
    parent.send(("stop",))
    server.join(timeout=10)


EXAMPLE = ROOT / "hub" / "examples" / "shop_to_books" / "project"
SHOP_SYNCS = """
[syncs.customers_to_books]
model = "books.customers"
key = "email"
to = "books"
object = "Customer"
match = { email = "PrimaryEmailAddr.Address" }
fields = { display_name = "DisplayName", first_name = "GivenName", last_name = "FamilyName" }

[syncs.invoices_to_books]
model = "books.invoices"
key = "order_id"
to = "books"
object = "Invoice"
match = { order_number = "DocNumber" }
fields = { customer = "CustomerRef.value", total = "Amount", description = "Description", order_date = "TxnDate", note = "PrivateNote" }
refs = { customer = "customers_to_books" }
"""


class ShopServer:
    """A sandbox process with Shopify (``orders`` orders) and QuickBooks."""

    def __init__(self, orders: int, limits: Limits) -> None:
        self.pipe, child = mp.Pipe()
        self.process = mp.Process(target=serve, args=(child, limits.sandbox_options(), orders), daemon=True)
        self.process.start()
        self.shop_url, self.shop_token = self.pipe.recv()
        self.url, self.realm, self.client_id, self.client_secret, _ = self.pipe.recv()

    def ask(self, *command: object) -> object:
        self.pipe.send(command)
        return self.pipe.recv()

    def stop(self) -> None:
        self.pipe.send(("stop",))
        self.process.join(timeout=10)


def shop_project(root: Path, server: ShopServer, limits: Limits) -> Path:
    """The example's models with its customer and invoice syncs, pointed at ``server``."""
    root.mkdir(parents=True)
    (root / "models" / "books").mkdir(parents=True)
    for name in ("customers", "invoices"):
        (root / "models" / "books" / f"{name}.sql").write_text(
            (EXAMPLE / "models" / "books" / f"{name}.sql").read_text())
    (root / "hub.toml").write_text(
        f'[connections.shop]\ntype = "shopify"\nbase_url = "{server.shop_url}"\nstreams = ["customers", "orders"]\n'
        f'[connections.books]\ntype = "quickbooks"\nbase_url = "{server.url}"\nauth_url = "{server.url}"\n'
        f'realm_id = "{server.realm}"\nstreams = []\n{limits.connection()}{SHOP_SYNCS}')
    (root / "secrets.toml").write_text(
        f'[connections.shop]\ntoken = "{server.shop_token}"\n[connections.books]\nclient_id = "{server.client_id}"\n'
        f'client_secret = "{server.client_secret}"\nrefresh_token = "{server.ask("grant")}"\n')
    return root


def prepared(root: Path) -> tuple[int, int, float]:
    """`hub ingest` + `hub build`: the orders in the warehouse; returns (orders to invoice, customers to write,
    seconds it took)."""
    from hub.project import Project

    started = time.perf_counter()
    for step in (("ingest", "shop"), ("build",)):
        proc = hub(root, *step)
        out, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"hub {' '.join(step)} failed: {(err or out).strip()[-600:]}")
    with Project(root).warehouse() as wh:
        count = wh.query("SELECT count(*) FROM books.invoices").scalar()
        customers = wh.query("SELECT count(*) FROM books.customers").scalar()
    return int(count), int(customers), time.perf_counter() - started


def unresolved(root: Path) -> int:
    from hub.project import Project

    with Project(root).warehouse() as wh:
        return int(wh.query("SELECT count(*) FROM _hub.rejected_rows WHERE sync = 'invoices_to_books' "
                            "AND code = 'UNRESOLVED_REFERENCE'").scalar())


def shop_half(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = ShopServer(args.orders, args.limits)
        try:
            root = shop_project(Path(tmp) / "shop", server, args.limits)
            orders, customers, took = prepared(root)
            print(f"shop half: {orders:,} orders ingested from the Shopify emulator and built in {took:.1f} s")
            server.ask("reset")
            started, wall = time.perf_counter(), time.time()
            proc = hub(root, "push")
            out, err = proc.communicate()
            elapsed = time.perf_counter() - started
            served, batches, throttled, span = server.ask("requests")
            made = server.ask("invoices", "#")
            waiting = unresolved(root)
            print(out.strip()[-600:] or err.strip()[-600:])
            report("shop push", len(made), orders, elapsed, args.limits,
                   f"hub push, {customers:,} customers first, whole process", customers)
            inside(len(made), orders, span, wall, elapsed, args.limits, customers)
            print(f"requests served {served:,} ({batches:,} batch); 429s answered (and retried) {throttled}; "
                  f"exit code {proc.returncode}")
            print(f"duplicates: {sum(n - 1 for n in made.values())}; orders without an invoice: "
                  f"{orders - len(made)} ({waiting} of them waiting for a customer QuickBooks refused)")
        finally:
            server.stop()

        # a fresh company, the push killed halfway, then run again
        server = ShopServer(args.orders, args.limits)
        try:
            root = shop_project(Path(tmp) / "killed", server, args.limits)
            orders, _, _ = prepared(root)
            proc = hub(root, "push")
            while proc.poll() is None and len(server.ask("invoices", "#")) < orders // 2:
                time.sleep(0.05)
            at_kill = len(server.ask("invoices", "#"))
            finished_first = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if finished_first:
                print(f"the push ended (exit code {proc.returncode}) before it could be killed")
            rerun = hub(root, "push")
            rerun.communicate()
            made = server.ask("invoices", "#")
            waiting = unresolved(root)
            print(f"shop kill + rerun: killed (SIGKILL) with {at_kill:,} of {orders:,} invoices made; rerun exit "
                  f"code {rerun.returncode}")
            print(f"duplicates after SIGKILL and rerun: {sum(n - 1 for n in made.values())}; orders without an "
                  f"invoice: {orders - len(made)} ({waiting} of them waiting for a customer QuickBooks refused)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
