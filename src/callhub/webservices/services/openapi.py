"""/openapi.json for the ITSM API, built from the operation registry, and a page that shows it."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callhub import __version__, i18n
from callhub.appstate import app_state
from callhub.i18n import locale_of
from callhub.templating import Renderer
from callhub.webservices.services.framework import REGISTRY, Operation

N_ = i18n.N_

ERROR = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "description": {"type": "string"},
        "field": {"type": ["string", "null"]},
    },
    "required": ["code", "description"],
}
ENVELOPE = {
    "dateTime": {"type": "integer", "description": "epoch milliseconds of the answer"},
    "operationID": {
        "type": ["integer", "null"],
        "description": "the stored execution (null only when the store is unreachable)",
    },
    "error": {"anyOf": [{"type": "null"}, ERROR]},
    "messageID": {"type": "string", "description": "echo of the caller's messageID"},
}
TAGS = {
    "login": N_("Sessões: login com usuário e senha do callhub"),
    "request": N_("Solicitações e ocorrências"),
    "synchronize": N_("Tabela DE-PARA de chaves da plataforma"),
    "data": N_("Consultas e operações cadastradas; execuções com erro"),
    "v2": N_("Listas de referência e fluxo (v2)"),
    "mobile": N_(
        "Aplicativo de campo: lista de trabalho, check-in e check-out, aprovações, equipes, "
        "posição do técnico"
    ),
}


@functools.cache
def _document(locale: str) -> dict[str, Any]:
    def t(message: str) -> str:
        return i18n.gettext(locale, message)

    ops = list(REGISTRY.values())
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(op.model, "validation") for op in ops}
    models |= {(op.answer, "serialization") for op in ops}
    keyed, top = models_json_schema(
        sorted(models, key=lambda m: (m[0].__name__, m[1])),
        ref_template="#/components/schemas/{model}",
        by_alias=True,
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, Any] = {}
    for op in ops:
        request_ref = keyed[(op.model, "validation")]
        answer = copy.deepcopy(schemas[op.answer.__name__])
        answer["properties"] = {**answer.get("properties", {}), **ENVELOPE}
        answer["required"] = [*answer.get("required", []), "dateTime", "operationID", "error"]
        failure = {
            "type": "object",
            "properties": ENVELOPE,
            "required": ["dateTime", "operationID", "error"],
        }
        media = "application/xml" if op.xml else "application/json"
        content: dict[str, Any] = {"schema": request_ref}
        if op.example is not None and not op.xml:
            content["example"] = op.example
        paths[op.path] = {
            "post": {
                "operationId": op.name.replace("/", "_"),
                "summary": t(op.summary),
                "tags": [op.tag],
                "requestBody": {"required": True, "content": {media: content}},
                "responses": {
                    "200": _json(t(N_("Sucesso")), answer),
                    "400": _json(t(N_("Entrada inválida (o campo vem em error.field)")), failure),
                    "401": _json(
                        t(N_("Login recusado, ou sessionID ausente, desconhecido ou expirado")),
                        failure,
                    ),
                    "403": _json(
                        t(N_("Nenhum grupo do usuário pode chamar esta operação")), failure
                    ),
                    "404": _json(t(N_("Número ou nome desconhecido")), failure),
                    "409": _json(t(N_("Conflito com o que já está gravado")), failure),
                    "413": _json(t(N_("Corpo grande demais")), failure),
                    "415": _json(t(N_("Content-Type não aceito")), failure),
                    "422": _json(t(N_("Referência a algo que não existe")), failure),
                },
            }
        }
        if not op.session_required:
            paths[op.path]["post"]["responses"].pop("403")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callhub ITSM API",
            "version": __version__,
            "description": t(
                N_(
                    "Toda chamada é um POST; a resposta traz dateTime, operationID e error. "
                    "O sessionID vem do login e vai no corpo de todas as outras chamadas."
                )
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": t(text)} for name, text in TAGS.items()],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


async def openapi_json(request: Request) -> Response:
    return JSONResponse(_document(locale_of(request)))


def _fields(
    schema: dict[str, Any], schemas: dict[str, Any], prefix: str = ""
) -> list[dict[str, Any]]:
    """A model's fields flattened for the page: name, type, required, limits."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    rows: list[dict[str, Any]] = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        kinds = []
        nested = None
        for option in options:
            if "$ref" in option:
                nested = option
                kinds.append("object")
            elif option.get("type") == "array":
                item = option.get("items", {})
                kinds.append("list of " + item.get("type", "object"))
                if "$ref" in item:
                    nested = item
            elif "enum" in option:
                kinds.append(" | ".join(str(v) for v in option["enum"]))
            elif "const" in option:
                kinds.append(str(option["const"]))
            elif option.get("type") != "null":
                kinds.append(
                    option.get("type", "any")
                    + (f" ({option['format']})" if "format" in option else "")
                )
        rows.append(
            {
                "name": prefix + name,
                "type": ", ".join(kinds) or "any",
                "required": name in required,
                "max": prop.get("maxLength")
                or next((o.get("maxLength") for o in options if "maxLength" in o), None),
            }
        )
        if nested is not None and prefix.count(".") < 3:
            rows += _fields(nested, schemas, prefix + name + ".")
    return rows


async def docs_page(request: Request) -> Response:
    locale = locale_of(request)
    document = _document(locale)
    schemas = document["components"]["schemas"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in REGISTRY.values():
        entry = document["paths"][op.path]["post"]
        media = "application/xml" if op.xml else "application/json"
        groups.setdefault(op.tag, []).append(
            {
                "op": op,
                "summary": entry["summary"],
                "media": media,
                "fields": _fields(entry["requestBody"]["content"][media]["schema"], schemas),
                "answer": _fields(schemas[op.answer.__name__], schemas),
                "example": json.dumps(op.example, ensure_ascii=False, indent=2)
                if op.example
                else None,
                "xml": _xml_example(op),
            }
        )
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/api_docs.html",
        {"groups": groups, "tags": {k: i18n.gettext(locale, v) for k, v in TAGS.items()}},
    )


def _xml_example(op: Operation) -> str | None:
    if not op.xml or op.example is None:
        return None

    def render(name: str, value: Any, depth: int) -> str:
        pad = "  " * depth
        if isinstance(value, dict):
            inner = "".join(render(k, v, depth + 1) for k, v in value.items())
            return f"{pad}<{name}>\n{inner}{pad}</{name}>\n"
        return f"{pad}<{name}>{value}</{name}>\n"

    return render(op.name.rsplit("/", 1)[-1], op.example, 0).rstrip()
