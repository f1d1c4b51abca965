"""The ITSM API's admin page: groups, their members and the operations each may call; the
named queries and operations; the latest failed executions, for support."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.store import api, users
from callhub.store.models import Role
from callhub.templating import Renderer
from callhub.views.auth import login_required
from callhub.webservices.services import grantable

N_ = i18n.N_


def _operations() -> list[str]:
    return grantable()


async def _page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    def read(session: Session) -> dict[str, Any]:
        groups = []
        for group in api.list_groups(session=session):
            assert group.id is not None
            groups.append(
                {
                    "group": group,
                    "members": api.members_of(session=session, group_id=group.id),
                    "allowed": api.permissions_of(session=session, group_id=group.id),
                    "platforms": api.platforms_of(session=session, group_id=group.id),
                }
            )
        _total, failures = api.failed_executions(
            session=session, start=None, end=None, operations=None, limit=20
        )
        return {
            "groups": groups,
            "queries": api.list_named_queries(session=session),
            "failures": failures,
        }

    context = await app_state(request).store.run(read)
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/admin_api.html",
        {
            **context,
            "operations": _operations(),
            "errors": errors or {},
            "form": form or {},
            "saved": request.query_params.get("ok"),
        },
        status=status,
    )


def _done(what: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/admin/api?ok={what}{anchor}", status_code=303)


@login_required(Role.admin)
async def page(request: Request) -> Response:
    return await _page(request)


@login_required(Role.admin)
async def save_group(request: Request) -> Response:
    form = await request.form()
    acronym = str(form.get("acronym") or "").strip()
    name = str(form.get("name") or "").strip()
    errors: dict[str, str] = {}
    if not api.ACRONYM.match(acronym):
        errors["acronym"] = N_("Sigla: letras, dígitos, '_' ou '-', até 32.")
    if not name or len(name) > 120:
        errors["name"] = N_("Informe o nome (até 120 caracteres).")
    if errors:
        return await _page(
            request, errors=errors, form={"acronym": acronym, "name": name}, status=422
        )

    def save(session: Session) -> None:
        api.save_group(session=session, acronym=acronym, name=name)
        session.commit()

    await app_state(request).store.run(save)
    return _done("grupo", "#grupos")


async def _with_group(request: Request, change: Any) -> Response:
    """Run `change(session, group_id, form)` on the group named in the path; 404 if none."""
    acronym = request.path_params["acronym"]
    form = await request.form()

    def work(session: Session) -> str | None:
        group = api.group_by_acronym(session=session, acronym=acronym)
        if group is None or group.id is None:
            return "missing"
        problem: str | None = change(session, group.id, form)
        if problem is None:
            session.commit()
        return problem

    problem = await app_state(request).store.run(work)
    if problem == "missing":
        return HTMLResponse("", status_code=404)
    if problem is not None:
        return await _page(request, errors={f"group-{acronym}": problem}, status=422)
    return _done("grupo", f"#grupo-{acronym}")


@login_required(Role.admin)
async def save_permissions(request: Request) -> Response:
    known = set(_operations())

    def change(session: Session, group_id: int, form: Any) -> str | None:
        chosen = [str(v) for v in form.getlist("op")]
        if any(op not in known for op in chosen):
            return N_("Operação desconhecida.")
        api.set_permissions(session=session, group_id=group_id, operations=chosen)
        return _set_access(session, group_id, form)

    return await _with_group(request, change)


def _set_access(session: Session, group_id: int, form: Any) -> str | None:
    """A group's reach beyond its operations: every request, and its reserved platforms."""
    api.set_all_requests(session=session, group_id=group_id, value=form.get("all_requests") == "1")
    platforms = str(form.get("platforms") or "").replace(",", " ").split()
    if any(len(p) > api.PLATFORM_MAX for p in platforms):
        return N_("Nome de plataforma longo demais (até 64 caracteres).")
    api.set_platforms(session=session, group_id=group_id, platforms=platforms)
    return None


