"""What the API answers when the input or a rule refuses: a stable code, a translatable
description naming the field, the HTTP status."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from callhub.i18n import N_
from callhub.store.requests import RequestError

if TYPE_CHECKING:
    pass

from callhub.webservices.services.framework import ApiError

EXPECTED = {
    "string": N_("texto"),
    "int": N_("número inteiro"),
    "float": N_("número"),
    "bool": N_("verdadeiro ou falso"),
    "dict": N_("objeto"),
    "model": N_("objeto"),
    "list": N_("lista"),
    "datetime": N_("data e hora ISO 8601"),
}


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_error(exc: ValidationError) -> ApiError:
    first = exc.errors(include_url=False)[0]
    where = _where(tuple(first["loc"])) or "body"
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "missing":
        return ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field=where)
    if kind == "duplicate_field":
        prefix = "" if where == "body" else where + "."
        return ApiError(
            "DUPLICATE_FIELD",
            N_("%(field)s e %(other)s informados com valores diferentes: envie um só."),
            field=prefix + ctx["field"],
            other=prefix + ctx["other"],
        )
    family = kind.split("_")[0]
    if kind.endswith(("_type", "_parsing")) and family in EXPECTED:
        return ApiError(
            "INVALID_TYPE",
            N_("Tipo inválido em %(field)s: esperado %(expected)s."),
            field=where,
            expected=EXPECTED[family],
        )
    if kind in ("literal_error", "enum"):
        return ApiError(
            "INVALID_VALUE",
            N_("Valor inválido em %(field)s: aceitos %(allowed)s."),
            field=where,
            allowed=ctx.get("expected", ""),
        )
    if kind == "string_too_short":
        return ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field=where)
    if kind in ("string_too_long", "too_long"):
        return ApiError(
            "TOO_LONG",
            N_("Longo demais em %(field)s (até %(max)s)."),
            field=where,
            max=ctx.get("max_length", ""),
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return ApiError("OUT_OF_RANGE", N_("Valor fora do intervalo em %(field)s."), field=where)
    return ApiError("INVALID_VALUE", N_("Valor inválido em %(field)s."), field=where)


# The store's rules (store.requests.RequestError), as the API says them: its code, its
# message, its status. The same messages as the API's own checks where they coincide.
RULES: dict[str, tuple[str, str, int]] = {
    "NO_CHANGE": ("NO_CHANGE", N_("A solicitação já está em %(value)s."), 409),
    "INVALID_TRANSITION": (
        "INVALID_TRANSITION",
        N_("Uma solicitação em %(current)s não pode passar a %(value)s (veja getWorkflow)."),
        409,
    ),
    "UNKNOWN_STATUS": ("INVALID_VALUE", N_("Valor inválido em %(field)s."), 400),
    "EMPTY_DESCRIPTION": ("REQUIRED", N_("Campo obrigatório: %(field)s."), 400),
    "DESCRIPTION_TOO_LONG": ("TOO_LONG", N_("Longo demais em %(field)s (até %(max)s)."), 400),
}


def rule_error(
    exc: RequestError, *, field: str | None = None, status_name: Callable[[str], str] = str
) -> ApiError:
    """The API's answer to a rule the store enforced. `field`: where the rule's field sits
    in this operation's input; `status_name`: how this API names a status."""
    code, message, http_status = RULES[exc.code]
    values = {
        k: status_name(v) if k in ("current", "value") and exc.field == "status" else v
        for k, v in exc.values.items()
    }
    return ApiError(code, message, http_status, field=field or exc.field, **values)
