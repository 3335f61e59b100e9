"""`hub integrations`: every integration hub can use here, built in or installed, and what each provides."""

from __future__ import annotations

import click

PARTS = ("connector", "pusher", "webhooks", "emulator")


@click.command(name="integrations")
@click.option("--json", "as_json", is_flag=True, help="Print the integrations as JSON.")
def integrations(as_json: bool) -> None:
    """List the integrations: connection types, what each can do (read, push, webhooks, sandbox) and its package.

    Third-party integrations appear here once their pip package is installed (entry point group hub.integrations).

    \b
    Example:
      hub integrations
      hub integrations --json
    """
    from hub.integrations import all_integrations
    from hub.output import table, to_json

    found = [{"type": i.name, "title": i.title, "package": i.package, "summary": i.summary,
              **{part: getattr(i, part) is not None for part in PARTS}}
             for i in all_integrations().values()]
    if as_json:
        click.echo(to_json(found))
        return
    click.echo(table(["type", "title", "read", "push", "webhooks", "sandbox", "package", "summary"], [
        [i["type"], i["title"], *("yes" if i[p] else "" for p in PARTS), i["package"], i["summary"]] for i in found]))


COMMANDS = [integrations]
