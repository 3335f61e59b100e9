"""A `[syncs.NAME]` missing a key gets a hint drawn from the project (the engine names no vendor of its own): the
connections hub can push to, the target's usual objects, the project's connections for `conflicts`."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError
from hub.project import Project
from hub.reverse_etl import config as syncs

CONNECTIONS = """
[connections.billing]
type = "stripe"

[connections.crm]
type = "hubspot"

[connections.sales]
type = "salesforce"
"""


@pytest.mark.parametrize(("sync", "hint"), [
    ('model = "canonical.person"\nobject = "contacts"\nmatch = { email = "email" }',
     'e.g. to = "crm" (a [connections.NAME] hub can push to: crm, sales)'),
    ('model = "canonical.person"\nto = "crm"\nmatch = { email = "email" }',
     'e.g. object = "contacts" (one of contacts, companies, deals, tickets, line_items, or another object of the target)'),
    ('model = "canonical.person"\nto = "sales"\nmatch = { email = "email" }',
     'e.g. object = "Account" (one of Account, Contact, Lead, Opportunity, Case'),
    ('model = "canonical.person"\nto = "crm"\nobject = "contacts"\nmatch = { email = "email" }\nconflicts = 3',
     'e.g. conflicts = ["billing", "crm"]'),
    ('to = "crm"\nobject = "contacts"\nmatch = { email = "email" }', 'e.g. model = "canonical.person"'),
])
def test_a_missing_or_wrong_key_gets_a_hint_from_this_project(make_project, sync, hint):
    root = make_project(CONNECTIONS + "\n[syncs.people]\n" + sync + "\n")
    with pytest.raises(ConfigError) as caught:
        syncs.load(Project(root))
    assert hint in str(caught.value)
    assert "hub.toml:" in str(caught.value)
