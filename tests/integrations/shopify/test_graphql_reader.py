"""The emulator's GraphQL reader and pricing: the language subset it serves, and clear errors for the rest."""

from __future__ import annotations

import pytest

from hub.integrations.shopify.emulator.executor import QueryError, prepare
from hub.integrations.shopify.emulator.graphql import EnumValue, GraphQLSyntaxError, Variable, parse


def test_reads_operations_variables_aliases_literals_and_fragments():
    doc = parse('''
        # a comment
        query Named($first: Int! = 5, $q: String, $ids: [ID!]) {
          recent: orders(first: $first, query: "email:\\"a@b.c\\" \\u00e9", sortKey: UPDATED_AT, reverse: true) {
            nodes { ...OrderBits ... on Order { name } }
          }
        }
        fragment OrderBits on Order { id }
        ''')
    op = doc.operation(None)
    assert op.name == "Named" and op.variables["first"] == ("Int!", 5, True) and op.variables["ids"][0] == "[ID!]"
    field = op.selections[0]
    assert (field.name, field.alias) == ("orders", "recent")
    assert field.arguments == {"first": Variable("first"), "query": 'email:"a@b.c" é',
                               "sortKey": EnumValue("UPDATED_AT"), "reverse": True}
    assert set(doc.fragments) == {"OrderBits"}
    block = parse('{ shop { name } } fragment X on Shop { name }')
    assert block.operations[0].name is None


@pytest.mark.parametrize("text, message", [
    ("{ shop { name }", "syntax error, unexpected end of file at [1, 16]"),
    ("query { shop @include(if: true) { name } }", "directives are not served by this emulator"),
    ("subscription { shop { name } }", "subscription operations are not served"),
    ("{ shop { name } } { shop { id } }", "An operation name is required"),
    ("{ shop { } }", "syntax error, unexpected PUNCT (\"}\")"),
    ("   ", "No query string was present"),
])
def test_refuses_what_it_does_not_read_with_where(text, message):
    with pytest.raises(GraphQLSyntaxError) as caught:
        parse(text).operation(None)
    assert message in caught.value.message


def test_prices_connections_by_size_and_nested_objects():
    query = ("query($n: Int!) { shop { name } orders(first: $n) { pageInfo { hasNextPage } edges { cursor node { id "
             "totalPriceSet { shopMoney { amount } } lineItems(first: 3) { nodes { sku } } } } } }")
    # shop 1; orders 2 + n x (1 + totalPriceSet 2 + lineItems (2 + 3 x 1))
    assert prepare(query, {"n": 10}, None).requested == 1 + 2 + 10 * 8
    with pytest.raises(QueryError, match="Variable \\$n of type Int! was provided invalid value"):
        prepare(query, {}, None)
    with pytest.raises(QueryError, match="must be less than or equal to 250"):
        prepare(query, {"n": 251}, None)
    with pytest.raises(QueryError, match="doesn't accept argument 'colour'"):
        prepare("{ orders(first: 1, colour: RED) { nodes { id } } }", None, None)
    with pytest.raises(QueryError, match="Field must have selections"):
        prepare("{ orders(first: 1) { nodes { totalPriceSet } } }", None, None)
    with pytest.raises(QueryError, match="Selections can't be made on scalars"):
        prepare("{ orders(first: 1) { nodes { id { x } } } }", None, None)
    with pytest.raises(QueryError, match="Fragment Missing was used, but not defined"):
        prepare("{ shop { ...Missing } }", None, None)
    with pytest.raises(QueryError, match="invalid value \\(NAME\\)"):
        prepare("{ orders(first: 1, sortKey: NAME) { nodes { id } } }", None, None)
