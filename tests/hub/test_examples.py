"""`hub init --example` and `hub demo --example`: the example projects, as a user runs them."""

from __future__ import annotations

import tomllib

from hub.examples import all_examples
from tests.conftest import run_hub


def test_init_lists_the_examples_and_writes_one(tmp_path):
    listed = run_hub("init", "--example", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "crm-two-way" in listed.stdout
    made = run_hub("init", "--example", "crm-two-way", str(tmp_path / "crm"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    config = tomllib.loads((tmp_path / "crm" / "hub.toml").read_text())
    assert set(config["connections"]) == {"hubspot", "salesforce"} and "person_to_hubspot" in config["syncs"]
    assert (tmp_path / "crm" / "secrets.toml").stat().st_mode & 0o077 == 0
    again = run_hub("init", "--example", "crm-two-way", str(tmp_path / "crm"), cwd=tmp_path)
    assert again.returncode != 0 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_an_unknown_example_names_the_closest_and_writes_nothing(tmp_path):
    for args in (("init", "--example", "crm-two-wya", str(tmp_path / "x")),
                 ("demo", "--example", "crm-two-wya", str(tmp_path / "x"))):
        done = run_hub(*args, cwd=tmp_path)
        assert done.returncode != 0 and "unknown example 'crm-two-wya'" in done.stderr
        assert "crm-two-way" in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "x").exists()


def test_demo_runs_one_example_in_the_directory_given(tmp_path):
    done = run_hub("demo", "--example", "crm-two-way", str(tmp_path / "one"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "example crm-two-way:" in done.stdout and "(created)" in done.stdout
    assert (tmp_path / "one" / "hub.toml").is_file() and not (tmp_path / "one" / "crm-two-way").exists()


def test_every_example_names_emulators_the_sandbox_has():
    from hub.sandbox.sandbox import emulator_names

    for example in all_examples().values():
        assert set(example.emulators) <= set(emulator_names()), example.name
        assert (example.project / "hub.toml").is_file(), example.name
