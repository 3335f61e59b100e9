"""`hub demo`: the example projects, each end to end, offline (see :mod:`hub.examples`).

``hub demo --example NAME [DIR]`` runs one (default ``./hub-demo/NAME``); bare ``hub demo [DIR]`` runs them all, each in
``DIR/NAME`` (default ``./hub-demo``). Each run starts the sandbox in-process, writes the example's project when it is
missing, then ingests, builds and pushes, printing what happened at each step, and ends by building the docs site.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hub.config import CONFIG_FILE


def _demo_toml() -> str:
    from hub.examples import get

    return (get("crm-two-way").project / CONFIG_FILE).read_text(encoding="utf-8")


def _person_syncs() -> str:
    # the example's two person syncs without what reads the example's own models (person_to_salesforce's exclude)
    toml = _demo_toml()
    part = toml[toml.index("[syncs.person_to_hubspot]"):toml.index("[syncs.opportunities_to_hubspot]")]
    return re.sub(r"(?m)^# A person Salesforce has as an open lead.*\n|^exclude = .*\n", "", part)


def __getattr__(name: str) -> str:
    # DEMO_TOML: the crm-two-way example's hub.toml (tests and older scripts import it from here); PERSON_SYNCS: its
    # two person syncs alone, for projects of hub's built-in models only
    if name == "DEMO_TOML":
        return _demo_toml()
    if name == "PERSON_SYNCS":
        return _person_syncs()
    raise AttributeError(name)


def run_demo(directory: Path, echo: Callable[[str], None] = print, *, example: str | None = None,
             people: int = 400, seed: int = 7) -> None:
    """Run ``example`` in ``directory``, or every example in ``directory/<name>``, printing with ``echo``."""
    from hub.examples import all_examples, get
    from hub.examples.runner import run_example

    directory = Path(directory)
    if example is not None:
        run_example(get(example), directory, echo, people=people, seed=seed)
        return
    examples = list(all_examples().values())
    for number, each in enumerate(examples, start=1):
        if number > 1:
            echo("")
        echo(f"=== {number}/{len(examples)}: {each.name} ===")
        run_example(each, directory / each.name, echo, people=people, seed=seed)
