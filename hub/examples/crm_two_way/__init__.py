"""crm-two-way: contacts and companies of two CRMs, kept in line both ways through canonical.person; deals and
opportunities both ways through the project's crm.deal (no ping-pong: a copy carries its deal's id in the other CRM's
Hub Deal Id field); Salesforce leads as HubSpot contacts in lifecycle stage 'lead'; HubSpot's lead score on the
Salesforce contact."""

from hub.examples import Example

EXAMPLE = Example(
    name="crm-two-way", title="CRM <-> CRM, both ways",
    shows=("contacts and companies of HubSpot and Salesforce unified in canonical.person and pushed back both ways; "
           "deals both ways; Salesforce leads to HubSpot; HubSpot lead scores to Salesforce"),
    emulators=("hubspot", "salesforce"), package=__name__)
