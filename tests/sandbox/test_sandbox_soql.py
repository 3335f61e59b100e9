"""The SOQL subset: a table of queries and the rows they must return, and the errors Salesforce would give."""

from __future__ import annotations

import pytest

from hub.sandbox.clock import Clock
from hub.integrations.salesforce.emulator.store import SalesforceStore
from hub.integrations.salesforce.emulator.soql import SOQLError, parse
from hub.integrations.salesforce.emulator.soql_eval import Plan
from tests.sandbox.conftest import NOW


@pytest.fixture(scope="module")
def store() -> SalesforceStore:
    clock = Clock(NOW, frozen=True)
    org = SalesforceStore(clock)
    acme = org.create("Account", {"Name": "Acme Inc", "NumberOfEmployees": 50})
    rows = [
        ("Ada", "Lovelace", "ada@acme.com", "+44 20 7946 0958", acme, "1815-12-10", True),
        ("Bob", "O'Brien", "BOB@Example.com", None, None, None, False),
        (None, "Zed", None, "555-01", acme, "1990-01-01", False),
        ("Cy", "50% Off", "cy@example.com", "(415) 555-0142", None, None, False),
    ]
    for i, (first, last, email, phone, account, birthday, opted_out) in enumerate(rows):
        clock.advance(3600)
        org.create("Contact", {"FirstName": first, "LastName": last, "Email": email, "Phone": phone,
                               "AccountId": account, "Birthdate": birthday, "HasOptedOutOfEmail": opted_out})
    gone = org.create("Contact", {"LastName": "Deleted"})
    org.delete("Contact", gone)
    return org


def run(store: SalesforceStore, soql: str, include_deleted: bool = False) -> list[dict]:
    with store.lock:
        plan = Plan(parse(soql), store)
        return [plan.render(r, "v59.0") for r in plan.run(include_deleted)]


CASES = [
    ("SELECT LastName FROM Contact", ["Lovelace", "O'Brien", "Zed", "50% Off"]),
    ("select lastname from contact where email = 'bob@example.com'", ["O'Brien"]),
    ("SELECT LastName FROM Contact WHERE LastName = 'O\\'Brien'", ["O'Brien"]),
    ("SELECT LastName FROM Contact WHERE Email != null ORDER BY LastName", ["50% Off", "Lovelace", "O'Brien"]),
    ("SELECT LastName FROM Contact WHERE FirstName = NULL", ["Zed"]),
    ("SELECT LastName FROM Contact WHERE LastName LIKE '50\\% %'", ["50% Off"]),
    ("SELECT LastName FROM Contact WHERE LastName LIKE '_ed'", ["Zed"]),
    ("SELECT LastName FROM Contact WHERE LastName IN ('zed', 'Lovelace') ORDER BY LastName DESC", ["Zed", "Lovelace"]),
    ("SELECT LastName FROM Contact WHERE LastName NOT IN ('Zed') AND NOT (Email LIKE '%example.com')", ["Lovelace"]),
    ("SELECT LastName FROM Contact WHERE (Phone = null OR HasOptedOutOfEmail = TRUE) AND LastName != 'x'",
     ["Lovelace", "O'Brien"]),
    ("SELECT LastName FROM Contact WHERE Birthdate < 1900-01-01", ["Lovelace"]),
    ("SELECT LastName FROM Contact WHERE CreatedDate >= 2025-06-01T14:00:00Z", ["O'Brien", "Zed", "50% Off"]),
    ("SELECT LastName FROM Contact WHERE CreatedDate > 2025-06-01T15:00:00.000+0000", ["50% Off"]),
    ("SELECT LastName FROM Contact WHERE CreatedDate > 2025-06-01T15:00:00+01:00", ["Zed", "50% Off"]),
    ("SELECT LastName FROM Contact ORDER BY FirstName NULLS LAST, LastName", ["Lovelace", "O'Brien", "50% Off", "Zed"]),
    ("SELECT LastName FROM Contact ORDER BY FirstName DESC NULLS FIRST", ["Zed", "50% Off", "O'Brien", "Lovelace"]),
    ("SELECT LastName FROM Contact ORDER BY CreatedDate DESC LIMIT 2 OFFSET 1", ["Zed", "O'Brien"]),
    ("SELECT LastName FROM Contact WHERE Account.Name = 'ACME INC' ORDER BY LastName", ["Lovelace", "Zed"]),
]


@pytest.mark.parametrize("soql, expected", CASES, ids=[c[0] for c in CASES])
def test_queries_return_the_expected_rows(store, soql, expected):
    assert [r["LastName"] for r in run(store, soql)] == expected


def test_parent_fields_render_nested_and_deleted_rows_need_query_all(store):
    rows = run(store, "SELECT Id, Account.Name, Account.NumberOfEmployees FROM Contact ORDER BY LastName")
    with_account = [r for r in rows if r["Account"] is not None]
    assert with_account[0]["Account"]["Name"] == "Acme Inc" and with_account[0]["Account"]["NumberOfEmployees"] == 50
    assert with_account[0]["Account"]["attributes"]["type"] == "Account"
    assert sum(r["Account"] is None for r in rows) == 2
    assert "Deleted" not in [r["LastName"] for r in run(store, "SELECT LastName FROM Contact")]
    assert [r["LastName"] for r in run(store, "SELECT LastName FROM Contact WHERE IsDeleted = true", True)] == \
        ["Deleted"]


@pytest.mark.parametrize("soql, code, fragment", [
    ("SELECT Id FORM Contact", "MALFORMED_QUERY", "unexpected token: FORM"),
    ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "<EOF>"),
    ("SELECT Id FROM Contact WHERE Email = 'x", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Contact WHERE Email = 'a\\qb'", "MALFORMED_QUERY", "Illegal character sequence"),
    ("SELECT Nope FROM Contact", "INVALID_FIELD", "No such column 'Nope' on entity 'Contact'"),
    ("SELECT Owner.Name FROM Contact", "INVALID_FIELD", "No such column 'Owner.Name'"),
    ("SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01", "INVALID_FIELD", "must be of type dateTime"),
    ("SELECT Id FROM Contact WHERE Email = 5", "INVALID_FIELD", "must be of type string"),
    ("SELECT Id FROM Quote", "INVALID_TYPE", "sObject type 'Quote' is not supported"),
    ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "2000"),
])
def test_errors_carry_salesforce_codes(store, soql, code, fragment):
    with pytest.raises(SOQLError) as caught:
        run(store, soql)
    assert caught.value.code == code and fragment in caught.value.message


def test_malformed_message_points_at_the_column():
    with pytest.raises(SOQLError) as caught:
        parse("SELECT Id FORM Contact")
    assert caught.value.message.splitlines()[1:4] == ["SELECT Id FORM Contact", "          ^",
                                                      "ERROR at Row:1:Column:11"]
