"""Text as the stores take it, whatever interface it came through (JSON bodies of the
APIs, 55pbx pushes)."""

from __future__ import annotations

from typing import Any


def join_surrogates(value: Any) -> Any:
    """Escaped surrogates ("\\ud800") are no text a UTF-8 store takes: json.loads keeps a
    lone one, and json5 leaves even a pair as two lone ones. Join pairs; a lone one is a
    ValueError (so a 400, never a 500 at the database). So is a NUL (U+0000), which
    PostgreSQL's text cannot hold."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text with a NUL character (\\u0000) is not accepted")
        if not value.isascii() and any("\ud800" <= ch <= "\udfff" for ch in value):
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        return value
    if isinstance(value, dict):
        return {join_surrogates(k): join_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [join_surrogates(v) for v in value]
    return value
