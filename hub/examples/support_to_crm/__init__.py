"""support-to-crm: Zendesk tickets as Salesforce Cases on the right Contact; the Salesforce account tier on Zendesk."""

from hub.examples import Example

EXAMPLE = Example(
    name="support-to-crm", title="Support desk -> CRM",
    shows="Zendesk tickets become Salesforce Cases on the requester's Contact; the account tier lands on Zendesk",
    emulators=("zendesk", "salesforce"), package=__name__)
