"""The USCall UC SOAP client: the 21 functions, typed.

Built with `USCallClient.connect(...)`, which loads the WSDL in a worker thread (zeep
loads it synchronously) once, at start-up, and checks that the PBX has every function
callhub uses. Calls then go through zeep's AsyncTransport over an injected (or owned)
httpx.AsyncClient with an explicit timeout. TLS is verified unless told otherwise (PBXs
often carry self-signed certificates).

Errors: `USCallUnavailable` when the PBX cannot be reached or does not answer in time;
`USCallRefused` when it answers with an error (a wrong token, an agent not logged in),
carrying the PBX's own message; `USCallTokenRejected` for the token in particular.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.transport import (
    MEDIA_TYPES,
    USCallError,
    USCallRefused,
    USCallTokenRejected,
    USCallTransport,
    USCallUnavailable,
)
from callhub.adapters.uscall.wsdl import CTI_INFOS

__all__ = [
    "MEDIA_TYPES",
    "USCallClient",
    "USCallError",
    "USCallRefused",
    "USCallTokenRejected",
    "USCallUnavailable",
]


class USCallClient(USCallTransport):
    """The 21 functions, typed."""

    async def get_agent(self) -> list[r.Agent]:
        return await self._typed(
            "getAgent",
            lambda x: r.Agent(
                r.text(x, "num"),
                r.text(x, "nome"),
                r.text(x, "senhamd5").lower(),
                r.text(x, "filachave"),
            ),
        )

    async def start_call(
        self, tipo: str, origem: str, destino: str, categoria: str, idcti: str | None = None
    ) -> r.Done:
        if tipo not in ("outbound", "clicktocall"):
            raise ValueError("tipo: outbound or clicktocall")
        return await self._done(
            "startCall",
            tipo=tipo,
            origem=origem,
            destino=destino,
            categoria=categoria,
            idcti=idcti,
        )

    async def cdr_search(
        self,
        dataini: datetime | None = None,
        datafin: datetime | None = None,
        origem: str | None = None,
        destino: str | None = None,
        idunico: str | None = None,
    ) -> list[r.CdrRecord]:
        return await self._typed(
            "cdrSearch",
            self._cdr,
            dataini=self._local(dataini),
            datafin=self._local(datafin),
            origem=origem,
            destino=destino,
            idunico=idunico,
        )

    def _cdr(self, x: r.Row) -> r.CdrRecord:
        return r.CdrRecord(
            bilheteunico=r.text(x, "bilheteunico"),
            audio=r.text(x, "audio"),
            datahora=r.when(x, "datahora", self.zone),
            tipo=r.text(x, "tipo"),
            ddr=r.text(x, "ddr"),
            origem=r.text(x, "origem"),
            destino=r.text(x, "destino"),
            tronco=r.text(x, "tronco"),
            espera=r.seconds(x, "espera"),
            duracao=r.seconds(x, "duracao"),
            status=r.text(x, "status"),
            idcti=r.text(x, "idcti"),
        )

    async def audio_download(self, idunico: str, formato: str = "wav") -> r.Recording:
        fmt = formato.lower()
        if fmt not in MEDIA_TYPES:
            raise ValueError("formato: mp3, ogg or wav")
        answer = r.row(await self.call("audioDownload", idunico=idunico, formato=fmt))
        try:
            content = base64.b64decode(r.text(answer, "arquivo_base_64"), validate=True)
        except ValueError as exc:
            raise USCallError(f"audioDownload: the audio is not base64: {exc}") from exc
        if not content:
            raise USCallRefused(f"audioDownload: no recording for {idunico}")
        return r.Recording(
            nome=r.text(answer, "nomeaudio"),
            data=r.when(answer, "data", self.zone),
            tipo=r.text(answer, "tipo"),
            status=r.text(answer, "status"),
            origem=r.text(answer, "origem"),
            destino=r.text(answer, "destino"),
            content=content,
            media_type=MEDIA_TYPES[fmt],
        )

    async def agent_login(
        self, agente: str, ramal: str, senhamd5: str, filachave: str | None = None
    ) -> r.Done:
        return await self._done(
            "agentLogin", agente=agente, ramal=ramal, senhamd5=senhamd5, filachave=filachave
        )

    async def agent_logout(self, agente: str) -> r.Done:
        return await self._done("agentLogout", agente=agente)

    async def agent_status(self, agente: str | None = None) -> list[r.AgentStatus]:
        return await self._typed(
            "agentStatus",
            lambda x: r.AgentStatus(
                num=r.text(x, "num"),
                status=r.text(x, "status").lower(),
                pausa=r.text(x, "pausa"),
                campanha=r.text(x, "campanha"),
                ramal=r.text(x, "ramal"),
                numero=r.text(x, "numero"),
                tempo=r.seconds(x, "tempo"),
                filas=r.listed(x, "filas"),
                recebidas=r.number(x, "recebidas"),
                efetuadas=r.number(x, "efetuadas"),
                atendfila=r.text(x, "atendfila"),
                idcall=r.text(x, "idcall"),
                ddr=r.text(x, "ddr"),
            ),
            agente=agente,
        )

    async def get_pauses(self) -> list[r.PauseInfo]:
        return await self._typed(
            "getPauses",
            lambda x: r.PauseInfo(
                r.text(x, "id"), r.text(x, "pause"), r.number(x, "tempo"), r.listed(x, "filas")
            ),
        )

    async def start_pause(self, agente: str, idpausa: str) -> r.Done:
        return await self._done("startPause", agente=agente, idpausa=idpausa)

    async def end_pause(self, agente: str) -> r.Done:
        return await self._done("endPause", agente=agente)

    async def hangup_call(self, ramal: str, agente: bool = False) -> r.Done:
        return await self._done("hangupCall", ramal=ramal, agente=agente)

    async def monit_exten(
        self, srcramal: str, dstramal: str, agente: bool = False, tipo: str = "escuta"
    ) -> r.Done:
        if tipo not in ("escuta", "monitor", "conf"):
            raise ValueError("tipo: escuta, monitor or conf")
        return await self._done(
            "monitExten", srcramal=srcramal, dstramal=dstramal, agente=agente, tipo=tipo
        )

    async def get_extens(self, ramal: str | None = None) -> list[r.Exten]:
        return await self._typed(
            "getExtens",
            lambda x: r.Exten(r.text(x, "num"), r.text(x, "tipo"), r.text(x, "nome")),
            ramal=ramal,
        )

    async def exten_status(
        self, tipo: str | None = None, ramal: str | None = None
    ) -> list[r.ExtenStatus]:
        return await self._typed(
            "extenStatus",
            lambda x: r.ExtenStatus(
                ramal=r.text(x, "ramal"),
                status=r.text(x, "status").lower(),
                sigame=r.text(x, "sigame"),
                ip=r.text(x, "ip"),
                numero=r.text(x, "numero"),
                tempo=r.seconds(x, "tempo"),
            ),
            tipo=tipo,
            ramal=ramal,
        )

    async def get_queue(self, fila: str | None = None) -> list[r.QueueInfo]:
        return await self._typed(
            "getQueue",
            lambda x: r.QueueInfo(r.text(x, "fila"), r.text(x, "tipo"), r.text(x, "nome")),
            fila=fila,
        )

    async def queue_status(self, fila: str | None = None) -> list[r.QueueStatus]:
        return await self._typed(
            "queueStatus",
            lambda x: r.QueueStatus(
                fila=r.text(x, "fila"),
                status=r.text(x, "status").lower(),
                espera=r.number(x, "espera"),
                numeros=[
                    r.Waiting(r.text(n, "numero"), r.seconds(n, "tempo") or 0)
                    for n in r.nested(x, "numeros")
                ],
            ),
            fila=fila,
        )

    async def cdr_tariff(
        self, dataini: datetime | None = None, datafin: datetime | None = None
    ) -> list[r.TariffRecord]:
        return await self._typed(
            "cdrTariff",
            lambda x: r.TariffRecord(
                datahorario=r.when(x, "datahorario", self.zone),
                ramalnum=r.text(x, "ramalnum"),
                ramalnome=r.text(x, "ramalnome"),
                ramalcanal=r.text(x, "ramalcanal"),
                numero=r.text(x, "numero"),
                tronconome=r.text(x, "tronconome"),
                # The seed spells it "truncocanal"; either spelling is taken.
                troncocanal=r.text(x, "troncocanal", "truncocanal"),
                statuscall=r.text(x, "statuscall"),
                durtotal=r.number(x, "durtotal"),
                durcall=r.number(x, "durcall"),
                idcall=r.text(x, "idcall"),
            ),
            dataini=self._local(dataini),
            datafin=self._local(datafin),
        )

    async def list_trunk(self) -> list[r.Trunk]:
        return await self._typed(
            "listTrunk",
            lambda x: r.Trunk(r.text(x, "nome"), r.text(x, "tipo"), r.text(x, "canal")),
        )

    async def list_ura(self, idura: str | None = None) -> list[r.Ura]:
        def flow(x: r.Row) -> r.UraFlow:
            return r.UraFlow(
                fluxo=r.text(x, "fluxo"),
                descricao=r.text(x, "descricao"),
                audio=r.text(x, "audio"),
                timeout=r.number(x, "timeout"),
                repetir=r.number(x, "repetir"),
                destino_invalido=r.text(x, "destino_invalido"),
                tipo_fluxo=r.text(x, "tipo_fluxo"),
                palavras=[
                    r.UraWord(r.text(w, "palavra"), r.text(w, "destino"))
                    for w in r.nested(x, "palavras")
                ],
            )

        return await self._typed(
            "listURA",
            lambda x: r.Ura(
                r.text(x, "id"),
                r.text(x, "nome"),
                r.text(x, "descricao"),
                [flow(f) for f in r.nested(x, "fluxos")],
            ),
            idura=idura,
        )

    async def start_call_ura(
        self,
        idura: str,
        destino: str,
        categoria: str,
        idcti: str | None = None,
        cti_info: Sequence[str] = (),
    ) -> r.Done:
        if len(cti_info) > len(CTI_INFOS):
            raise ValueError(f"cti_info: at most {len(CTI_INFOS)} values")
        infos = dict(zip(CTI_INFOS, cti_info, strict=False))
        return await self._done(
            "startCallura",
            idura=idura,
            destino=destino,
            categoria=categoria,
            idcti=idcti,
            **infos,
        )

    async def cdr_ura(
        self,
        dataini: datetime | None = None,
        datafin: datetime | None = None,
        idura: str | None = None,
        idunico: str | None = None,
    ) -> list[r.UraRecord]:
        return await self._typed(
            "cdrURA",
            lambda x: r.UraRecord(
                datahora=r.when(x, "datahora", self.zone),
                ura=r.text(x, "ura"),
                bilheteunico=r.text(x, "bilheteunico"),
                ddr=r.text(x, "ddr"),
                origem=r.text(x, "origem"),
                destino=r.text(x, "destino"),
                tronco=r.text(x, "tronco"),
                duracao=r.seconds(x, "duracao"),
                fluxo=r.text(x, "fluxo"),
                palavra_origem=r.text(x, "palavra_origem"),
                palavra_dest=r.text(x, "palavra_dest"),
                evento=r.text(x, "evento"),
                status=r.text(x, "status"),
                eventos=r.nested(x, "eventos"),
                idcti=r.text(x, "idcti"),
            ),
            dataini=self._local(dataini),
            datafin=self._local(datafin),
            idura=idura,
            idunico=idunico,
        )
