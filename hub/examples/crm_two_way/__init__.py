"""crm-two-way: contacts and companies of two CRMs, kept in line both ways through canonical.person."""

from hub.examples import Example

EXAMPLE = Example(
    name="crm-two-way", title="CRM <-> CRM, both ways",
    shows="contacts and companies of HubSpot and Salesforce unified in canonical.person and pushed back both ways",
    emulators=("hubspot", "salesforce"), package=__name__)
