"""The CLI's commands, one module per command: each lists its click commands (or groups) in ``COMMANDS``.

hub/cli.py maps every command name to its module (``hub.cli.COMMANDS``) and imports a module only when its command is
asked for, so a new command is one module here plus one line in that map. Modules import only click at the top (heavy
imports go inside the commands), so ``hub --help`` stays instant. Commands reach the project through
``click.pass_obj`` (a :class:`hub.cli.Context`); every command also takes ``--wait SECONDS`` (added by the group).
"""
