"""Local emulators of the vendor APIs hub talks to (HubSpot CRM v3, Salesforce REST), for tests and demos."""

from __future__ import annotations

from hub.sandbox.sandbox import Sandbox

__all__ = ["Sandbox"]
