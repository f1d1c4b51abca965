"""An operation's input as it came: JSON, or XML for /services/xml/*, within the body limit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from starlette.requests import Request

from callhub.i18n import N_
from callhub.textcheck import join_surrogates
from callhub.webservices.common import BadInput, read_body

if TYPE_CHECKING:
    pass

from callhub.webservices.services.framework import ApiError, Operation

JSON_TYPES = {"", "application/json", "text/json", "text/plain"}
XML_TYPES = {"", "application/xml", "text/xml", "text/plain"}


def _xml_value(element: Any) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    value: dict[str, Any] = {}
    for child in children:
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else None
        if tag is None:
            continue
        item = _xml_value(child)
        if tag in value:
            if not isinstance(value[tag], list):
                value[tag] = [value[tag]]
            value[tag].append(item)
        else:
            value[tag] = item
    return value


def parse_xml(body: bytes) -> dict[str, Any]:
    """An XML document as the JSON object it stands for (the root's children are its fields).
    DTDs, entities and external references are refused outright (defusedxml)."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise ApiError(
            "XML_FORBIDDEN", N_("O XML declara DTD ou entidades, o que não é aceito."), 400
        ) from None
    except SafeET.ParseError as exc:
        raise ApiError(
            "MALFORMED_XML", N_("XML malformado: %(detail)s."), 400, detail=str(exc)
        ) from None
    try:
        value = _xml_value(root)
    except RecursionError:
        raise ApiError(
            "MALFORMED_XML", N_("XML aninhado em níveis demais para ser lido."), 400
        ) from None
    return value if isinstance(value, dict) else {}


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = join_surrogates(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            "MALFORMED_JSON", N_("JSON malformado: %(detail)s."), 400, detail=str(exc)
        ) from None
    except RecursionError:
        raise ApiError(
            "MALFORMED_JSON", N_("JSON aninhado em níveis demais para ser lido."), 400
        ) from None
    if not isinstance(data, dict):
        raise ApiError("MALFORMED_JSON", N_("O corpo deve ser um objeto JSON."), 400)
    return data


async def read_input(request: Request, op: Operation, limit: int) -> dict[str, Any]:
    try:
        body = await read_body(request, limit)
    except BadInput as exc:
        raise ApiError(
            "BODY_TOO_LARGE" if exc.status == 413 else "BAD_REQUEST",
            N_("Corpo grande demais (até %(limit)s bytes).")
            if exc.status == 413
            else N_("Corpo inválido."),
            exc.status,
            limit=limit,
        ) from None
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    accepted = XML_TYPES if op.xml else JSON_TYPES
    if ctype not in accepted and not ctype.endswith("+xml" if op.xml else "+json"):
        raise ApiError(
            "UNSUPPORTED_MEDIA_TYPE",
            N_("Envie %(kind)s (Content-Type %(ctype)s não é aceito)."),
            415,
            kind="XML" if op.xml else "JSON",
            ctype=ctype,
        )
    if not body.strip():
        raise ApiError("EMPTY_BODY", N_("O corpo está vazio."), 400)
    return envelope_names(parse_xml(body) if op.xml else parse_json(body))


# The envelope's fields are read before the operation's model: the seed's spelling of
# each (SessionID, MessageID) is taken here. The models read both spellings of the rest.
ENVELOPE = ("sessionID", "messageID")


def envelope_names(data: dict[str, Any]) -> dict[str, Any]:
    for name in ENVELOPE:
        seed = name[0].upper() + name[1:]
        if seed in data and name not in data:
            data[name] = data[seed]
    return data
