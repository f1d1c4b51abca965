"""The field app's API (/mobile/*) through a real server, with the office watching.

The demo's field team (CAMPO): tecnico and tecnica execute, lider leads the team and
approves purchases (APROV). Requests 4 to 7 are the team's: 4 in the team's list, 5
tecnico's, 6 tecnica's, 7 a purchase awaiting approval.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlmodel import Session, col, select

from callhub.store.models import (
    CheckinDenial,
    FieldVisit,
    LocationPoint,
    Occurrence,
    ServiceRequest,
    Task,
)
from support import PASSWORD, Agent, AppServer, Cluster, Served, Tab, api_call, board_tab, pbx

AURORA_CNPJ = "45723914000119"
SEDE = (-23.5614, -46.6559)
FILIAL = (-23.5475, -46.6361)
PAULISTA = (-23.5630, -46.6543)
# Each further from Avenida Paulista than the one before (great-circle distance).
SANTOS = (-23.9608, -46.3336)
CAMPINAS = (-22.9056, -47.0608)
RIBEIRAO = (-21.1775, -47.8103)
BOTAFOGO = (-22.9519, -43.1840)


async def field_login(server: Served, user: str) -> str:
    answer = await api_call(
        server,
        "v2/login",
        {"userName": user, "password": PASSWORD, "platform": "android", "token": "push-" + user},
    )
    assert answer["rangeAction"] > 0 and answer["locationInterval"] > 0
    return str(answer["sessionID"])


async def work(server: Served, sid: str, **filters: Any) -> dict[int, dict[str, Any]]:
    """The user's work list, by task."""
    answer = await api_call(
        server, "mobile/v2/notification/getByUser", {"sessionID": sid, **filters}
    )
    assert answer["amount"] == len(answer["notifications"])
    return {n["taskId"]: n for n in answer["notifications"]}


