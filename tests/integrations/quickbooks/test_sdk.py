"""The QuickBooks emulator through the official SDK (python-quickbooks + intuit-oauth) over real loopback HTTP: it
speaks the Accounting API the SDK was written for, with its rules (SyncToken, requestid, batch, CDC, rotation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from tests.integrations.quickbooks.conftest import sdk


def test_oauth_refresh_rotates_and_the_spent_refresh_token_is_refused(tls_sb):
    sb = tls_sb
    from intuitlib.client import AuthClient
    from intuitlib.exceptions import AuthClientError

    q = sb.quickbooks
    auth = AuthClient(q.auth.client_id, q.auth.client_secret, "http://localhost/cb",
                      f"{q.url}/.well-known/openid_configuration")
    first = q.auth.authorize()
    auth.refresh(refresh_token=first)
    assert auth.expires_in == 3600 and auth.refresh_token and auth.refresh_token != first
    with pytest.raises(AuthClientError) as refused:
        auth.refresh(refresh_token=first)   # rotated: the spent one no longer works
    assert refused.value.status_code == 400 and "invalid_grant" in refused.value.content.decode()
    auth.refresh()   # the new one does
    wrong = AuthClient(q.auth.client_id, "not-the-secret", "http://localhost/cb",
                       f"{q.url}/.well-known/openid_configuration")
    with pytest.raises(AuthClientError):
        wrong.refresh(refresh_token=q.auth.authorize())


def test_query_create_update_with_sync_token_and_delete(tls_sb):
    sb = tls_sb
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.base import Ref
    from quickbooks.objects.invoice import Invoice

    qb = sdk(sb)
    seeded = Customer.all(max_results=1000, qb=qb)
    assert len(seeded) == sb.quickbooks.company.count("Customer") > 0
    assert Customer.count(qb=qb) == len(seeded)
    page = Customer.all(start_position=3, max_results=5, qb=qb)
    assert [c.Id for c in page] == [c.Id for c in seeded[2:7]]

    customer = Customer()
    customer.DisplayName, customer.GivenName, customer.FamilyName = "Ada Lovelace", "Ada", "Lovelace"
    customer = customer.save(qb=qb)   # the SDK returns the record as saved
    assert customer.Id and customer.SyncToken == "0"
    assert [c.Id for c in Customer.filter(DisplayName="Ada Lovelace", qb=qb)] == [customer.Id]

    stale = Customer.get(customer.Id, qb=qb)
    customer.CompanyName = "Analytical Engines"
    customer = customer.save(qb=qb)
    assert customer.SyncToken == "1"
    stale.Notes = "written from an old copy"
    with pytest.raises(QuickbooksException) as error:
        stale.save(qb=qb)                        # its SyncToken 0 is stale now
    assert error.value.error_code == 5010
    assert Customer.get(customer.Id, qb=qb).Notes in (None, "")

    twin = Customer()
    twin.DisplayName = "ada lovelace"
    with pytest.raises(QuickbooksException) as duplicate:
        twin.save(qb=qb)
    assert duplicate.value.error_code == 6240

    invoice = Invoice()
    line = SalesItemLine()
    line.Amount = 250.0
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = "1"
    invoice.Line = [line]
    invoice.CustomerRef = customer.to_ref()
    invoice.DocNumber = "SDK-1"
    invoice = invoice.save(qb=qb)
    assert float(invoice.TotalAmt) == 250.0 and float(invoice.Balance) == 250.0
    assert [i.Id for i in Invoice.where("DocNumber IN ('SDK-1', 'nope')", qb=qb)] == [invoice.Id]
    invoice.delete(qb=qb)
    assert Invoice.where("DocNumber = 'SDK-1'", qb=qb) == []

    bad = Invoice()
    bad.Line, bad.CustomerRef = [line], Ref()
    bad.CustomerRef.value = "999999"
    with pytest.raises(QuickbooksException) as reference:
        bad.save(qb=qb)
    assert reference.value.error_code == 2500


def test_requestid_answers_a_repeat_with_the_first_answer(tls_sb):
    sb = tls_sb
    from quickbooks.objects.customer import Customer

    qb = sdk(sb)
    before = sb.quickbooks.company.count("Customer")
    first, again = Customer(), Customer()
    first.DisplayName = again.DisplayName = "Grace Hopper"
    first = first.save(qb=qb, request_id="rq-grace-1")
    again = again.save(qb=qb, request_id="rq-grace-1")   # a resend: not a second customer, nor a duplicate-name error
    assert again.Id == first.Id
    assert sb.quickbooks.company.count("Customer") == before + 1


def test_batch_takes_thirty_items_answers_per_bid_and_refuses_more_as_a_whole(tls_sb):
    sb = tls_sb
    from quickbooks.batch import batch_create
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.batchrequest import IntuitBatchRequest, BatchItemRequest
    from quickbooks.objects.customer import Customer

    qb = sdk(sb)
    people = []
    for n in range(31):
        c = Customer()
        c.DisplayName = f"Batch Person {n}"
        people.append(c)
    people[5].DisplayName = "Batch Person 4"   # a duplicate within the batch: that item alone fails
    result = batch_create(people[:30], qb=qb)  # the SDK sends up to 30 per request
    assert len(result.successes) == 29 and len(result.faults) == 1
    assert result.faults[0].Error[0].code == "6240"

    batch = IntuitBatchRequest()
    for n, person in enumerate(people):
        item = BatchItemRequest()
        item.bId, item.operation = str(n), "create"
        item.set_object(person)
        batch.BatchItemRequest.append(item)
    before = sb.quickbooks.company.count("Customer")
    with pytest.raises(QuickbooksException):
        qb.batch_operation(batch.to_json())      # 31 items: refused, nothing applied
    assert sb.quickbooks.company.count("Customer") == before


def test_cdc_reports_changes_and_deletions_within_thirty_days(tls_sb):
    sb = tls_sb
    from quickbooks.cdc import change_data_capture
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.payment import Payment

    qb = sdk(sb)
    company = sb.quickbooks.company
    since = company.now() - timedelta(seconds=1)
    invoice = Invoice.all(max_results=1, qb=qb)[0]
    company.touch("Invoice", invoice.Id, PrivateNote="edited in QuickBooks")
    payment = Payment.all(max_results=1, qb=qb)[0]
    payment.delete(qb=qb)
    answer = change_data_capture([Invoice, Payment], since.strftime("%Y-%m-%dT%H:%M:%S") + "Z", qb=qb)
    assert [i.Id for i in answer.Invoice] == [invoice.Id]
    assert [(p.Id, p.status) for p in answer.Payment] == [(payment.Id, "Deleted")]
    with pytest.raises(Exception) as old:
        change_data_capture([Invoice], (company.now() - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S"), qb=qb)
    assert "30 days" in str(old.value.detail)


def test_limits_ten_at_once_and_the_throttle_fault(tls_sb):
    sb = tls_sb
    q = sb.quickbooks
    token = q.auth.refresh(q.auth.authorize())["access_token"]
    url = f"{q.url}/v3/company/{q.realm}/query"
    q.latency = 1.0   # every request takes a while inside the company: twenty sent at once overlap
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, limits=httpx.Limits(max_connections=30),
                      verify=str(sb.ca_path)) as http, \
            ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: http.get(url, params={"query": "SELECT * FROM Item", "minorversion": 75}),
                                range(20)))
    q.latency = 0.0
    throttled = [a for a in answers if a.status_code == 429]
    assert q.peak <= 10 and throttled
    assert throttled[0].json()["Fault"]["Error"][0]["code"] == "3001"
    assert {a.status_code for a in answers} == {200, 429}


def test_queries_outside_the_language_are_refused(tls_sb):
    sb = tls_sb
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.customer import Customer

    qb = sdk(sb)
    with pytest.raises(QuickbooksException) as error:
        Customer.where("DisplayName = 'a' OR DisplayName = 'b'", qb=qb)
    assert error.value.error_code == 4000


def test_webhook_signature_as_the_sdk_checks_it():
    from quickbooks import QuickBooks

    from hub.integrations.quickbooks.webhooks import SCHEME

    body = b'[{"specversion":"1.0","id":"e1","type":"qbo.invoice.created.v1","intuitentityid":"5"}]'
    signature = base64.b64encode(hmac.new(b"verifier", body, hashlib.sha256).digest()).decode()
    client = QuickBooks(verifier_token="verifier", minorversion=75)
    assert client.validate_webhook_signature(body.decode(), signature)
    SCHEME.verify(body, {"intuit-signature": signature}, "verifier")
