"""The ``when`` filter language: what matches, and what fails to parse (with where)."""

from __future__ import annotations

import pytest

from hub.serve.when import ExpressionError, compile_when, matches

EVENT = {"type": "invoice.paid", "livemode": False,
         "data": {"object": {"amount_paid": 4900, "currency": "usd", "customer": "cus_1", "discount": None,
                             "lines": {"data": [{"amount": 4900}]}}}}


@pytest.mark.parametrize(("expression", "expected"), [
    ("data.object.amount_paid > 0", True),
    ("data.object.amount_paid >= 4900 and data.object.amount_paid <= 4900", True),
    ("data.object.amount_paid > 5000", False),
    ("type == 'invoice.paid'", True),
    ('type != "invoice.paid"', False),
    ("data.object.currency == 'eur' or data.object.currency == 'usd'", True),
    ("not livemode", True),
    ("not (data.object.amount_paid > 0 and livemode == false)", False),
    ("data.object.discount == null", True),
    ("data.object.missing.deeper == null", True),        # absent paths are null
    ("data.object.missing > 0", False),                  # ordering with null is false, not an error
    ("data.object.customer > 3", False),                 # a string against a number: false, not an error
    ("data.object.lines.data.0.amount == 4900", True),   # list items by index
    ("data.object.amount_paid == 49.0e0", None),         # not in the language: refused below
    ("livemode or type == 'x' and false", False),        # and binds tighter than or
    ("-1 < data.object.amount_paid", True),
])
def test_matches(expression, expected):
    if expected is None:
        with pytest.raises(ExpressionError):
            compile_when(expression)
        return
    assert matches(expression, EVENT) is expected


@pytest.mark.parametrize(("expression", "position"), [
    ("", 1), ("amount >", 9), ("(amount > 0", 12), ("amount > > 0", 10), ("amount ; 1", 8), ("and", 1),
    ("__import__('os')", 11),
])
def test_syntax_errors_say_where(expression, position):
    with pytest.raises(ExpressionError) as info:
        compile_when(expression)
    assert f"at character {position} " in str(info.value)
