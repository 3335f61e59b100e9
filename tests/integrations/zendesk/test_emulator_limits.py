"""The emulator is as strict as Zendesk: the exports' own rate limit (429 with Retry-After, which the connector
waits out), the bulk limit of 100, a start_time within the last minute, an unknown cursor."""

from __future__ import annotations

import json

import httpx

from hub.sandbox import Sandbox
from tests.conftest import run_hub
from tests.integrations.zendesk.helpers import zendesk_project
from tests.sandbox.conftest import NOW


def test_the_export_limit_answers_429_and_ingest_waits_it_out(make_project) -> None:
    with Sandbox(seed=3, people=20, now=NOW, only={"zendesk"}, zendesk_export_rate_limit=(2, 2.0)) as sb:
        root = zendesk_project(make_project, sb, extra="max_retries = 5")
        done = run_hub("ingest", cwd=root)
        assert done.returncode == 0, done.stderr
        assert sb.zendesk.limited["export"] >= 1                # Zendesk refused, hub waited Retry-After and went on
        counted = run_hub("query", "--format", "json", "SELECT count(*) AS n FROM raw_zendesk.tickets", cwd=root)
        assert json.loads(counted.stdout) == [{"n": len(sb.zendesk.store.records["ticket"])}]


def test_bulk_limit_recent_start_time_and_bad_cursor_are_refused() -> None:
    with Sandbox(seed=3, people=5, now=NOW, only={"zendesk"}, zendesk_export_rate_limit=None) as sb:
        z = sb.zendesk
        api = httpx.Client(base_url=z.url, auth=(f"{z.email}/token", z.api_token))
        many = api.post("/api/v2/organizations/create_many.json",
                        json={"organizations": [{"name": f"O{i}"} for i in range(101)]})
        assert many.status_code == 400 and many.json()["error"] == "TooManyValues"
        recent = api.get("/api/v2/incremental/tickets/cursor.json", params={"start_time": int(z.clock.seconds())})
        assert recent.status_code == 400 and "Too recent start_time" in recent.json()["description"]
        assert api.get("/api/v2/incremental/users/cursor.json", params={"cursor": "%%%"}).status_code == 400
        job = api.post("/api/v2/organizations/create_many.json", json={"organizations": [{"name": "Queued Org"}]})
        assert job.json()["job_status"]["status"] == "queued" and job.json()["job_status"]["results"] is None
        assert "Queued Org" not in {o["name"] for o in z.store.live("organization")}   # not written yet
        done = api.get(f"/api/v2/job_statuses/{job.json()['job_status']['id']}.json").json()["job_status"]
        assert done["status"] == "completed" and done["results"][0]["status"] == "Created"
        assert api.get("/api/v2/users/me.json", auth=("x/token", "wrong")).status_code == 401
