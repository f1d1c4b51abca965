"""A pop rendered the fast way (the static form reused, one render per variant) is the
very HTML a straight render of its template gives."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from callhub.fragments import Fragments
from callhub.protocol import Pop, variant_key
from callhub.store.catalog import ServiceItem
from callhub.templating import Renderer

SERVICES = [
    ServiceItem(1, "Troca de senha", "Acesso", 60),
    ServiceItem(2, "Impressora <parada>", None, None),
]
REQUESTER = {
    "id": 7,
    "name": "Maria & Filhos",
    "cpf": "52998224725",
    "cnpj": None,
    "email": "maria@example.com",
    "phones": ["(11) 98765-4321"],
}
CALL = {
    "id": 3,
    "external_id": "c-1",
    "number": "11987654321",
    "number_display": "(11) 98765-4321",
    "queue": "Suporte",
    "ivr": "1-3",
    "wait_seconds": 75,
    "tracks_end": True,
    "ended": None,
}
REQUEST = {
    "id": 42,
    "type": "I",
    "description": "Sem acesso <ao> e-mail",
    "status": "InProgress",
    "urgency": "H",
    "service": "Troca de senha",
    "category": "Acesso",
    "opened_at": "2026-11-30T12:00:00+00:00",
    "deadline": "2026-11-30T15:00:00+00:00",
    "on_time": True,
    "parent_id": None,
    "children": [],
    "requester": REQUESTER,
    "history": [
        {
            "at": "2026-11-30T12:00:00+00:00",
            "user": "Ana",
            "description": "Aberta",
            "status_from": None,
            "status_to": "InProgress",
        }
    ],
    "calls": [],
}


def payload(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "at": "2026-11-30T13:14:15.123456+00:00",
        "call": CALL,
        "document": {"typed": "52998224725", "valid": True, "kind": "cpf", "digits": "52998224725"},
        "requester": None if kind == "unidentified" else REQUESTER,
        "request": REQUEST if kind == "view" else None,
        "child": None,
        "transfer": None,
    }


def test_a_pop_renders_as_its_template_does():
    renderer = Renderer()
    fragments = Fragments(renderer, SERVICES)  # one for all: its cache must tell them apart
    for kind, locale, can_execute, listed, seq in itertools.product(
        ("new_request", "unidentified", "view"), ("pt_BR", "en"), (True, False), (True, False),
        (5, 1234),  # the static form is reused with each pop's own number
    ):  # fmt: skip
        fast = fragments.pop(
            seq, payload(kind), locale=locale, can_execute=can_execute, listed=listed
        )
        straight = renderer.render(
            "fragments/pop.html",
            locale,
            seq=seq,
            pop=payload(kind),
            services=SERVICES,
            can_execute=can_execute,
            listed=listed,
        )
        assert fast == straight, (kind, locale, can_execute, listed, seq)
        assert f'data-seq="{seq}"' in fast


def test_each_variant_is_rendered_once_and_only_where_it_differs():
    fragments = Fragments(Renderer(), SERVICES)
    variants = [("pt_BR", True), ("pt_BR", False), ("en", True)]
    new = Pop(9, "2001", "p9", payload("new_request"), 0.0)
    fragments.fill(new, variants)
    # The permission to execute changes nothing on a new-request screen: one per language.
    assert new.fragments[variant_key("pt_BR", True)] is new.fragments[variant_key("pt_BR", False)]
    assert new.fragments[variant_key("pt_BR", True)] != new.fragments[variant_key("en", True)]
    view = Pop(10, "2001", "p10", payload("view"), 0.0)
    fragments.fill(view, variants)
    executing, viewing = view.fragments["pt_BR/1"], view.fragments["pt_BR/0"]
    assert "Registrar ocorrência" in executing and "Registrar ocorrência" not in viewing


def test_a_new_catalogue_renders_a_new_form():
    fragments = Fragments(Renderer(), SERVICES)
    before = fragments.pop(1, payload("new_request"), locale="pt_BR", can_execute=True)
    fragments.set_services([*SERVICES, ServiceItem(3, "Novo serviço", None, None)])
    after = fragments.pop(1, payload("new_request"), locale="pt_BR", can_execute=True)
    assert "Novo serviço" not in before and "Novo serviço" in after


def test_rendering_leaves_the_payload_as_it_was():
    fragments = Fragments(Renderer(), SERVICES)
    given = payload("view")
    kept = copy.deepcopy(given)
    fragments.pop(1, given, locale="en", can_execute=True)
    assert given == kept


def test_a_callers_card_is_rendered_once_and_shows_their_details_as_they_are_now():
    renderer = Renderer()
    first = renderer.render("fragments/screen.html", "pt_BR", seq=1, pop=payload("new_request"),
                            services=SERVICES, errors={}, form={}, notice=None)  # fmt: skip
    assert "Maria &amp; Filhos" in first and "529.982.247-25" in first
    assert "maria@example.com" in first and "(11) 98765-4321" in first
    moved = {**REQUESTER, "email": "nova@example.com", "phones": ["(21) 2222-3333"]}
    second = renderer.render("fragments/screen.html", "en",
                             seq=2, pop={**payload("new_request"), "requester": moved},
                             services=SERVICES, errors={}, form={}, notice=None)  # fmt: skip
    # Another card (by content, not by id) in another language: rendered anew.
    assert "nova@example.com" in second and "maria@example.com" not in second
    assert "(21) 2222-3333" in second and "Phones" in second
