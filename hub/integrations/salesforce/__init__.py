"""Salesforce: the REST API's sObjects, OAuth, the push target and the sandbox's emulator."""

from hub.integrations.spec import Integration

integration = Integration(
    name="salesforce", title="Salesforce", package=__name__,
    connector="source:Salesforce", pusher="target:SalesforcePusher", emulator="emulator:EMULATOR",
    summary="REST API Contacts and Accounts, both ways")