def by_number(items: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {n["number"]: n for n in items.values()}


def counts(frame: str) -> dict[str, int]:
    """The wall board's request counts, by label, in a frame that carries them."""
    block = re.search(r'<dl id="board-requests".*?</dl>', frame, re.S)
    assert block is not None
    return {
        label: int(value)
        for label, value in re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(\d+)</dd>", block.group(0))
    }


async def board_counts(tab: Tab, check: Any, timeout: float = 5.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        frame = await tab.next(max(0.01, deadline - time.monotonic()))
        if 'id="board-requests"' in frame and check(counts(frame)):
            return counts(frame)


def ms(seconds_ago: float = 0) -> int:
    return int((time.time() - seconds_ago) * 1000)


async def test_a_field_day_through_the_api_shows_in_the_office(
    cluster: Cluster, agents: list[Agent]
) -> None:
    # The board polls every 60 s here: what it shows sooner came from the technician.
    server = await cluster.app_server(CALLHUB_BOARD_POLL_SECONDS="60")
    agent = await Agent(server, "agente").login("2010")
    agents.append(agent)
    tab = await agent.tab()
    r = await pbx(server, "visualizarSolicitacao", idSolicitacao="5", cpf=AURORA_CNPJ, ramal="2010")
    assert r.status_code == 200, r.text
    await tab.wait_for("Impressora atolando papel no caixa")
    supervisor = await Agent(server, "supervisor").login()
    agents.append(supervisor)
    board = await board_tab(supervisor)
    before = await board_counts(board, lambda c: True)
    assert before["Técnicos em campo"] == 0 and before["Aguardando aprovação"] == 1

    # 08:00 — log in, read the day's list.
    sid = await field_login(server, "tecnico")
    mine = by_number(await work(server, sid))
    assert set(mine) == {4, 5}  # the team's 4 and the personal 5; not tecnica's 6
    five = mine[5]
    assert five["personal"] is True and mine[4]["personal"] is False
    assert (five["waiting"], five["typeRequest"], five["inCheckin"], five["inService"]) == (
        1,
        0,
        0,
        False,
    )
    assert (five["latitude"], five["longitude"]) == FILIAL
    assert five["contract"] == 1 and five["unit"] == 2 and five["type"] == 4
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", five["date"])
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", five["endSLA"])
    assert 470 <= five["timeSLA"] <= 480 and five["timeFlag"] == 0
    assert five["service"] == "Impressora" and five["task"] == "Atender solicitação"
    await api_call(
        server,
        "mobile/v2/notification/location",
        {"sessionID": sid, "latitude": -23.55, "longitude": -46.64, "dateTime": ms(600)},
    )

    # 09:10 — at the branch: check in.
    visit = await api_call(
        server,
        "mobile/v2/notification/checkin",
        {
            "sessionID": sid,
            "taskId": five["taskId"],
            "latitude": FILIAL[0] + 0.0005,
            "longitude": FILIAL[1],
            "startTime": ms(60),
        },
    )
    assert visit["number"] == 5 and visit["id"] >= 1
    frame = await tab.wait_for("Check-in de Téo Técnico")
    assert "Filial Centro" in frame
    assert (await board_counts(board, lambda c: c["Técnicos em campo"] == 1))[
        "Técnicos em campo"
    ] == 1
    now = by_number(await work(server, sid))[5]
    assert now["inCheckin"] == 1 and now["inService"] is True
    await api_call(
        server,
        "mobile/v2/notification/location",
        {"sessionID": sid, "latitude": FILIAL[0], "longitude": FILIAL[1], "dateTime": ms(30)},
    )

    # 09:40 — fixed: check out, solved on site.
    out = await api_call(
        server,
        "mobile/v2/notification/checkout",
        {
            "sessionID": sid,
            "taskId": five["taskId"],
            "latitude": FILIAL[0],
            "longitude": FILIAL[1],
            "status": 4,
            "solution": 7,
            "descSolution": "Rolo de tração trocado; impressão normal",
        },
    )
    assert out == {**out, "number": 5, "id": visit["id"]}
    frame = await tab.wait_for("Rolo de tração trocado")
    assert "Resolvida" in frame
    after = await board_counts(
        board, lambda c: c["Resolvidas hoje"] == before["Resolvidas hoje"] + 1
    )
    assert after["Técnicos em campo"] == 0
    assert after["Em andamento"] == before["Em andamento"] - 1

    # The request left the list; update says so.
    assert 5 not in by_number(await work(server, sid))
    refreshed = await api_call(
        server, "mobile/v2/notification/update", {"sessionID": sid, "number": 5}
    )
    assert refreshed["notifications"] == []

    def stored(session: Session) -> tuple[Any, ...]:
        visits = session.exec(select(FieldVisit)).all()
        points = session.exec(select(LocationPoint).order_by(col(LocationPoint.at))).all()
        request = session.get(ServiceRequest, 5)
        task = session.get(Task, five["taskId"])
        notes = session.exec(
            select(Occurrence).where(Occurrence.request_id == 5).order_by(col(Occurrence.id))
        ).all()
        return visits, points, request, task, notes

    visits, points, request, task, notes = await cluster.read(stored)
    assert len(visits) == 1 and visits[0].checkout_at is not None
    assert visits[0].checkin_latitude == FILIAL[0] + 0.0005
    assert visits[0].status_to == "Resolved" and visits[0].justification_id == 7
    assert len(points) == 4  # two reports, the check-in and the check-out
    assert request is not None and request.status == "Resolved"
    assert task is not None and task.status == "done" and task.user_id is not None
    assert notes[-1].status_to == "Resolved" and notes[-1].reason == "Resolvida no local"
    assert notes[-1].elapsed_minutes is not None and notes[-1].origin == "PERSONALLY"


async def test_work_list_by_distance_in_pages(server: AppServer) -> None:
    sid = await field_login(server, "tecnica")
    made = {}
    for name, (lat, lon) in (("Santos", SANTOS), ("Campinas", CAMPINAS), ("Ribeirão", RIBEIRAO)):
        answer = await api_call(
            server,
            "mobile/notification/new",
            {
                "sessionID": sid,
                "description": f"Visita em {name}",
                "latitude": lat,
                "longitude": lon,
            },
        )
        made[name] = answer["number"]
    # The team's 4 at Sede Paulista, the new three, tecnica's 6 in Rio: nearest first.
    expected = [4, made["Santos"], made["Campinas"], made["Ribeirão"], 6]
    seen = []
    for page in (1, 2, 3, 4):
        answer = await api_call(
            server,
            "mobile/v2/notification/getByCoordinates",
            {
                "sessionID": sid,
                "latitude": PAULISTA[0],
                "longitude": PAULISTA[1],
                "pager": {"page": page, "size": 2},
            },
        )
        assert answer["paging"] == {"page": page, "size": 2, "totalElements": 5, "totalPages": 3}
        seen.append([n["number"] for n in answer["notifications"]])
    assert seen == [expected[0:2], expected[2:4], expected[4:5], []]
    from_rio = await api_call(
        server,
        "mobile/v2/notification/getByCoordinates",
        {"sessionID": sid, "latitude": BOTAFOGO[0], "longitude": BOTAFOGO[1]},
    )
    assert [n["number"] for n in from_rio["notifications"]][:3] == [6, made["Santos"], 4]
    bad = await api_call(
        server,
        "mobile/v2/notification/getByCoordinates",
        {"sessionID": sid, "latitude": 91, "longitude": 0},
        status=400,
    )
    assert bad["error"]["field"] == "latitude"
    zero = await api_call(
        server,
        "mobile/v2/notification/getByCoordinates",
        {"sessionID": sid, "latitude": 0, "longitude": 0, "pager": {"page": 0, "size": 2}},
        status=400,
    )
    assert zero["error"]["field"] == "pager.page"
    found = await api_call(
        server,
        "mobile/v2/notification/buscaSolicitacao",
        {"sessionID": sid, "textoBusca": "RIBEIRAO"},
    )
    assert [n["number"] for n in found["notifications"]] == [made["Ribeirão"]]


async def test_newest_and_oldest_page_at_the_boundaries(server: AppServer) -> None:
    sid = await field_login(server, "tecnica")
    made = []
    for n in range(22):
        answer = await api_call(
            server,
            "mobile/notification/new",
            {"sessionID": sid, "description": f"Ponto {n}", "latitude": -23.5, "longitude": -46.6},
        )
        made.append(answer["number"])
    everything = sorted([4, 6, *made])  # 24 requests in tecnica's list

    async def page(name: str, **body: Any) -> list[int]:
        answer = await api_call(
            server, f"mobile/v2/notification/{name}", {"sessionID": sid, **body}
        )
        return [n["number"] for n in answer["notifications"]]

    assert await page("getNewest", newestNumber=0) == everything[:20]
    assert await page("getNewest", newestNumber=everything[19]) == everything[20:]
    assert await page("getNewest", newestNumber=everything[-2]) == everything[-1:]
    assert await page("getNewest", newestNumber=everything[-1]) == []
    newest_first = everything[::-1]
    assert await page("getOldest", oldestNumber=0) == newest_first[:20]
    assert await page("getOldest", oldestNumber=newest_first[19]) == newest_first[20:]
    assert await page("getOldest", oldestNumber=everything[1]) == [everything[0]]
    assert await page("getOldest", oldestNumber=everything[0]) == []
    bad = await api_call(
        server,
        "mobile/v2/notification/getNewest",
        {"sessionID": sid, "newestNumber": "muitos"},
        status=400,
    )
    assert bad["error"]["code"] == "INVALID_TYPE" and bad["error"]["field"] == "newestNumber"


async def test_approvals_keep_the_decision_the_reason_and_the_comment(
    cluster: Cluster, server: AppServer
) -> None:
    approver = await field_login(server, "lider")
    pending = await work(server, approver, onlyApproval=1)
    [(task_id, item)] = pending.items()
    assert item["number"] == 7 and item["typeRequest"] == 1 and item["type"] == 1
    reasons = await api_call(
        server, "mobile/notification/getReasons", {"sessionID": approver, "taskId": task_id}
    )
    assert reasons["amount"] == len(reasons["reasons"]) == 4
    ids = {r["desc"]: r["id"] for r in reasons["reasons"]}
    # Nobody executes a purchase before it is approved.
    tecnico = await field_login(server, "tecnico")
    assert 7 not in by_number(await work(server, tecnico))
    # A rejection needs its reason: refused, and nothing written.
    refused = await api_call(
        server,
        "mobile/notification/feedback",
        {"sessionID": approver, "taskId": task_id, "feedback": 0},
        status=400,
    )
    assert refused["error"]["field"] == "reasonId"
    wrong = await api_call(
        server,
        "mobile/notification/feedback",
        {"sessionID": approver, "taskId": task_id, "feedback": 1, "reasonId": 1},
        status=400,
    )
    assert wrong["error"]["field"] == "reasonId"
    assert task_id in await work(server, approver, onlyApproval=1)
    # tecnico is no approver.
    denied = await api_call(
        server,
        "mobile/notification/feedback",
        {"sessionID": tecnico, "taskId": task_id, "feedback": 1},
        status=403,
    )
    assert denied["error"]["code"] in ("FORBIDDEN", "NOT_YOUR_TASK")
    await api_call(
        server,
        "mobile/notification/feedback",
        {
            "sessionID": approver,
            "taskId": task_id,
            "feedback": 1,
            "reasonId": ids["Necessária ao negócio"],
            "comments": "Três notebooks, conforme cotação",
        },
    )
    assert await work(server, approver, onlyApproval=1) == {}
    assert 7 in by_number(await work(server, tecnico))  # now the field team's to execute

    # Another purchase, rejected by the supervisor (also an approver).
    integration = await api_call(
        server,
        "login",
        {"userName": "integracao", "password": PASSWORD, "platform": "ERP"},
    )
    created = await api_call(
        server,
        "request/create",
        {
            "sessionID": integration["sessionID"],
            "synchronize": False,
            "sourceRequest": {
                "numberOrigin": "ERP-900",
                "type": "R",
                "description": "Compra de impressora 3D",
                "userID": "lojas.aurora",
                "service": {"code": "COMPRA"},
            },
        },
    )
    number = created["number"]
    assert created["currentTask"]["name"] == "Aprovar solicitação"
    assert created["currentTask"]["groupId"] == "APROV"
    supervisor = await field_login(server, "supervisor")
    [(other_task, _item)] = (await work(server, supervisor, onlyApproval=1)).items()
    await api_call(
        server,
        "mobile/notification/feedback",
        {
            "sessionID": supervisor,
            "taskId": other_task,
            "feedback": 0,
            "reasonId": ids["Fora do orçamento do contrato"],
            "comments": "Sem verba neste trimestre",
        },
    )

    def stored(session: Session) -> tuple[Any, ...]:
        return (
            session.get(Task, task_id),
            session.get(Task, other_task),
            session.get(ServiceRequest, number),
            session.exec(
                select(Occurrence)
                .where(Occurrence.request_id == number)
                .order_by(col(Occurrence.id).desc())
            ).first(),
        )

    approved, rejected, request, note = await cluster.read(stored)
    assert (
        approved.decision == "approved" and approved.comment == "Três notebooks, conforme cotação"
    )
    assert approved.reason_id == ids["Necessária ao negócio"] and approved.status == "done"
    assert (
        rejected.decision == "rejected"
        and rejected.reason_id == ids["Fora do orçamento do contrato"]
    )
    assert request.status == "Canceled"
    assert note.status_to == "Canceled" and "Sem verba neste trimestre" in note.description
    assert note.reason == "Fora do orçamento do contrato"


async def test_denied_checkins_teams_and_bad_input(cluster: Cluster, server: AppServer) -> None:
    tecnico = await field_login(server, "tecnico")
    lider = await field_login(server, "lider")
    tecnica = await field_login(server, "tecnica")
    tasks = {n["number"]: t for t, n in (await work(server, tecnico)).items()}
    # A denied check-in keeps its reason; the task stays in the list.
    await api_call(
        server,
        "mobile/v2/notification/checkin/denied",
        {
            "sessionID": tecnico,
            "TaskId": tasks[4],
            "Latitude": SEDE[0],
            "Longitude": SEDE[1],
            "DateTime": ms(5),
            "ReasonId": 2,
        },
    )
    assert 4 in by_number(await work(server, tecnico))
    # Check-out without a check-in, and a solved check-out without its solution.
    nope = await api_call(
        server,
        "mobile/v2/notification/checkout",
        {"sessionID": tecnico, "taskId": tasks[5], "latitude": 0, "longitude": 0, "status": 1},
        status=409,
    )
    assert nope["error"]["code"] == "NOT_CHECKED_IN"
    await api_call(
        server,
        "mobile/v2/notification/checkin",
        {"sessionID": tecnico, "taskId": tasks[5], "latitude": FILIAL[0], "longitude": FILIAL[1]},
    )
    twice = await api_call(
        server,
        "mobile/v2/notification/checkin",
        {"sessionID": tecnico, "taskId": tasks[4], "latitude": SEDE[0], "longitude": SEDE[1]},
        status=409,
    )
    assert twice["error"]["code"] == "CHECKED_IN_ELSEWHERE"
    half = await api_call(
        server,
        "mobile/v2/notification/checkout",
        {"sessionID": tecnico, "taskId": tasks[5], "latitude": 0, "longitude": 0, "status": 4},
        status=400,
    )
    assert half["error"]["field"] == "solution"
    future = await api_call(
        server,
        "mobile/v2/notification/location",
        {"sessionID": tecnico, "latitude": 0, "longitude": 0, "dateTime": ms(-86400)},
        status=400,
    )
    assert future["error"]["field"] == "dateTime"
    missing = await api_call(
        server,
        "mobile/v2/notification/getById",
        {"sessionID": tecnico, "taskId": 99999},
        status=404,
    )
    assert missing["error"]["field"] == "taskId"
    # Teams: lider leads CAMPO and hands out its work; tecnico leads nothing.
    led = await api_call(server, "mobile/v2/notification/getGruposLiderados", {"sessionID": lider})
    assert [g["sigla"] for g in led["grupos"]] == ["CAMPO"]
    mine = await api_call(
        server, "mobile/v2/notification/getGruposLiderados", {"sessionID": tecnico}
    )
    assert mine["grupos"] == []
    team = await api_call(
        server,
        "mobile/v2/notification/getEquipeColaborador",
        {"sessionID": lider, "taskId": tasks[4]},
    )
    people = {p["login"]: p for p in team["equipe"]["colaboradores"]}
    assert team["equipe"]["sigla"] == "CAMPO" and people["lider"]["lider"] is True
    assert (people["tecnico"]["latitude"], people["tecnico"]["longitude"]) == FILIAL
    # A member who leads nothing sees the team, and where only they themselves are.
    for name in ("getEquipeColaborador", "getColaborador"):
        answer = await api_call(
            server, f"mobile/v2/notification/{name}", {"sessionID": tecnica, "taskId": tasks[4]}
        )
        members = (
            answer["equipe"]["colaboradores"] if "equipe" in answer else answer["colaboradores"]
        )
        peers = {p["login"]: p for p in members}
        assert peers["tecnico"]["latitude"] is None and peers["tecnico"]["posicaoEm"] is None
        assert "lider" in peers and peers["tecnica"]["login"] == "tecnica"
    not_leader = await api_call(
        server,
        "mobile/v2/notification/atribuicoesEquipesSolicitacoes",
        {"sessionID": tecnico, "result": [{"taskId": tasks[4], "userName": "tecnico"}]},
        status=403,
    )
    assert not_leader["error"]["field"] == "result[0].taskId"
    stranger = await api_call(
        server,
        "mobile/v2/notification/atribuicoesEquipesSolicitacoes",
        {"sessionID": lider, "result": [{"taskId": tasks[4], "userName": "integracao"}]},
        status=409,
    )
    assert stranger["error"]["field"] == "result[0].userName"
    await api_call(
        server,
        "mobile/v2/notification/atribuicoesEquipesSolicitacoes",
        {"sessionID": lider, "result": [{"taskId": tasks[4], "userName": "tecnica"}]},
    )
    assert 4 not in by_number(await work(server, tecnico))
    followed = by_number(await work(server, lider))
    assert followed[4]["waiting"] == 0 and followed[4]["personal"] is False
    await api_call(
        server,
        "mobile/v2/notification/atualizaInformacoesSolicitacoes",
        {"sessionID": lider, "result": [{"number": 4, "priorityorder": 1, "unitID": 2}]},
    )
    tecnica = await field_login(server, "tecnica")
    first = next(iter((await work(server, tecnica)).values()))
    assert (first["number"], first["priorityorder"], first["unit"]) == (4, 1, 2)
    justificativas = await api_call(server, "mobile/v2/notification/getJustificativas", {})
    assert {j["aprovacao"] for j in justificativas["justificativas"]} == {"S", "N"}

    def stored(session: Session) -> list[CheckinDenial]:
        return list(session.exec(select(CheckinDenial)).all())

    [denial] = await cluster.read(stored)
    assert denial.reason_id == 2 and denial.task_id == tasks[4] and denial.latitude == SEDE[0]
