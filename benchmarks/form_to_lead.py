"""Form to lead, latency: 1,000 form posts over 60 s to a real `hub serve`, timed until the trigger fires.

Starts `hub serve` (a subprocess) on a temporary project with ``[forms.contact]`` and a trigger ``on =
"form:contact"`` whose ``notify`` action posts the submission id to a receiver in this process. A trigger fires only
after its submission is in ``raw_forms.contact`` (the flusher moves it from the inbox first), so the time from the
post to the notification is an upper bound of post -> row landed, plus the trigger's own run. Prints p50/p99/max of
that latency against the goal (p99 <= 5 s), the ack latency of the posts, then stops the server and checks that the
table holds every submission exactly once.

What it does not measure yet: the Lead push itself (the CRM push target of the form-to-lead flow is being built
separately); when it lands, the trigger's action becomes ``push:SYNC`` and this measures post -> Lead.

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
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
GOAL_P99_S = 5.0


class Arrivals:
    """The receiver of the trigger's notifications: when each submission id arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.cond = threading.Condition()
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                now = time.perf_counter()
                key = orjson.loads(body)["text"].strip()
                with arrivals.cond:
                    arrivals.at.setdefault(key, now)
                    arrivals.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lead"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.at) < count and time.monotonic() < deadline:
                self.cond.wait(max(0.0, deadline - time.monotonic()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    arrivals = Arrivals()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "hub.toml").write_text(f"""
[forms.contact]
fields = {{ email = {{ type = "email", required = true }}, first_name = {{}}, last_name = {{ required = true }}, company = {{}} }}
honeypot = "website_url"

[actions.lead]
type = "notify"
url = "{arrivals.url}"
text = "{{{{ fields.company }}}}"

[triggers.form_to_lead]
on = "form:contact"
do = ["notify:lead"]
""")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.Popen([sys.executable, "-m", "hub", "-C", str(root), "serve", "--port", "0"], cwd=REPO,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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
                key = f"sub-{n:05d}"
                body = {"email": f"lead{n}@example.com", "first_name": "Ada", "last_name": f"Lead {n}",
                        "company": key}
                start = time.perf_counter()
                posted[key] = start
                answer = client.post(url, json=body)
                acks.append(time.perf_counter() - start)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:80]}")

            interval = args.seconds / args.posts
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                for n in range(args.posts):
                    delay = began + n * interval - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)   # pacing the load generator, not a synchronization
                    pool.submit(post, n)
            arrivals.wait(args.posts - len(failures), timeout=300)
            latencies = [arrivals.at[k] - t for k, t in posted.items() if k in arrivals.at]
            print(f"form posts: {args.posts:,} over {args.seconds:g} s ({args.posts / args.seconds:.1f}/s), "
                  f"{len(failures)} refused")
            print(f"ack latency: p50 {percentile(acks, 0.5) * 1000:.1f} ms, p99 {percentile(acks, 0.99) * 1000:.1f} ms")
            if latencies:
                p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
                print(f"post -> row landed -> trigger fired: p50 {p50:.3f} s, p99 {p99:.3f} s, "
                      f"max {max(latencies):.3f} s ({len(latencies):,} of {len(posted):,} fired); "
                      f"goal p99 <= {GOAL_P99_S:g} s: {'met' if p99 <= GOAL_P99_S else 'NOT met'}")
            print("(measured to the trigger's notification, not yet to a Lead in the CRM emulator)")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=300)
        check = subprocess.run([sys.executable, "-m", "hub", "-C", str(root), "query",
                                "SELECT count(*) AS n, count(DISTINCT last_name) AS d FROM raw_forms.contact"],
                               cwd=REPO, env=env, capture_output=True, text=True)
        print("raw_forms.contact:", " ".join(check.stdout.split()[-2:]), "(rows, distinct submissions)")


if __name__ == "__main__":
    main()
