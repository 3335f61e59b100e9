"""Salesforce: the REST API's sObjects, OAuth, the push target and the sandbox's emulator."""

from hub.integrations.salesforce.versions import TESTED
from hub.integrations.spec import ApiVersion, Integration

integration = Integration(
    name="salesforce", title="Salesforce", package=__name__,
    connector="source:Salesforce", pusher="target:SalesforcePusher", emulator="emulator:EMULATOR",
    summary="REST API: any sObject (Contact, Account, Lead, Opportunity, Case, custom __c), both ways",
    # any "NN.0" Salesforce still serves (Salesforce.check_config); its retirement schedule in versions.py
    api_version=ApiVersion(TESTED, supported=None, lifecycle="versions:lifecycle", prefix="v"))
