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

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import zeep
import zeep.exceptions
from zeep.transports import AsyncTransport

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.wsdl import CTI_INFOS, OPERATIONS

log = logging.getLogger("callhub.uscall")

T = TypeVar("T")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


class USCallError(Exception):
    """Anything that kept a USCall function from giving an answer."""


class USCallUnavailable(USCallError):
    """The PBX could not be reached, or did not answer in time."""


class USCallRefused(USCallError):
    """The PBX answered with an error; the message is the PBX's own."""


class USCallTokenRejected(USCallRefused):
    """The PBX refused callhub's token."""


def _arg(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    return str(value)


class USCallClient:
    def __init__(
        self,
        client: zeep.AsyncClient,
        token: str,
        *,
        zone: ZoneInfo,
        http: httpx.AsyncClient,
        owns_http: bool,
    ) -> None:
        self._client = client
        self._token = token
        self.zone = zone
        self._http = http
        self._owns_http = owns_http

    @classmethod
    async def connect(
        cls,
        wsdl: str,
        token: str,
        *,
        timeout: float = 5.0,
        verify_tls: bool = True,
        zone: ZoneInfo | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> USCallClient:
        """Load the WSDL (off the event loop) and check it offers the 21 functions."""
        owns_http = http is None
        http = http or httpx.AsyncClient(verify=verify_tls, timeout=timeout)

        def load() -> zeep.AsyncClient:
            with httpx.Client(verify=verify_tls, timeout=timeout) as wsdl_http:
                transport = AsyncTransport(  # type: ignore[no-untyped-call]
                    client=http, wsdl_client=wsdl_http, timeout=timeout
                )
                return zeep.AsyncClient(wsdl, transport=transport)  # type: ignore[no-untyped-call]

        try:
            client = await asyncio.to_thread(load)
        except (httpx.HTTPError, zeep.exceptions.TransportError, OSError) as exc:
            if owns_http:
                await http.aclose()
            raise USCallUnavailable(f"USCall WSDL at {wsdl} could not be loaded: {exc}") from exc
        except Exception as exc:
            if owns_http:
                await http.aclose()
            raise USCallError(f"USCall WSDL at {wsdl} is not usable: {exc}") from exc
        missing = sorted(set(OPERATIONS) - set(client.service._operations))
        if missing:
            if owns_http:
                await http.aclose()
            raise USCallError(f"USCall WSDL at {wsdl} lacks {', '.join(missing)}")
        return cls(
            client,
            token,
            zone=zone or ZoneInfo("America/Sao_Paulo"),
            http=http,
            owns_http=owns_http,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- the call itself -------------------------------------------------------------

    async def call(self, operation: str, **params: object) -> Any:
        """Call one function with its parameters by name; the decoded JSON answer."""
        names = OPERATIONS[operation]
        unknown = set(params) - set(names)
        if unknown:
            raise TypeError(f"{operation} has no parameter {', '.join(sorted(unknown))}")
        args = [_arg(params.get(name)) for name in names]
        try:
            raw = await getattr(self._client.service, operation)(self._token, *args)
        except httpx.TimeoutException as exc:
            raise USCallUnavailable(f"USCall did not answer {operation} in time") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise USCallUnavailable(f"USCall unreachable ({operation}): {exc}") from exc
        except zeep.exceptions.TransportError as exc:
            raise USCallUnavailable(
                f"USCall answered {operation} with HTTP {exc.status_code}"
            ) from exc
        except zeep.exceptions.Fault as exc:
            raise USCallRefused(f"{operation}: {exc.message}") from exc
        except zeep.exceptions.Error as exc:
            raise USCallError(f"{operation}: {exc}") from exc
        return self._decode(operation, raw)

    def _decode(self, operation: str, raw: Any) -> Any:
        if not isinstance(raw, str):
            raise USCallError(f"{operation}: the answer is not a JSON string")
        try:
            answer = json.loads(raw) if raw.strip() else []
        except ValueError:
            raise USCallError(f"{operation}: the answer is not JSON: {raw[:120]!r}") from None
        if isinstance(answer, dict):
            lowered = {str(k).lower(): v for k, v in answer.items()}
            status = str(lowered.get("status", "")).lower()
            if status in ("erro", "error") or "erro" in lowered or "error" in lowered:
                message = str(
                    lowered.get("mensagem")
                    or lowered.get("erro")
                    or lowered.get("error")
                    or lowered.get("message")
                    or "erro"
                )
                if "token" in message.lower():
                    raise USCallTokenRejected(message)
                raise USCallRefused(message)
        return answer

    async def _typed(
        self, operation: str, build: Callable[[r.Row], T], **params: object
    ) -> list[T]:
        answer = await self.call(operation, **params)
        try:
            return [build(row) for row in r.rows(answer)]
        except (ValueError, TypeError, KeyError) as exc:
            raise USCallError(f"{operation}: unexpected answer: {exc}") from exc

    async def _done(self, operation: str, **params: object) -> r.Done:
        answer = await self.call(operation, **params)
        row = r.row(answer) if isinstance(answer, dict) else {}
        return r.Done(
            message=r.text(row, "mensagem", "message", "status"),
            idcall=r.text(row, "idcall", "idunico", "bilheteunico") or None,
        )

    # -- the 21 functions ------------------------------------------------------------

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

    def _local(self, value: datetime | None) -> datetime | None:
        """Dates go to the PBX in its own zone."""
        if value is None:
            return None
        return value.astimezone(self.zone) if value.tzinfo else value
