from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from callhub.identity import DocKind, format_document, normalise_phone, parse_document


def cpf_check_digits(base: str) -> str:
    """Independent reference implementation of the CPF check digits."""
    digits = [int(c) for c in base]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False))
        rest = total % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, digits))


def test_known_cpfs():
    assert parse_document("529.982.247-25").kind is DocKind.cpf
    assert parse_document("52998224725").digits == "52998224725"
    assert parse_document(" 111.444.777-35 ").kind is DocKind.cpf
    assert parse_document("529.982.247-26").kind is DocKind.invalid
    assert parse_document("11111111111").kind is DocKind.invalid  # repeated digits
    assert parse_document("").kind is DocKind.missing
    assert parse_document(None).kind is DocKind.missing
    assert parse_document("abc").kind is DocKind.invalid


def test_cnpj():
    doc = parse_document("11.222.333/0001-81")
    assert doc.kind is DocKind.cnpj and doc.digits == "11222333000181"
    assert parse_document("11.222.333/0001-82").kind is DocKind.invalid


def test_invalid_keeps_what_was_typed():
    assert parse_document("123.456.789-00").digits == "123.456.789-00"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_generated_cpfs_validate(base: str):
    cpf = cpf_check_digits(base)
    doc = parse_document(cpf)
    if len(set(cpf)) == 1:
        assert doc.kind is DocKind.invalid
    else:
        assert doc.kind is DocKind.cpf
        assert parse_document(format_document(cpf)) == doc


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 1), st.integers(1, 9))
def test_a_wrong_check_digit_is_invalid(base: str, position: int, delta: int):
    cpf = list(cpf_check_digits(base))
    index = 9 + position
    cpf[index] = str((int(cpf[index]) + delta) % 10)
    assert parse_document("".join(cpf)).kind is not DocKind.cpf


@given(st.text(max_size=60))
def test_anything_typed_parses_without_error(typed: str):
    doc = parse_document(typed)
    assert doc.kind in set(DocKind)
    if doc.valid:
        assert doc.digits.isdigit() and len(doc.digits) in (11, 14)


def test_phone_normalisation():
    assert normalise_phone("(11) 98765-4321") == "+5511987654321"
    assert normalise_phone("+55 11 98765-4321") == "+5511987654321"
    assert normalise_phone("011987654321") in ("+5511987654321", None)
    assert normalise_phone("abc") is None
    assert normalise_phone("") is None


@given(st.text(max_size=40))
def test_phone_never_raises(raw: str):
    result = normalise_phone(raw)
    assert result is None or result.startswith("+")
