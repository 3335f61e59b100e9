"""crm-two-way: contacts and companies of two CRMs, kept in line both ways through canonical.person; deals and
opportunities both ways through the project's crm.deal, field by field (no ping-pong: a copy carries its deal's id in
the other CRM's Hub Deal Id field); leads both ways through crm.lead, field by field (a Salesforce Lead <-> a HubSpot
contact in a lead stage, by email; never a Salesforce Contact beside the Lead); HubSpot's lead score on the Salesforce
contact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.examples import Example

if TYPE_CHECKING:
    from hub.examples.runner import ExampleRun


def after(run: ExampleRun) -> None:
    """What the CRMs hold now: deals in both, as many as the pairs the project keeps."""
    hubspot, salesforce = run.sandbox.emulators["hubspot"].store, run.sandbox.emulators["salesforce"].store
    made = dict(run.project.query("SELECT split_part(deal_id, ':', 1), count(*) FROM crm.deal GROUP BY 1").rows)
    run.echo("")
    run.echo("what happened:")
    run.echo(f"  deals: {hubspot.count('deals'):,} in HubSpot, {salesforce.count('Opportunity'):,} opportunities in "
             f"Salesforce, one per deal of crm.deal ({made.get('salesforce', 0):,} made in Salesforce, "
             f"{made.get('hubspot', 0):,} in HubSpot); a copy carries its deal's id, so it never comes back as new")
    leads = dict(run.project.query("SELECT connection, count(DISTINCT lead_id) FROM crm.lead_source GROUP BY 1").rows)
    run.echo(f"  leads: {run.project.query('SELECT count(*) FROM crm.lead').scalar():,} in crm.lead, kept both ways "
             f"field by field ({leads.get('salesforce', 0):,} open Salesforce Leads, {leads.get('hubspot', 0):,} "
             f"HubSpot contacts in a lead stage, as ingested); "
             f"{run.project.query('SELECT count(*) FROM crm.salesforce_leads_only').scalar():,} people kept as a "
             f"lead get no Salesforce Contact beside it (converting the lead makes one)")
    run.echo(f"  lead scores: {run.project.query('SELECT count(*) FROM crm.lead_score').scalar():,} people with a "
             f"HubSpot score, copied to their Salesforce contact (Lead_Score__c)")


EXAMPLE = Example(
    name="crm-two-way", title="CRM <-> CRM, both ways",
    shows=("contacts and companies of HubSpot and Salesforce unified in canonical.person and pushed back both ways; "
           "deals and leads both ways; HubSpot lead scores to Salesforce"),
    emulators=("hubspot", "salesforce"), package=__name__, after=after)
