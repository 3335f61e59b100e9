"""Shared by the Zendesk tests: a sandbox with only the Zendesk emulator, and projects pointing at it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.sandbox import Sandbox


def zendesk_project(make_project: Callable[..., Path], sb: Sandbox, *, extra: str = "", oauth: bool = False,
                    name: str = "proj") -> Path:
    """A project with one Zendesk connection to the sandbox (API token auth, or OAuth with ``oauth``)."""
    z = sb.zendesk
    email = "" if oauth else f'email = "{z.email}"'
    token = z.oauth_token if oauth else z.api_token
    return make_project(f"""
        [connections.zendesk]
        type = "zendesk"
        base_url = "{z.url}"
        {email}
        page_size = 5
        export_limit = 30
        {extra}
        """, f"""
        [connections.zendesk]
        token = "{token}"
        """, name=name)
