"""The whole configuration is checked before any step takes the write lock or calls an API."""

from __future__ import annotations

import pytest

from tests.conftest import run_hub, sandbox_project

BAD = {
    "syncs": ('[syncs.p]\nmodel = "canonical.person"\nto = "hubspt"\nobject = "contacts"\n'
              'match = { email = "email" }\n', "unknown connection 'hubspt'"),
    "sync where": ('[syncs.p]\nmodel = "canonical.person"\nto = "hubspot"\nobject = "contacts"\n'
                   'match = { email = "email" }\nwhere = "true); DELETE FROM canonical.person; SELECT (true"\n',
                   "[syncs.p] where"),
    "models": ('[models.person]\npriority = { phone = ["salesforse"] }\n', "salesforse"),
    "alerts": ('[alerts]\nrejected_rows_threshold = -3\n', "rejected_rows_threshold"),
    "schedules": ('[schedules.n]\ncron = "0 2 31 2 *"\n', "never fires"),
    "triggers": ('[triggers.t]\non = "hubspot:contact.creation"\ndo = ["pash:p"]\n', "[triggers.t]"),
}


@pytest.mark.parametrize("section", sorted(BAD))
@pytest.mark.parametrize("command", [("run",), ("ingest",), ("build",)])
def test_a_bad_section_stops_every_writer_before_it_writes_or_calls(make_project, sandbox, section, command):
    extra, message = BAD[section]
    root = sandbox_project(make_project, sandbox, extra=extra)
    calls = sandbox.hubspot.requests.total + sandbox.salesforce.requests.total
    proc = run_hub(*command, cwd=root)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert not (root / "warehouse.duckdb").exists() and not (root / ".hub").exists()
    assert sandbox.hubspot.requests.total + sandbox.salesforce.requests.total == calls


@pytest.mark.parametrize("section", ["syncs", "sync where", "models", "alerts"])
def test_hub_serve_checks_the_whole_configuration_before_it_starts(make_project, sandbox, section):
    from hub.errors import ConfigError
    from hub.project import Project
    from hub.serve.service import Service

    extra, message = BAD[section]
    root = sandbox_project(make_project, sandbox, extra=extra)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Service(Project(root), port=0)
    assert not (root / ".hub").exists() and not (root / "warehouse.duckdb").exists()
