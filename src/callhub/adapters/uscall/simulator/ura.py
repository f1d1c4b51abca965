"""The simulated PBX's dynamic URAs (IVRs): listed with their flows, a call placed through
one with the cti_info variables spoken in its first audio, and the URA's own CDRs."""

from __future__ import annotations

from typing import Any

from callhub.adapters.uscall.simulator.model import Call, PbxError, bounds, hms, local
from callhub.adapters.uscall.simulator.switchboard import Switchboard
from callhub.adapters.uscall.wsdl import CTI_INFOS


class Uras(Switchboard):
    """listURA, startCallura and cdrURA, answered from the switchboard's state."""

    def op_listURA(self, idura: str) -> list[dict[str, Any]]:
        if idura and idura not in self.uras:
            raise PbxError(f"URA {idura} não encontrada")
        uras = [self.uras[idura]] if idura else list(self.uras.values())
        return [
            {
                "id": u.id,
                "nome": u.name,
                "descricao": u.description,
                "fluxos": [
                    {
                        "fluxo": f.num,
                        "descricao": f.description,
                        "audio": f.audio,
                        "timeout": f.timeout,
                        "repetir": f.repeat,
                        "destino_invalido": f.invalid,
                        "tipo_fluxo": f.kind,
                        "palavras": [{"palavra": w, "destino": d} for w, d in f.words],
                    }
                    for f in u.flows
                ],
            }
            for u in uras
        ]

    def op_startCallura(
        self, idura: str, destino: str, categoria: str, idcti: str, **infos: str
    ) -> dict[str, Any]:
        self._required(idura=idura, destino=destino, categoria=categoria)
        ura = self.uras.get(idura)
        if ura is None:
            raise PbxError(f"URA {idura} não encontrada")
        self._dial_rule(categoria, destino)
        now = self.clock()
        call_id = self._new_id()
        events = []
        t = now + 4
        flow = ura.flows[0]
        spoken = flow.audio.split(":", 1)[1] if flow.audio.startswith("texto:") else flow.audio
        for n, name in enumerate(CTI_INFOS, start=1):
            spoken = spoken.replace(f"{{CTI_INFO{n}}}", infos.get(name, ""))
        pressed = self.rng.choice([w.split(",")[0] for w, _ in flow.words] or [""])
        dest = next((d for w, d in flow.words if pressed in w.split(",")), flow.invalid)
        events.append(
            {"datahora": local(t), "fluxo": flow.num, "evento": "AUDIO", "detalhe": spoken}
        )
        events.append(
            {"datahora": local(t + 6), "fluxo": flow.num, "evento": "ENTRADA", "detalhe": pressed}
        )
        self.ura_cdrs.append(
            {
                "datahora": local(t + 6),
                "ura": f"{ura.id} - {ura.name}",
                "bilheteunico": call_id,
                "ddr": "",
                "origem": destino,
                "destino": dest,
                "tronco": self._trunk(),
                "duracao": hms(10),
                "fluxo": flow.num,
                "palavra_origem": pressed,
                "palavra_dest": pressed,
                "evento": "SAIDA",
                "status": "COMPLETADA",
                "eventos": events,
                "idcti": idcti,
                "_when": t + 6,
                "_ura": ura.id,
            }
        )
        self._record(
            Call(
                call_id,
                "Discador",
                destino,
                f"URA {ura.id}",
                self._trunk(),
                idcti=idcti,
                arrived=now,
                answered=t,
                talk_seconds=10,
            ),
            status="COMPLETADA",
            end=t + 10,
        )
        return self.ok("Discagem para URA iniciada", idcall=call_id)

    def op_cdrURA(self, dataini: str, datafin: str, idura: str, idunico: str) -> Any:
        start, end = bounds(dataini, datafin, self.clock())
        return [
            {k: v for k, v in r.items() if not k.startswith("_")}
            for r in self.ura_cdrs
            if (idunico and idunico in (r["bilheteunico"], r["idcti"]))
            or (not idunico and start <= r["_when"] <= end and (not idura or r["_ura"] == idura))
        ]
