"""The simulated PBX the demo and the tests start with: queues, extensions, agents,
pauses, trunks and two URAs."""

from __future__ import annotations

from callhub.adapters.uscall.simulator.model import Agent, Exten, Flow, Pause, Queue, Ura
from callhub.adapters.uscall.simulator.pbx import Pbx


def demo_setup(pbx: Pbx) -> None:
    """The PBX the demo and the tests start with."""
    for num, name in (("900", "Suporte N1"), ("901", "Financeiro"), ("902", "Comercial")):
        pbx.queues[num] = Queue(num, name, ddr=f"113995{num}0")
    pbx.queues["950"] = Queue("950", "Recepção", kind="pbx")
    for n in range(2000, 2010):
        pbx.extens[str(n)] = Exten(str(n), f"Posição {n - 1999}", ip=f"10.0.0.{n - 1990}")
    for n in (2100, 2101):
        pbx.extens[str(n)] = Exten(str(n), f"Supervisão {n - 2099}", kind="pbx")
    names = ["Ana Souza", "Bruno Lima", "Carla Dias", "Diego Rocha", "Elisa Prado", "Fábio Reis"]
    for i, name in enumerate(names):
        num = str(101 + i)
        pbx.agents[num] = Agent(num, name, password=f"senha{num}", key_queue="900")
    for pid, name, seconds in (
        ("1", "Almoço", 3600),
        ("2", "Banheiro", 600),
        ("3", "Treinamento", 0),
        ("4", "Pós-atendimento", 120),
    ):
        pbx.pauses[pid] = Pause(pid, name, seconds, "ALL" if pid != "4" else "900,901")
    pbx.trunks = [
        {"nome": "Operadora A", "tipo": "SIP", "canal": "SIP/operadora-a"},
        {"nome": "Operadora B", "tipo": "SIP", "canal": "SIP/operadora-b"},
        {"nome": "E1 Centro", "tipo": "DAHDI", "canal": "DAHDI/g1"},
    ]
    pbx.uras["1"] = Ura(
        "1",
        "Aviso de solicitação",
        "Avisa o solicitante sobre a sua solicitação",
        [
            Flow(
                "1",
                "Saudação",
                "texto:Olá {CTI_INFO1}. A sua solicitação {CTI_INFO2} está {CTI_INFO3}."
                " Tecle 1 para falar com um atendente ou 2 para encerrar.",
                5,
                2,
                "2",
                "digito",
                [("1", "fila:900"), ("2", "desligar"), ("*", "2")],
            ),
            Flow("2", "Despedida", "texto:Obrigado. Até logo.", 3, 0, "desligar", "voz", []),
        ],
    )
    pbx.uras["2"] = Ura(
        "2",
        "Pesquisa de satisfação",
        "Nota de 1 a 5 após o atendimento",
        [
            Flow(
                "1",
                "Nota",
                "arquivo:pesquisa.wav",
                8,
                1,
                "desligar",
                "digito",
                [("1,2,3,4,5", "desligar")],
            )
        ],
    )
