"""How many 100-contact HubSpot list pages per second the sandbox serves over one keep-alive connection.

Pages ask for every contact property, as a full sync does. Prints two figures for 1,000 pages of a
100,000-contact portal, both with the sandbox in this process:
  * through one keep-alive ``httpx.Client`` (what a connector sees; httpx and JSON decoding cost the client
    side most of each round trip), and
  * through a bare keep-alive socket that only reads the bytes (what the emulator itself can serve).
Each pass uses a query string the other has not used, so neither is served from the emulator's page cache.

Run: .venv/bin/python benchmarks/sandbox_throughput.py [--pages 1000] [--contacts 100000]
"""

from __future__ import annotations

import argparse
import socket
import time

import httpx

from hub.sandbox import Sandbox

PATH = "/crm/v3/objects/contacts"


def with_httpx(sandbox: Sandbox, pages: int) -> tuple[int, int, float]:
    """Page with httpx and response.json(); returns (pages, records, seconds)."""
    headers = {"Authorization": f"Bearer {sandbox.hubspot.token}"}
    with httpx.Client(base_url=sandbox.hubspot.url, headers=headers) as client:
        names = [p["name"] for p in client.get("/crm/v3/properties/contacts").json()["results"]]
        params: dict[str, object] = {"limit": 100, "properties": ",".join(names)}
        done, records = 0, 0
        began = time.perf_counter()
        while done < pages:
            response = client.get(PATH, params=params)
            response.raise_for_status()
            body = response.json()
            records, done = records + len(body["results"]), done + 1
            if "paging" not in body:
                break
            params["after"] = body["paging"]["next"]["after"]
        return done, records, time.perf_counter() - began


def with_raw_socket(sandbox: Sandbox, pages: int) -> tuple[int, float]:
    """Page with a bare HTTP/1.1 keep-alive socket, no JSON parsing; returns (pages, seconds)."""
    with socket.create_connection((sandbox.hubspot.host, sandbox.hubspot.port)) as sock, \
            sock.makefile("rb") as stream:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ids = sandbox.hubspot.store.ids("contacts")
        names = ",".join(sandbox.hubspot.store.tables["contacts"].all_names)
        began = time.perf_counter()
        for page in range(pages):
            after = ids[(page * 100) % len(ids)]
            sock.sendall(f"GET {PATH}?archived=false&limit=100&after={after}&properties={names} HTTP/1.1\r\n"
                         f"Host: sandbox\r\n"
                         f"Authorization: Bearer {sandbox.hubspot.token}\r\n\r\n".encode())
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            stream.read(length)
        return pages, time.perf_counter() - began


def main() -> None:
    """Seed a large HubSpot portal, page through it both ways and print requests/s."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    sandbox = Sandbox(seed=7, hubspot_contacts=args.contacts, hubspot_rate_limit=None)
    print(f"seeded {args.contacts:,} HubSpot contacts in {time.perf_counter() - started:.2f} s")
    with sandbox:
        pages, records, elapsed = with_httpx(sandbox, args.pages)
        print(f"httpx.Client, keep-alive: {pages / elapsed:,.0f} requests/s "
              f"({pages} pages, {records / elapsed:,.0f} records/s)")
        pages, elapsed = with_raw_socket(sandbox, args.pages)
        print(f"raw keep-alive socket:    {pages / elapsed:,.0f} requests/s ({pages} pages, emulator capacity)")


if __name__ == "__main__":
    main()
