"""Action templates and form field checks, in-process (the HTTP paths are covered through hub serve)."""

from __future__ import annotations

import pytest

from hub.actions.template import TemplateError, check, render, text
from hub.forms.config import Field
from hub.forms.intake import RateLimiter, Refusal, _check

EVENT = {"data": {"object": {"customer": "cus_1", "amount_paid": 4900, "lines": [{"sku": "pro"}], "note": None}},
         "fields": {"email": "ada@example.com"}}


def test_a_whole_placeholder_keeps_its_json_type_and_text_placeholders_are_text():
    body = {"amount": "{{ data.object.amount_paid }}", "lines": "{{data.object.lines}}",
            "label": "paid {{ data.object.amount_paid }} by {{ fields.email }}", "sku": "{{ data.object.lines.0.sku }}",
            "missing": "{{ data.nope }}", "fallback": "{{ data.object.note | none given }}", "fixed": 3,
            "nested": [{"who": "{{ data.object.customer }}"}]}
    assert render(body, EVENT) == {"amount": 4900, "lines": [{"sku": "pro"}], "label": "paid 4900 by ada@example.com",
                                   "sku": "pro", "missing": None, "fallback": "none given", "fixed": 3,
                                   "nested": [{"who": "cus_1"}]}
    assert text("{{ data.object.note }}|{{ data.object.lines }}", EVENT) == '|[{"sku":"pro"}]'


@pytest.mark.parametrize("bad", ["{{ data.object.id", "{{ a b }}", "{{ }}", "x {{ 1+1 }}", {"k": ["{{ a..b }}"]}])
def test_unreadable_templates_are_refused(bad):
    with pytest.raises(TemplateError):
        check(bad)


def test_template_values_are_never_evaluated():
    assert render("{{ __class__ }}", EVENT) is None
    assert text("{{ fields.email.__len__ }}", EVENT) == ""


@pytest.mark.parametrize(("spec", "value", "stored"), [
    (Field("n", "number"), "42.5", "42.5"),
    (Field("u", "url"), "https://example.com/x", "https://example.com/x"),
    (Field("t", "tel"), "+44 20 7946 0958", "+44 20 7946 0958"),
    (Field("e", "email"), "  ada@example.com ", "ada@example.com"),
    (Field("x"), "", None),
    (Field("x"), 7, "7"),
])
def test_field_values_are_checked_and_trimmed(spec, value, stored):
    assert _check(spec, value) == stored


@pytest.mark.parametrize(("spec", "value"), [
    (Field("n", "number"), "12 apples"), (Field("u", "url"), "javascript:alert(1)"), (Field("t", "tel"), "call me"),
    (Field("x"), ["a", "b"]), (Field("x"), {"a": 1}), (Field("x"), True), (Field("x", required=True), "  "),
])
def test_field_values_that_do_not_fit_are_422(spec, value):
    with pytest.raises(Refusal) as info:
        _check(spec, value)
    assert info.value.status == 422 and info.value.field == spec.name


def test_rate_limiter_is_a_token_bucket_per_client():
    now = [0.0]
    limiter = RateLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert limiter.take("a") == pytest.approx(30.0)     # one token every 30 s
    assert limiter.take("b") == 0                        # another client has its own bucket
    now[0] = 30.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0
