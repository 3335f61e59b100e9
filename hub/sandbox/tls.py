"""A throwaway local certificate authority so the emulators can serve https (some vendor SDKs insist on it)."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path


class LocalTLS:
    """A server SSL context plus the CA certificate clients must trust, written to a temporary file."""

    def __init__(self, host: str) -> None:
        import trustme  # imported lazily: only TLS sandboxes pay for the key generation

        ca = trustme.CA()
        cert = ca.issue_cert(*sorted({host, "127.0.0.1", "localhost"}))
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.context)
        self._ca_pem = ca.cert_pem.bytes()
        self.ca_path = Path(tempfile.mkdtemp(prefix="hub-sandbox-ca-")) / "sandbox-ca.pem"
        self.write_ca()

    def write_ca(self) -> None:
        """(Re)write the CA PEM file, e.g. when a stopped sandbox starts again."""
        self.ca_path.parent.mkdir(parents=True, exist_ok=True)
        self.ca_path.write_bytes(self._ca_pem)

    def remove_ca(self) -> None:
        """Delete the CA file and its temporary directory."""
        shutil.rmtree(self.ca_path.parent, ignore_errors=True)
