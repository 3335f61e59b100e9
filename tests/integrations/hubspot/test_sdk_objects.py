"""hubspot-api-client, as an independent client, works deals, tickets, line items and a custom object on the emulator
over real HTTP, with v4 associations (per record, batch read, default create, removal) and the schemas API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest, PublicFetchAssociationsBatchRequest
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import PublicObjectSearchRequest, SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ObjectInput
from hubspot.crm.tickets import SimplePublicObjectInputForCreate as TicketInput

from hub.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=9, people=150, only={"hubspot"}, hubspot_rate_limit=None,
                 hubspot_search_rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> HubSpot:
    client = HubSpot(access_token=sb.hubspot.token)
    client.config["host"] = sb.hubspot.url
    return client


def some(sb: Sandbox, kind: str) -> str:
    return sb.hubspot.store.ids(kind)[0]


def test_a_deal_created_with_associations_is_linked_both_ways(client, sb):
    contact, company = some(sb, "contacts"), some(sb, "companies")
    deal = client.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"dealname": "SDK deal", "amount": "1500.50", "dealstage": "contractsent", "pipeline": "default",
                    "deal_currency_code": "EUR"},
        associations=[{"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                          "associationTypeId": 3}]},
                      {"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                          "associationTypeId": 5}]}]))
    assert deal.properties["dealname"] == "SDK deal" and deal.id
    page = client.crm.associations.v4.basic_api.get_page("deals", deal.id, "companies")
    [link] = page.results
    assert str(link.to_object_id) == company
    assert {(t.type_id, t.label) for t in link.association_types} == {(5, "Primary"), (341, None)}
    back = client.crm.associations.v4.basic_api.get_page("contacts", contact, "deals")
    assert deal.id in {str(r.to_object_id) for r in back.results}
    assert {t.type_id for r in back.results if str(r.to_object_id) == deal.id for t in r.association_types} == {4}

    won = client.crm.deals.basic_api.update(deal.id, SimplePublicObjectInput(properties={"dealstage": "closedwon"}))
    fetched = client.crm.deals.basic_api.get_by_id(won.id, properties=["hs_is_closed_won", "hs_is_closed", "amount"])
    assert fetched.properties["hs_is_closed_won"] == "true" and fetched.properties["amount"] == "1500.50"
    with pytest.raises(DealsApiException) as bad:
        client.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(properties={"dealstage": "won-ish"}))
    assert bad.value.status == 400 and "INVALID_OPTION" in bad.value.body
    with pytest.raises(DealsApiException) as wrong_type:
        client.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"dealname": "x"},
            associations=[{"to": {"id": "999999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                                  "associationTypeId": 3}]}]))
    assert wrong_type.value.status == 400
    found = client.crm.deals.search_api.do_search(PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "dealname", "operator": "EQ", "value": "SDK deal"}]}]))
    assert [r.id for r in found.results] == [deal.id]


def test_batch_read_default_create_and_removal(client, sb):
    tickets = sb.hubspot.store.ids("tickets")[:3]
    contact = client.crm.contacts.basic_api.create({"properties": {"email": "assoc@sdk.example"}}).id
    lonely = client.crm.tickets.basic_api.create(TicketInput(properties={"subject": "No links", "hs_pipeline": "0",
                                                                        "hs_pipeline_stage": "1"})).id
    made = client.crm.associations.v4.basic_api.create_default("tickets", lonely, "contacts", contact)
    assert made.status == "COMPLETE"
    assert {(r._from.id, r.to.id, r.association_spec.association_type_id) for r in made.results} == {
        (lonely, contact, 16), (contact, lonely, 15)}
    batch = client.crm.associations.v4.batch_api.get_page("tickets", "contacts", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=t) for t in [*tickets, lonely]]))
    assert {r._from.id for r in batch.results} == {*tickets, lonely}
    client.crm.associations.v4.basic_api.archive("tickets", lonely, "contacts", contact)
    assert client.crm.associations.v4.basic_api.get_page("tickets", lonely, "contacts").results == []
    # an input without associations is an error entry of a 207, not a result
    partial = client.crm.associations.v4.batch_api.get_page("tickets", "contacts", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=lonely), PublicFetchAssociationsBatchRequest(id=tickets[0])]))
    assert [r._from.id for r in partial.results] == [tickets[0]] and partial.num_errors == 1


def test_line_items_compute_their_amount_and_link_to_deals(client, sb):
    deal = some(sb, "deals")
    item = client.crm.line_items.basic_api.create({"properties": {"name": "Seats", "price": "40", "quantity": "3"},
                                                   "associations": [{"to": {"id": deal}, "types": [
                                                       {"associationCategory": "HUBSPOT_DEFINED",
                                                        "associationTypeId": 20}]}]})
    got = client.crm.line_items.basic_api.get_by_id(item.id, properties=["amount"])
    assert got.properties["amount"] == "120.00"
    links = client.crm.associations.v4.basic_api.get_page("deals", deal, "line_items")
    assert item.id in {str(r.to_object_id) for r in links.results}


def test_custom_objects_through_schemas_and_the_generic_objects_api(client, sb):
    schemas = client.crm.schemas.core_api.get_all().results
    [sub] = [s for s in schemas if s.name == "subscriptions"]
    assert sub.object_type_id.startswith("2-") and sub.fully_qualified_name.endswith("_subscriptions")
    created = client.crm.objects.basic_api.create(sub.object_type_id, ObjectInput(
        properties={"subscription_name": "SDK plan", "plan": "growth", "seats": "12"}))
    by_name = client.crm.objects.basic_api.get_by_id(sub.fully_qualified_name, created.id, properties=["plan"])
    assert by_name.properties["plan"] == "growth"
    page = client.crm.objects.basic_api.get_page(sub.object_type_id, limit=100)
    assert created.id in {r.id for r in page.results}
    props = client.crm.properties.core_api.get_all(sub.object_type_id).results
    assert {"subscription_name", "plan", "seats", "hs_createdate"} <= {p.name for p in props}
    company = some(sb, "companies")
    client.crm.associations.v4.basic_api.create_default(sub.object_type_id, created.id, "companies", company)
    links = client.crm.associations.v4.basic_api.get_page("companies", company, sub.object_type_id)
    assert created.id in {str(r.to_object_id) for r in links.results}
