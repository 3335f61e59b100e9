"""A sync whose model has no data yet: the build skips the model with a note (its source table does not exist: a form
nobody posted yet, a stream never ingested), and the push says there is nothing to send yet, exit 0, no call made.
A model that is merely not built is still an error, and a misspelt model name still fails the config check, with the
closest name, before anything runs. The real CLI in a subprocess, on the form-to-lead example and the Salesforce
emulator."""

from __future__ import annotations

import os
from pathlib import Path

from hub.examples import get
from hub.examples.runner import sandbox_environment
from hub.sandbox import Sandbox
from tests.conftest import run_hub


def _project(root: Path, sb: Sandbox) -> dict[str, str]:
    get("form-to-lead").write(root)
    env = sandbox_environment(root, sb, {k: v for k, v in os.environ.items() if not k.startswith("HUB__")})
    return {k: v for k, v in env.items() if k.startswith("HUB__")}


def test_a_model_without_data_has_nothing_to_send_and_a_misspelt_one_fails(tmp_path):
    with Sandbox(seed=3, people=40, only={"salesforce"}) as sb:
        root = tmp_path / "p"
        env = _project(root, sb)
        store = sb.salesforce.store
        with store.lock:
            tasks_before = len(store.table("Task").order)

        ran = run_hub("-C", str(root), "run", env=env)   # no form posted yet: raw_website.chat does not exist
        assert ran.returncode == 0, ran.stdout[-1500:] + ran.stderr[-1500:]
        assert "SKIP  marts.chat_tasks                   upstream staging.form_chats was skipped: raw_website.chat " \
               "has not been ingested yet" in ran.stdout
        assert "chats_to_salesforce               -> salesforce.Task  nothing to send yet: marts.chat_tasks was not " \
               "built (upstream staging.form_chats was skipped: raw_website.chat has not been ingested yet" \
               in ran.stdout
        with store.lock:
            assert len(store.table("Task").order) == tasks_before

        pushed = run_hub("-C", str(root), "push", "chats_to_salesforce", env=env)   # push alone says the same
        assert pushed.returncode == 0, pushed.stderr
        assert "nothing to send yet: marts.chat_tasks was not built" in pushed.stdout

        # a model that exists but was never built (not skipped for lack of data): still an error, naming the fix
        toml = root / "hub.toml"
        text = toml.read_text(encoding="utf-8")
        (root / "models" / "marts" / "chat_summary.sql").write_text(
            "-- materialized: table\nSELECT chat_id, email, subject, description, status, activity_date, who_id "
            "FROM marts.chat_tasks\n", encoding="utf-8")
        toml.write_text(text.replace('model = "marts.chat_tasks"\n', 'model = "marts.chat_summary"\n'),
                        encoding="utf-8")
        unbuilt = run_hub("-C", str(root), "push", "chats_to_salesforce", env=env)
        assert unbuilt.returncode != 0
        assert "unknown model 'marts.chat_summary' in [syncs.chats_to_salesforce]" in unbuilt.stderr
        assert "run `hub build` first" in unbuilt.stderr

        # a misspelt name: the config check refuses it before any step, with the closest model's name
        toml.write_text(text.replace('model = "marts.chat_tasks"\n', 'model = "marts.chat_task"\n'), encoding="utf-8")
        for command in (["run"], ["push"]):
            bad = run_hub("-C", str(root), *command, env=env)
            assert bad.returncode != 0
            assert "unknown model 'marts.chat_task' in [syncs.chats_to_salesforce] model" in bad.stderr
            assert "did you mean 'marts.chat_tasks'?" in bad.stderr
            assert "ingest:" not in bad.stdout   # nothing ran
