"""The simulated USCall UC PBX: its state, and the 21 functions as it answers them.

Agents log in to extensions and queues, pause and resume; callers wait in queues and
abandon when their patience runs out; a free agent's extension rings, then talks; every
finished call leaves a CDR with a recording; outbound and click-to-call calls, monitoring
and the dynamic URAs (with cti_info variables) behave as the seed describes.

Time moves when `tick(now)` is called (the server runs a ticker; tests may call it with
their own clock). Every answer is what the function returns over SOAP: a JSON string.
"""

from __future__ import annotations

import json
from typing import Any

from callhub.adapters.uscall.simulator import audio
from callhub.adapters.uscall.simulator.model import (
    Agent,
    Call,
    PbxError,
    Queue,
    bounds,
    hms,
    local,
    md5,
)
from callhub.adapters.uscall.simulator.ura import Uras
from callhub.adapters.uscall.wsdl import OPERATIONS


class Pbx(Uras):
    """The 21 functions, answered from the switchboard's state (the URAs' three in
    `Uras`)."""

    def call(self, operation: str, args: dict[str, str]) -> str:
        """Run one function as the webservice does; the answer is its JSON string."""
        self.requests[operation] = self.requests.get(operation, 0) + 1
        try:
            if args.get("token", "") != self.token:
                raise PbxError("Token inválido")
            handler = getattr(self, "op_" + operation)
            params = {p: (args.get(p) or "").strip() for p in OPERATIONS[operation]}
            result = handler(**params)
        except PbxError as exc:
            result = {"status": "erro", "mensagem": str(exc)}
        return json.dumps(result, ensure_ascii=False)

    def op_getAgent(self) -> list[dict[str, Any]]:
        return [
            {"num": a.num, "nome": a.name, "senhamd5": md5(a.password), "filachave": a.key_queue}
            for a in self.agents.values()
        ]

    def op_startCall(
        self, tipo: str, origem: str, destino: str, categoria: str, idcti: str
    ) -> dict[str, Any]:
        self._required(tipo=tipo, origem=origem, destino=destino, categoria=categoria)
        self._dial_rule(categoria, origem if tipo.startswith("clicktocal") else destino)
        now = self.clock()
        if tipo == "outbound":
            exten = self._exten(origem)
            if exten.call is not None:
                raise PbxError(f"Ramal {origem} ocupado")
            agent = self._agent_on(origem)
            call = Call(
                self._new_id(),
                "Efetuada",
                origem,
                destino,
                self._trunk(),
                idcti=idcti,
                ramal=origem,
                agent=agent.num if agent else None,
                arrived=now,
                talk_seconds=self.rng.uniform(20, 90),
                dialling_until=now + 2,
            )
            exten.call = call
            if agent is not None:
                self._count_day(agent)
                agent.made += 1
            self.calls.append(call)
            return self.ok("Ligação iniciada", idcall=call.id)
        if tipo in ("clicktocall", "clicktocal"):
            queue = next((q for q in self.queues.values() if q.ddr == destino), None)
            if queue is None:
                raise PbxError(f"DDR {destino} não configurado")
            call = Call(
                self._new_id(),
                "Click to call",
                origem,
                destino,
                self._trunk(),
                ddr=destino,
                queue=queue.num,
                idcti=idcti,
                arrived=now + 3,
                talk_seconds=self.rng.uniform(20, 90),
                patience=self.rng.uniform(30, 120),
            )
            queue.waiting.append(call)
            return self.ok("Ligação iniciada", idcall=call.id)
        raise PbxError("tipo: use outbound ou clicktocall")

    def op_cdrSearch(
        self, dataini: str, datafin: str, origem: str, destino: str, idunico: str
    ) -> list[dict[str, Any]]:
        start, end = bounds(dataini, datafin, self.clock())
        return [
            c.as_search()
            for c in self.cdrs
            if (idunico and idunico in (c.id, c.idcti))
            or (
                not idunico
                and start <= c.when <= end
                and (not origem or c.origin == origem)
                and (not destino or c.destination == destino)
            )
        ]

    def op_audioDownload(self, idunico: str, formato: str) -> dict[str, Any]:
        self._required(idunico=idunico)
        fmt = (formato or "wav").lower()
        if fmt not in audio.FORMATS:
            raise PbxError("formato: use mp3, ogg ou wav")
        cdr = next((c for c in self.cdrs if idunico in (c.id, c.idcti) and c.audio), None)
        if cdr is None:
            raise PbxError(f"Gravação não encontrada para {idunico}")
        try:
            content = audio.recording_base64(cdr.id, min(cdr.talk, 4.0), fmt)
        except audio.EncoderMissing as exc:
            raise PbxError(str(exc)) from exc
        return {
            "Nomeaudio": cdr.audio.rsplit(".", 1)[0] + "." + fmt,
            "Data": local(cdr.when),
            "Tipo": cdr.kind,
            "Status": cdr.status,
            "Origem": cdr.origin,
            "Destino": cdr.destination,
            "arquivo_base_64": content,
        }

    def op_agentLogin(self, agente: str, ramal: str, senhamd5: str, filachave: str) -> Any:
        self._required(agente=agente, ramal=ramal, senhamd5=senhamd5)
        agent = self._agent(agente)
        if senhamd5.lower() != md5(agent.password):
            raise PbxError("Senha do agente inválida")
        exten = self._exten(ramal)
        if exten.kind != "callcenter":
            raise PbxError(f"Ramal {ramal} não é do tipo callcenter")
        holder = self._agent_on(ramal)
        if holder is not None and holder is not agent:
            raise PbxError(f"Ramal {ramal} em uso pelo agente {holder.num}")
        queue = filachave or agent.key_queue
        if queue not in self.queues or self.queues[queue].kind != "callcenter":
            raise PbxError(f"Fila {queue} não é uma fila de call center")
        agent.ramal, agent.queues, agent.pause = ramal, [queue], None
        return self.ok(f"Agente {agente} logado no ramal {ramal}")

    def op_agentLogout(self, agente: str) -> dict[str, Any]:
        self._required(agente=agente)
        agent = self._logged(agente)
        agent.ramal, agent.queues, agent.pause = None, [], None
        return self.ok(f"Agente {agente} deslogado")

    def op_agentStatus(self, agente: str) -> list[dict[str, Any]]:
        agents = [self._agent(agente)] if agente else list(self.agents.values())
        return [self._agent_status(a) for a in agents]

    def _agent_status(self, a: Agent) -> dict[str, Any]:
        self._count_day(a)
        exten = self.extens.get(a.ramal or "")
        call = exten.call if exten else None
        if a.ramal is None:
            status = "nao logado"
        elif call is not None:
            status = "tocando" if call.answered is None and call.ringing_since else "ocupado"
        elif a.pause is not None:
            status = "em pausa"
        else:
            status = "ocioso"
        now = self.clock()
        return {
            "num": a.num,
            "status": status,
            "pausa": a.pause.name if a.pause else "",
            "campanha": "",
            "ramal": a.ramal or "",
            "numero": (call.origin if call.kind != "Efetuada" else call.destination)
            if call
            else "",
            "tempo": hms(now - call.answered) if call and call.answered else "",
            "filas": ",".join(a.queues),
            "recebidas": a.received,
            "efetuadas": a.made,
            "atendfila": ("Ativo" if call.kind == "Efetuada" else call.queue or "") if call else "",
            "idcall": call.id if call else "",
            "ddr": call.ddr if call else "",
        }

    def op_getPauses(self) -> list[dict[str, Any]]:
        return [
            {"id": p.id, "pause": p.name, "tempo": p.max_seconds, "filas": p.queues}
            for p in self.pauses.values()
        ]

    def op_startPause(self, agente: str, idpausa: str) -> dict[str, Any]:
        self._required(agente=agente, idpausa=idpausa)
        agent = self._logged(agente)
        pause = self.pauses.get(idpausa)
        if pause is None:
            raise PbxError(f"Pausa {idpausa} não encontrada")
        if pause.queues != "ALL" and not set(agent.queues) & set(pause.queues.split(",")):
            raise PbxError(f"Pausa {pause.name} não permitida nas filas do agente")
        agent.pause = pause
        return self.ok(f"Agente {agente} em pausa: {pause.name}")

    def op_endPause(self, agente: str) -> dict[str, Any]:
        self._required(agente=agente)
        agent = self._logged(agente)
        if agent.pause is None:
            raise PbxError(f"Agente {agente} não está em pausa")
        agent.pause = None
        return self.ok(f"Agente {agente} disponível")

    def op_hangupCall(self, ramal: str, agente: str) -> dict[str, Any]:
        self._required(ramal=ramal)
        num = self._logged(ramal).ramal if agente == "yes" else ramal
        exten = self._exten(num or "")
        if exten.call is None:
            raise PbxError(f"Nenhuma ligação em curso no ramal {exten.num}")
        self._finish(exten.call, self.clock())
        return self.ok(f"Ligação do ramal {exten.num} desconectada")

    def op_monitExten(self, srcramal: str, dstramal: str, agente: str, tipo: str) -> Any:
        self._required(srcramal=srcramal, dstramal=dstramal)
        kind = tipo or "escuta"
        if kind not in ("escuta", "monitor", "conf"):
            raise PbxError("tipo: use escuta, monitor ou conf")
        src = self._exten(srcramal)
        num = self._logged(dstramal).ramal if agente == "yes" else dstramal
        dst = self._exten(num or "")
        if dst.call is None or dst.call.answered is None:
            raise PbxError(f"Nenhuma ligação em curso no ramal {dst.num}")
        if src.call is not None:
            raise PbxError(f"Ramal {srcramal} ocupado")
        src.monitoring = dst.call
        return self.ok(f"Monitoria ({kind}) do ramal {dst.num} iniciada no ramal {srcramal}")

    def op_getExtens(self, ramal: str) -> list[dict[str, Any]]:
        extens = [self._exten(ramal)] if ramal else list(self.extens.values())
        return [{"num": e.num, "tipo": e.kind, "nome": e.name} for e in extens]

    def op_extenStatus(self, tipo: str, ramal: str) -> list[dict[str, Any]]:
        kind = tipo or "all"
        if kind not in ("callcenter", "pbx", "all"):
            raise PbxError("tipo: use callcenter, pbx ou all")
        extens = [self._exten(ramal)] if ramal else list(self.extens.values())
        now = self.clock()
        out = []
        for e in extens:
            if kind != "all" and e.kind != kind:
                continue
            call = e.call or e.monitoring
            if call is None:
                status = "disponível" if e.ip else "indisponível"
            elif call.dialling_until is not None and call.answered is None:
                status = "discando"
            elif call.answered is None:
                status = "tocando"
            else:
                status = "ocupado"
            out.append(
                {
                    "ramal": e.num,
                    "status": status,
                    "sigame": e.forward,
                    "ip": e.ip,
                    "numero": (call.destination if call.kind == "Efetuada" else call.origin)
                    if call
                    else "",
                    "tempo": hms(now - call.answered) if call and call.answered else "",
                }
            )
        return out

    def op_getQueue(self, fila: str) -> list[dict[str, Any]]:
        return [{"fila": q.num, "tipo": q.kind, "nome": q.name} for q in self._queues(fila)]

    def _queues(self, fila: str) -> list[Queue]:
        if not fila:
            return list(self.queues.values())
        if fila not in self.queues:
            raise PbxError(f"Fila {fila} não encontrada")
        return [self.queues[fila]]

    def op_queueStatus(self, fila: str) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        for q in self._queues(fila):
            waiting = [c for c in q.waiting if c.arrived <= now]
            out.append(
                {
                    "fila": q.num,
                    "status": "busy" if waiting else "ok",
                    "espera": len(waiting),
                    "numeros": [
                        {"numero": c.origin, "tempo": hms(now - c.arrived)} for c in waiting
                    ],
                }
            )
        return out

    def op_cdrTariff(self, dataini: str, datafin: str) -> list[dict[str, Any]]:
        start, end = bounds(dataini, datafin, self.clock())
        out = []
        for c in self.cdrs:
            if c.kind != "Efetuada" or not start <= c.when <= end:
                continue
            exten = self.extens.get(c.ramal or "")
            trunk = next((t for t in self.trunks if t["nome"] == c.trunk), {"canal": ""})
            out.append(
                {
                    "datahorario": local(c.when),
                    "ramalnum": c.ramal or "",
                    "ramalnome": exten.name if exten else "",
                    "ramalcanal": f"SIP/{c.ramal}-{c.id[-6:]}",
                    "numero": c.destination,
                    "tronconome": c.trunk,
                    "truncocanal": f"{trunk['canal']}-{c.id[-4:]}",
                    "statuscall": c.status,
                    "durtotal": int(c.duration),
                    "durcall": int(c.talk),
                    "idcall": c.id,
                }
            )
        return out

    def op_listTrunk(self) -> list[dict[str, str]]:
        return list(self.trunks)

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON, for the simulator's control page and tests."""
        return {
            "agents": [self._agent_status(a) for a in self.agents.values()],
            "queues": self.op_queueStatus(""),
            "calls": len(self.calls),
            "cdrs": len(self.cdrs),
            "requests": dict(self.requests),
        }