@login_required(Role.admin)
async def save_access(request: Request) -> Response:
    return await _with_group(request, _set_access)


@login_required(Role.admin)
async def save_grid(request: Request) -> Response:
    """The operations × groups grid: each ticked box (`p` = "ACRONYM|operation") grants
    that operation to that group; every group's operations are set from the grid."""
    known = set(_operations())
    form = await request.form()
    chosen: dict[str, list[str]] = {}
    for value in form.getlist("p"):
        acronym, _sep, op = str(value).partition("|")
        if op not in known:
            return await _page(
                request, errors={"permissions": N_("Operação desconhecida.")}, status=422
            )
        chosen.setdefault(acronym, []).append(op)

    def work(session: Session) -> str | None:
        groups = {g.acronym: g for g in api.list_groups(session=session)}
        if any(a not in groups for a in chosen):
            return N_("Grupo inexistente.")
        for acronym, group in groups.items():
            assert group.id is not None
            api.set_permissions(
                session=session, group_id=group.id, operations=chosen.get(acronym, [])
            )
        session.commit()
        return None

    problem = await app_state(request).store.run(work)
    if problem is not None:
        return await _page(request, errors={"permissions": problem}, status=422)
    return _done("permissoes", "#permissoes")


async def _membership(request: Request, act: Any) -> Response:
    """Add or remove (`act`) the form's user in the path's group."""

    def change(session: Session, group_id: int, form: Any) -> str | None:
        user = users.find_user(session=session, username=str(form.get("username") or "").strip())
        if user is None or user.id is None:
            return N_("Usuário inexistente.")
        if act is api.add_member:
            leader = bool(form.get("leader"))
            act(session=session, group_id=group_id, user_id=user.id, leader=leader)
        else:
            act(session=session, group_id=group_id, user_id=user.id)
        return None

    return await _with_group(request, change)


@login_required(Role.admin)
async def add_member(request: Request) -> Response:
    return await _membership(request, api.add_member)


@login_required(Role.admin)
async def remove_member(request: Request) -> Response:
    return await _membership(request, api.remove_member)


@login_required(Role.admin)
async def save_query(request: Request) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("name", "kind", "description", "sql")}

    def save(session: Session) -> tuple[str, str] | None:
        try:
            api.save_named_query(
                session=session,
                name=values["name"],
                kind=values["kind"],
                description=values["description"],
                sql=values["sql"],
            )
        except api.QueryRejected as exc:
            return exc.field, str(exc)
        session.commit()
        return None

    problem = await app_state(request).store.run(save)
    if problem is not None:
        return await _page(request, errors={problem[0]: problem[1]}, form=values, status=422)
    return _done("consulta", "#consultas")


@login_required(Role.admin)
async def delete_query(request: Request) -> Response:
    name = request.path_params["name"]

    def delete(session: Session) -> bool:
        gone = api.delete_named_query(session=session, name=name)
        session.commit()
        return gone

    if not await app_state(request).store.run(delete):
        return HTMLResponse("", status_code=404)
    return _done("consulta", "#consultas")


routes = [
    Route("/admin/api", page, methods=["GET"]),
    Route("/admin/api/grupos", save_group, methods=["POST"]),
    Route("/admin/api/grupos/{acronym}/permissoes", save_permissions, methods=["POST"]),
    Route("/admin/api/grupos/{acronym}/acesso", save_access, methods=["POST"]),
    Route("/admin/api/permissoes", save_grid, methods=["POST"]),
    Route("/admin/api/grupos/{acronym}/membros", add_member, methods=["POST"]),
    Route("/admin/api/grupos/{acronym}/membros/remover", remove_member, methods=["POST"]),
    Route("/admin/api/consultas", save_query, methods=["POST"]),
    Route("/admin/api/consultas/{name}/apagar", delete_query, methods=["POST"]),
]
