"""Form to lead, latency: form posts to a real `hub serve`, timed until each is a Lead in the Salesforce emulator.

The project is the form-to-lead example's (``hub init --example form-to-lead``: ``[forms.contact]``, a trigger ``on =
"form:contact"`` doing ``push:leads_to_salesforce``, the dedup model ``marts.new_leads``), pointed at an in-process
sandbox's Salesforce emulator, with the form's per-address rate limit lifted (every post here comes from one address).
One `hub run` reads the org's contacts and leads; then `hub serve` (a subprocess) takes the posts, each a new email.
A post's latency is from just before it is sent until its Lead is in the emulator's store (polled every 10 ms under
the store's lock, so it costs no API call): post -> inbox -> raw_website.contact -> trigger -> build -> lookup ->
create. Prints p50/p99/max against the goal (p99 <= 5 s) and the ack latency of the posts, then checks that every
email is exactly one Lead.

    python benchmarks/form_to_lead.py [--posts 1000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
GOAL_P99_S = 5.0
POLL_S = 0.01


class Leads:
    """Watches the emulator's Lead table: when each email first appeared (new records only)."""

    def __init__(self, emulator: object) -> None:
        self.store = emulator.store   # type: ignore[attr-defined]
        with self.store.lock:
            self.seen = len(self.store.table("Lead").order)
        self.at: dict[str, float] = {}
        self.count: Counter[str] = Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.wait(POLL_S):
            with self.store.lock:
                table = self.store.table("Lead")
                fresh = [table.records[rid] for rid in table.order[self.seen:]]
                self.seen += len(fresh)
            now = time.perf_counter()
            for record in fresh:
                email = str(record.get("Email") or "").lower()
                self.count[email] += 1
                self.at.setdefault(email, now)

    def wait(self, emails: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not emails <= self.at.keys() and time.monotonic() < deadline:
            self.stop.wait(0.1)   # between two looks at what the watcher found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from hub.examples import get
    from hub.examples.runner import sandbox_environment
    from hub.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=7, people=400, only={"salesforce"}) as sb:
        root = Path(tmp) / "form-to-lead"
        get("form-to-lead").write(root)
        toml = root / "hub.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace('rate_limit = "30/minute"\n', ""), encoding="utf-8")
        env = sandbox_environment(root, sb, {k: v for k, v in os.environ.items() if not k.startswith("HUB__")})
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        ran = subprocess.run([sys.executable, "-m", "hub", "-C", str(root), "run"], cwd=REPO, env=env,
                             capture_output=True, text=True)
        if ran.returncode:
            raise SystemExit(f"hub run failed: {ran.stderr.strip()[-400:]}")
        leads = Leads(sb.emulators["salesforce"])
        proc = subprocess.Popen([sys.executable, "-m", "hub", "-C", str(root), "serve", "--port", "0",
                                 "--no-schedule"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("listening on "):
                raise SystemExit(f"hub serve did not start: {line!r}")
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()   # drain
            url = line.split()[2] + "/forms/contact"
            posted: dict[str, float] = {}
            acks: list[float] = []
            failures: list[str] = []
            local = threading.local()

            def post(n: int) -> None:
                client = getattr(local, "client", None) or httpx.Client(timeout=30.0)
                local.client = client
                email = f"visitor{n:05d}@form-bench.example"
                body = {"email": email, "first_name": "Ada", "last_name": f"Visitor {n}", "company": "Bench"}
                start = time.perf_counter()
                posted[email] = start
                answer = client.post(url, json=body)
                acks.append(time.perf_counter() - start)
                if answer.status_code != 200:
                    failures.append(email)
                    print(f"refused: {answer.status_code} {answer.text[:80]}", file=sys.stderr)

            interval = args.seconds / args.posts
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                for n in range(args.posts):
                    delay = began + n * interval - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)   # pacing the load generator, not a synchronization
                    pool.submit(post, n)
            expected = set(posted) - set(failures)
            leads.wait(expected, timeout=300)
            latencies = [leads.at[e] - t for e, t in posted.items() if e in leads.at]
            print(f"form posts: {args.posts:,} over {args.seconds:g} s ({args.posts / args.seconds:.1f}/s), "
                  f"{len(failures)} refused")
            print(f"ack latency: p50 {percentile(acks, 0.5) * 1000:.1f} ms, p99 {percentile(acks, 0.99) * 1000:.1f} ms")
            if latencies:
                p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
                print(f"post -> Lead in Salesforce: p50 {p50:.3f} s, p99 {p99:.3f} s, max {max(latencies):.3f} s "
                      f"({len(latencies):,} of {len(expected):,} posts are Leads); "
                      f"goal p99 <= {GOAL_P99_S:g} s: {'met' if p99 <= GOAL_P99_S else 'NOT met'}")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=300)
            leads.stop.set()
            leads.thread.join()
        twice = sum(1 for e in expected if leads.count[e] > 1)
        print(f"Leads: {sum(leads.count[e] for e in expected):,} for {len(expected):,} emails, {twice} email(s) "
              f"with more than one")


if __name__ == "__main__":
    main()
