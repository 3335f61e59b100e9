"""``hub sandbox``: serve every registered emulator on loopback until Ctrl-C (see :mod:`hub.sandbox`).

The command names no vendor: its ``--<name>-port`` options are made from the integration registry when the command's
options are first needed (parsing or ``--help``), so ``hub --help`` does not read the registry and a pip-installed
integration's emulator gets its own ``--<name>-port`` too.
"""

from __future__ import annotations

from typing import Any

import click


class _SandboxCommand(click.Command):
    """A command whose per-emulator options come from the registry, added on first use."""

    _generated: list[click.Parameter] | None = None

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """The declared options, then one ``--<name>-port`` per emulator."""
        if self._generated is None:
            self._generated = emulator_options()
        params = super().get_params(ctx)
        return [*params[:-1], *self._generated, params[-1]]  # keep --help last


def emulator_options() -> list[click.Parameter]:
    """``--<name>-port`` for every integration that has an emulator; it becomes ``Sandbox(<name>_port=...)``."""
    from hub.integrations import with_part

    return [click.Option([f"--{name.replace('_', '-')}-port", f"{name}_port"], type=click.IntRange(0, 65535),
                         default=0, help=f"{integration.title} emulator port (default: a free one).")
            for name, integration in with_part("emulator").items()]


@click.command(cls=_SandboxCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the fake data.")
@click.option("--people", type=click.IntRange(0, 1_000_000), default=400, show_default=True,
              help="How many fake people to create.")
@click.option("--tls", is_flag=True, help="Serve https with a locally generated CA (its path is printed).")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="Serve only this emulator (repeat for more); default: every one `hub integrations` lists.")
@click.option("--chaos", metavar="SPEC", default=None,
              help="Inject faults, seeded by --seed: shares of 5xx, 429, drop, timeout, slow, garbage, truncate "
                   "(and hang=/delay= seconds), e.g. \"5xx=0.1,429=0.05,drop=0.02\".")
def sandbox(host: str, seed: int, people: int, tls: bool, only: tuple[str, ...], chaos: str | None,
            **ports: int) -> None:
    """Serve local emulators of the vendor APIs (each integration's), seeded with fake data, until Ctrl-C.

    Every integration with an emulator (`hub integrations`, column sandbox) gets a --<name>-port option, listed
    below; --only <name> serves just that one.

    \b
    Example:
      hub sandbox                       # every emulator, each on a free port
      hub sandbox --tls --chaos "5xx=0.1,429=0.05,drop=0.02,timeout=0.01,slow=0.05,garbage=0.01"
    """
    from hub.errors import HubError
    from hub.integrations import with_part
    from hub.sandbox import Sandbox
    from hub.sandbox.chaos import Chaos, ChaosSpecError

    try:
        faults = Chaos.parse(chaos, seed=seed) if chaos else None
    except ChaosSpecError as exc:
        raise click.ClickException(f"--chaos: {exc}") from None
    try:
        sb = Sandbox(seed=seed, people=people, tls=tls, host=host, chaos=faults, only=set(only) or None,
                     **_given(ports)).start()
    except HubError as exc:
        raise click.ClickException(f"--only: {exc}" if only else str(exc)) from None
    except OSError as exc:  # a port in use: say which, and how to pick another
        raise click.ClickException(f"cannot bind the sandbox's ports ({exc.strerror or exc}); choose other "
                                   f"--<name>-port values, or 0 for free ones") from None
    titles = {name: integration.title for name, integration in with_part("emulator").items()}
    lines = [(f"{titles.get(name, name)} emulator:", server.url) for name, server in sb.emulators.items()]
    lines += [(f"{name}:", server.url) for name, server in sb.companions.items()]
    if sb.ca_path:
        lines.append(("CA certificate:", str(sb.ca_path)))
    if faults:
        lines.append(("Injecting faults:", faults.describe()))
    width = max(len(label) for label, _ in lines) + 1 if lines else 0
    for label, value in lines:
        click.echo(f"{label.ljust(width)}{value}")
    click.echo("Sandbox-only credentials (not secrets; they work against this sandbox only):")
    for name, emulator in sb.emulators.items():
        for key, value in emulator.credentials().items():
            click.echo(f"  export HUB__CONNECTIONS__{name.upper()}__{key.upper()}={value}")
    click.echo("Press Ctrl-C to stop.")
    sb.serve_forever()


def _given(ports: dict[str, Any]) -> dict[str, Any]:
    # 0 is every plugin's own default (a free port), so only ports the user chose are passed on
    return {option: value for option, value in ports.items() if value}


COMMANDS = [sandbox]
