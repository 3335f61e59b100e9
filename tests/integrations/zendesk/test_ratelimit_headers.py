"""The connector's client paces from Zendesk's rate-limit headers (unit cases over httpx.MockTransport, with a fake
clock): it learns the per-minute limit, holds every request until ``ratelimit-reset`` when none is left, and leaves
the exports' own stricter limit to its path limiter."""

from __future__ import annotations

import httpx

from hub.integrations.zendesk.source import ZendeskVendor
from hub.sources.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(path: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, headers=headers, request=httpx.Request("GET", f"https://acme.zendesk.com{path}"))


def test_the_limit_is_learned_and_an_exhausted_window_waits_for_its_reset() -> None:
    fake = FakeTime()
    limiter = RateLimiter(clock=fake.clock, sleep=fake.sleep)
    vendor = ZendeskVendor()
    vendor.observe(answer("/api/v2/users.json", **{"ratelimit-limit": "700", "ratelimit-remaining": "12",
                                                   "ratelimit-reset": "41"}), limiter)
    assert (limiter.max_requests, limiter.interval) == (700, 60.0)
    assert limiter.acquire() == 0.0
    vendor.observe(answer("/api/v2/users.json", **{"x-rate-limit": "400", "x-rate-limit-remaining": "0",
                                                   "ratelimit-reset": "17"}), limiter)
    assert limiter.max_requests == 400 and limiter.acquire() == 17.0 and fake.slept == [17.0]


def test_export_answers_do_not_teach_the_account_limiter() -> None:
    limiter = RateLimiter()
    ZendeskVendor().observe(answer("/api/v2/incremental/tickets/cursor.json", **{"ratelimit-limit": "700",
                                                                                  "ratelimit-remaining": "0"}), limiter)
    assert limiter.max_requests is None and limiter.acquire() == 0.0
    assert ZendeskVendor.path_limits == {"/api/v2/incremental/": (10, 60.0)}
