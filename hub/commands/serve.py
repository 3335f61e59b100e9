"""``hub serve``: the long-running webhook receiver, trigger runner and scheduler (see :mod:`hub.serve`)."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 accepts other machines (put TLS in front of it).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--no-schedule", "no_schedule", is_flag=True,
              help="Do not run [schedules] in this process (leave them to `hub schedule run` or cron).")
@click.pass_obj
def serve(obj, host: str, port: int, no_schedule: bool) -> None:
    """Receive webhooks at POST /webhooks/<connection> and [forms] at POST /forms/<name>; land them; fire [triggers].

    Each request's signature is checked with the connection's webhook_secret (Stripe, HubSpot v3, Shopify, else
    Standard Webhooks); an event is on disk before the 2xx and stored once however often it is sent. This process
    also runs [schedules], so it is the one long-running owner of the warehouse; other hub commands queue briefly
    behind it. Ctrl-C stops after flushing.

    \b
    Example:
      export HUB__CONNECTIONS__STRIPE__WEBHOOK_SECRET=whsec_...
      hub serve --port 8080
      # in Stripe: endpoint https://<your proxy>/webhooks/stripe
    """
    import faulthandler
    import signal

    from hub.serve import Service, is_loopback
    from hub.stop_signals import StopSignals

    def say(message: str) -> None:
        click.echo(message, err=True)

    obj.project.not_on_postgres("serve")
    service = Service(obj.project, host=host, port=port, schedules=not no_schedule, on_event=say)
    faulthandler.register(signal.SIGUSR1, all_threads=True)   # SIGUSR1 prints every thread's stack (a stuck server)
    # Ctrl-C and SIGTERM (systemd, docker stop) wake this thread whichever thread the kernel hands them to; they are
    # kept from the start, so one that arrives while starting stops the server as soon as it is up
    with StopSignals() as stop:
        service.start()   # when it cannot listen (the port is taken), it has closed what it opened, and raises
        try:
            where = ("loopback only; use --host 0.0.0.0 to accept other machines" if is_loopback(host)
                     else "reachable from other machines")
            click.echo(f"listening on {service.url} ({where})")
            docs = f"{service.url}/?token={service.docs_token}" if service.docs_token else f"{service.url}/"
            click.echo(f"docs pages: {docs}")   # --- docs hook (hub/docs/live.py)
            click.echo(f"receiving webhooks for: {', '.join(sorted(service.receivers)) or 'none'}")
            if service.forms:
                click.echo(f"forms: {', '.join(f'{service.url}/forms/{n}' for n in sorted(service.forms))}")
            for name, why in sorted(service.unconfigured.items()):
                click.echo(f"not receiving for {name}: {why}", err=True)
            if service.triggers:
                click.echo(f"triggers: {', '.join(service.triggers)}")
            if service.schedules:
                click.echo(f"schedules: {', '.join(service.schedules)}")
            stop.wait()
        finally:
            stop.release()   # the earlier handlers: a second Ctrl-C while flushing interrupts (the inbox keeps it)
            click.echo("stopping: flushing received events into the warehouse...", err=True)
            service.stop()
            owner = service.owner
            click.echo(f"stopped ({owner.flushed if owner else 0} event(s) flushed this session)", err=True)


COMMANDS = [serve]
