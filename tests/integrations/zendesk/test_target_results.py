"""The pusher's reading of Zendesk job statuses, over httpx.MockTransport (unit cases the emulator does not produce):
results in another order and without ``index``, a failed job and an unreadable job status are unknown outcomes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.errors import UnknownOutcomeError
from hub.integrations.zendesk.target import ZendeskPusher
from hub.reverse_etl.base import MISSING, OK, REJECTED, Record
from hub.sources.http import ApiClient, RetryPolicy


def pusher(answers: list[Any], obj: str = "users") -> ZendeskPusher:
    """A pusher whose job status polls get ``answers`` in turn (a dict body, or an int status)."""
    def handle(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        return httpx.Response(answer, json={"error": "InternalError"}) if isinstance(answer, int) \
            else httpx.Response(200, json=answer)

    client = ApiClient("zd", "https://acme.zendesk.com", http=httpx.Client(transport=httpx.MockTransport(handle)),
                       retry=RetryPolicy(max_attempts=2, base_delay=0.0), sleep=lambda s: None)
    made = ZendeskPusher(client, obj, "external_id")
    made.sleep = lambda seconds: None
    return made


def job(status: str, results: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"job_status": {"id": "abc123", "status": status, "results": results}}


RECORDS = [Record("k1", {"name": "A"}, match="x-1"), Record("k2", {"name": "B"}, match="x-2"),
           Record("k3", {"name": "C"}, match="x-3")]


def test_results_without_index_are_matched_by_external_id_not_position() -> None:
    done = job("completed", [{"id": 30, "status": "Created", "external_id": "x-3"},
                             {"id": 0, "status": "Failed", "error": "UserCreateError", "details": "Email: is invalid",
                              "external_id": "x-1"}])
    made = pusher([job("working"), done])
    outcomes = made.results("upsert", RECORDS, 200, job("queued"))
    assert [(o.status, o.target_id) for o in outcomes] == [(REJECTED, None), (REJECTED, None), (OK, "30")]
    assert "Email: is invalid" in outcomes[0].reason and outcomes[1].code == "NO_RESULT"


def test_an_update_of_a_record_gone_is_missing() -> None:
    records = [Record("k1", {"name": "A"}, target_id="7")]
    done = job("completed", [{"index": 0, "id": 7, "status": "Failed", "error": "RecordNotFound",
                              "details": "RecordNotFound"}])
    assert pusher([done]).results("update", records, 200, job("queued"))[0].status == MISSING


@pytest.mark.parametrize("answers", [[job("failed")], [500, 500]], ids=["job failed", "status unreadable"])
def test_a_failed_or_unreadable_job_is_an_unknown_outcome(answers: list[Any]) -> None:
    with pytest.raises(UnknownOutcomeError):
        pusher(answers).results("create", RECORDS, 200, job("queued"))


def test_two_tickets_with_one_external_id_reject_the_lookup() -> None:
    made = pusher([], obj="tickets")
    body = {"tickets": [{"id": 1, "external_id": "case-1"}, {"id": 2, "external_id": "CASE-1"}]}
    [outcome] = made.results("lookup", [Record("k", {}, match="case-1")], 200, body)
    assert outcome.status == REJECTED and outcome.code == "AMBIGUOUS_MATCH"
