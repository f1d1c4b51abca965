"""USCall UC: callhub as the SOAP client of the PBX, and a simulator of it."""

from callhub.adapters.uscall.client import (
    USCallClient,
    USCallError,
    USCallRefused,
    USCallTokenRejected,
    USCallUnavailable,
)

__all__ = [
    "USCallClient",
    "USCallError",
    "USCallRefused",
    "USCallTokenRejected",
    "USCallUnavailable",
]
