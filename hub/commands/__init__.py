"""CLI commands that live outside hub/cli.py: each module here exposes ``COMMANDS``, a list of click commands or groups,
which hub/cli.py registers. Modules import only click at the top (heavy imports go inside the commands), so
``hub --help`` stays instant. Commands reach the project through ``click.pass_obj`` (a :class:`hub.cli.Context`).
"""
