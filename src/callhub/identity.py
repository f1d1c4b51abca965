"""Who is calling, and where: Brazilian documents (CPF, CNPJ) and phone numbers, parsed and
normalised, and what an extension (ramal) may be."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from validate_docbr import CNPJ, CPF

_CPF = CPF()
_CNPJ = CNPJ()
_PUNCTUATION = re.compile(r"[\s.\-/]")

# An extension (ramal): digits only, up to 20, wherever one is typed or received.
EXTENSION = re.compile(r"^[0-9]{1,20}$")


class DocKind(StrEnum):
    cpf = "cpf"
    cnpj = "cnpj"
    invalid = "invalid"
    missing = "missing"


@dataclass(frozen=True)
class Document:
    kind: DocKind
    digits: str  # digits only when valid; what was typed (trimmed) otherwise

    @property
    def valid(self) -> bool:
        return self.kind in (DocKind.cpf, DocKind.cnpj)


# Loose on purpose: something@somewhere.tld, no spaces. Delivery is the real check.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# A pure function of a short string, called on every pop (the check digits cost 12 µs).
@functools.lru_cache(maxsize=8192)
def parse_document(typed: str | None) -> Document:
    """A CPF (11 digits) or CNPJ (14), with or without punctuation, check digits verified."""
    if typed is None or not typed.strip():
        return Document(DocKind.missing, "")
    raw = typed.strip()[:32]
    digits = _PUNCTUATION.sub("", raw)
    if digits.isdigit() and digits.isascii():
        if len(digits) == 11 and _CPF.validate(digits):
            return Document(DocKind.cpf, digits)
        if len(digits) == 14 and _CNPJ.validate(digits):
            return Document(DocKind.cnpj, digits)
    return Document(DocKind.invalid, raw)


def format_document(digits: str | None) -> str:
    if not digits:
        return ""
    if len(digits) == 11:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    return digits


# Pure functions of short strings, called on every pop: cached (phonenumbers is slow-ish).
@functools.lru_cache(maxsize=8192)
def normalise_phone(number: str | None, region: str = "BR") -> str | None:
    """E.164 for a number as a PBX or a person writes it; None when it is no phone number."""
    if not number or not number.strip():
        return None
    try:
        parsed = phonenumbers.parse(number.strip()[:40], region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=8192)
def format_phone(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, "BR")
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 55
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)
