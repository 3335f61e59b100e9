"""payments-to-everything: a paid Stripe invoice provisions the customer, updates HubSpot and notifies; a Salesforce
Opportunity turning Closed Won provisions as well.

``before`` the first run the example starts a stand-in for the user's product on a free port (:mod:`.app`: a
provisioning endpoint that verifies hub's Standard Webhooks signatures and applies each webhook-id once, and a
Slack-compatible endpoint) and points the project's actions at it. ``after`` the run, the scenario
(:mod:`.scenario`) starts ``hub serve``, has Stripe send it ``invoice.paid`` for a payment, closes an Opportunity in
Salesforce, runs again (the build fires the data trigger), waits for both provisions and says what happened.

The signing secrets are drawn fresh in each process and never written down: the example's endpoint, started by the
same process, is the only one that needs them.
"""

from __future__ import annotations

import base64
import os
import secrets

from hub.examples import Example
from hub.examples.runner import ExampleRun

#: where the stand-in product keeps what it received, in the project directory
APP_FOLDER = "app"
_SIGNING = "whsec_" + base64.b64encode(os.urandom(32)).decode()
_STRIPE = "whsec_" + secrets.token_urlsafe(32)
ENVIRONMENT = {
    "HUB__ACTIONS__PROVISION_PAYMENT__SIGNING_SECRET": _SIGNING,
    "HUB__ACTIONS__PROVISION_DEAL__SIGNING_SECRET": _SIGNING,
    "HUB__CONNECTIONS__STRIPE__WEBHOOK_SECRET": _STRIPE,
}


def start_app(run: ExampleRun) -> None:
    """Start the stand-in product and point the actions at it (the project is reloaded with those URLs)."""
    from hub.examples.payments_to_everything.app import ProductApp
    from hub.project import Project

    app = ProductApp(run.directory / APP_FOLDER, run.environ["HUB__ACTIONS__PROVISION_PAYMENT__SIGNING_SECRET"])
    run.notes["app"] = app.start()
    run.environ.update({"HUB__ACTIONS__PROVISION_PAYMENT__URL": f"{app.url}/provision",
                        "HUB__ACTIONS__PROVISION_DEAL__URL": f"{app.url}/provision",
                        "HUB__ACTIONS__BILLING_CHANNEL__URL": f"{app.url}/slack"})
    run.project = Project(run.directory, environ=run.environ)
    run.echo(f"your product (a stand-in): {app.url}/provision verifies each post's signature; {app.url}/slack is "
             f"the #billing channel; both keep what they receive in {app.folder}")


def play(run: ExampleRun) -> None:
    """Play the scenario against the running sandbox, then stop the stand-in product."""
    from hub.examples.payments_to_everything.scenario import play as scenario

    app = run.notes["app"]
    try:
        scenario(run, app, run.environ["HUB__CONNECTIONS__STRIPE__WEBHOOK_SECRET"])
    finally:
        app.stop()


EXAMPLE = Example(
    name="payments-to-everything", title="Payments -> product, CRM and chat",
    shows="a paid Stripe invoice provisions the customer in your product, makes them a HubSpot customer and posts to "
          "#billing; a Salesforce Opportunity turning Closed Won provisions too, each exactly once",
    emulators=("stripe", "hubspot", "salesforce"), package=__name__, before=start_app, after=play,
    environment=ENVIRONMENT)
