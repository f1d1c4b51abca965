"""The fragments pushed to tabs: pops, changed screens, call ends, agent states, notices.

Rendered by the process that publishes them, once per variant the tabs need
(`protocol.variant_key`: language, and for a request's screen the permission to execute),
never once per tab. The one static part of a pop, the new-request form, is rendered once
per language and catalogue and reused with the pop's number spliced in; `Fragments.pop`
gives the same HTML as a straight render of `fragments/pop.html` (the tests compare them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

from callhub.protocol import (
    AgentState,
    CallEnded,
    Moved,
    Pop,
    Screen,
    TabMessage,
    variant_key,
)
from callhub.store.catalog import ServiceItem
from callhub.templating import Renderer

Variant = tuple[str, bool]  # (locale, can_execute)
_SEQ = "\x00seq\x00"


class Fragments:
    def __init__(
        self,
        renderer: Renderer,
        services: list[ServiceItem] | None = None,
        *,
        board_actions: bool = False,
        board_interval: float = 2.0,
    ) -> None:
        self.renderer = renderer
        # The wall board offers USCall's actions (monitor, hang up) when USCall is set up.
        self.board_actions = board_actions
        self.board_interval = board_interval
        self.services: list[ServiceItem] = []
        self._forms: dict[str, tuple[str, str]] = {}
        self.set_services(services or [])

    def set_services(self, services: list[ServiceItem]) -> None:
        """The catalogue the new-request form offers (forms are rendered again for it)."""
        self.services = list(services)
        self._forms = {}

    def _form(self, locale: str, seq: int) -> Markup:
        parts = self._forms.get(locale)
        if parts is None:
            html = self.renderer.render(
                "fragments/new_request_form.html",
                locale,
                seq=_SEQ,
                services=self.services,
                form={},
                errors={},
            )
            head, _, tail = html.partition(_SEQ)
            parts = self._forms[locale] = (head, tail)
        return Markup(f"{parts[0]}{seq}{parts[1]}")

    # -- pops ----------------------------------------------------------------------------

    def pop(
        self,
        seq: int,
        payload: dict[str, Any],
        *,
        locale: str,
        can_execute: bool,
        listed: bool = True,
    ) -> str:
        """A pop as a tab receives it: the live area, and (`listed`) its line in the list."""
        return self.renderer.render(
            "fragments/pop.html",
            locale,
            seq=seq,
            pop=payload,
            services=self.services,
            can_execute=can_execute,
            listed=listed,
            new_request_form=self._form(locale, seq) if payload.get("kind") == "new_request"
            else None,
        )  # fmt: skip

    def recent(self, pops: list[tuple[int, dict[str, Any]]], *, locale: str, max_seq: int) -> str:
        """The list of the extension's recent pops, newest first (a tab that opens)."""
        return self.renderer.render("fragments/recent.html", locale, pops=pops, max_seq=max_seq)

    def screen(
        self,
        *,
        screen_id: str,
        seq: int | None,
        payload: dict[str, Any],
        locale: str,
        can_execute: bool,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> str:
        """A screen replaced where it is shown (out of band), and its line in the list."""
        return self.renderer.render(
            "fragments/screen_update.html",
            locale,
            screen_id=screen_id,
            seq=seq,
            pop=payload,
            services=self.services,
            can_execute=can_execute,
            errors=errors or {},
            form=form or {},
            notice=notice,
        )

    def board(self, changes: dict[str, Any], locale: str, *, tv: bool = False) -> str:
        """The wall board's rows that changed (or, for a tab that opens, all of them), as
        the supervisor's board or the TV view (`tv`) lays them out."""
        return self.renderer.render(
            "fragments/board_update.html",
            locale,
            layout=changes["layout"],
            queues=changes["queues"],
            agents=changes["agents"],
            requests=changes.get("requests"),
            meta=changes["meta"],
            actions=self.board_actions and not tv,
            interval=self.board_interval,
            tv=tv,
        )

    # -- any message, for the variants tabs need -----------------------------------------

    def render(self, message: TabMessage, locale: str, can_execute: bool) -> str:
        """`message`'s fragment for one variant."""
        if isinstance(message, Pop):
            return self.pop(message.seq, message.payload, locale=locale, can_execute=can_execute)
        if isinstance(message, Screen):
            return self.screen(
                screen_id=f"screen-{message.seq}",
                seq=message.seq,
                payload=message.payload,
                locale=locale,
                can_execute=can_execute,
            )
        if isinstance(message, CallEnded):
            return self.renderer.render(
                "fragments/call_state.html",
                locale,
                call={"id": message.call_id, "ended": message.ended},
                oob=True,
            )
        if isinstance(message, AgentState):
            return self.renderer.render(
                "fragments/agent_state.html", locale, me=message.row, oob=True
            )
        assert isinstance(message, Moved)
        return self.renderer.render(
            "fragments/moved.html", locale, ramal=message.ramal, to_name=message.to_name
        )

    def fill(self, message: TabMessage, variants: Iterable[Variant]) -> None:
        """Render `message` for each variant it lacks, once per distinct fragment: only a
        request's screen differs by the permission to execute."""
        if isinstance(message, Moved):
            return  # a notice, rendered where the tab is closed
        by_permission = isinstance(message, Pop | Screen) and _shows_request(message.payload)
        for locale, can_execute in variants:
            key = variant_key(locale, can_execute)
            if key in message.fragments:
                continue
            html = self.render(message, locale, can_execute)
            message.fragments[key] = html
            if not by_permission:
                message.fragments[variant_key(locale, not can_execute)] = html

    def fragment(self, message: TabMessage, locale: str, can_execute: bool) -> str:
        """The fragment for a tab: the one published, else rendered here (and kept)."""
        key = variant_key(locale, can_execute)
        html = message.fragments.get(key) if not isinstance(message, Moved) else None
        if html is None:
            html = self.render(message, locale, can_execute)
            if not isinstance(message, Moved):
                message.fragments[key] = html
        return html


def _shows_request(payload: dict[str, Any]) -> bool:
    return payload.get("kind") == "view"
