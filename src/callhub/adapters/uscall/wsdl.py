"""The USCall UC webservice's 21 functions: parameter names and order, and its WSDL.

The order is the seed's: the token first, then the parameters as the seed lists them.
The simulator serves this WSDL; the client checks a real PBX's WSDL against the same
table when it starts, so a PBX whose functions differ is reported at start-up, not at
the first click.

The WSDL is the rpc/encoded SOAP 1.1 style that PHP's SOAP servers publish; every part
is an xsd:string and every answer a JSON string in `return`.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

NAMESPACE = "urn:wsuscall"
PATH = "/aplicativos/webservice/wsuscall.php"

CTI_INFOS = tuple(f"cti_info{n}" for n in range(1, 11))

# name -> parameters after the token, in order.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "getAgent": (),
    "startCall": ("tipo", "origem", "destino", "categoria", "idcti"),
    "cdrSearch": ("dataini", "datafin", "origem", "destino", "idunico"),
    "audioDownload": ("idunico", "formato"),
    "agentLogin": ("agente", "ramal", "senhamd5", "filachave"),
    "agentLogout": ("agente",),
    "agentStatus": ("agente",),
    "getPauses": (),
    "startPause": ("agente", "idpausa"),
    "endPause": ("agente",),
    "hangupCall": ("ramal", "agente"),
    "monitExten": ("srcramal", "dstramal", "agente", "tipo"),
    "getExtens": ("ramal",),
    "extenStatus": ("tipo", "ramal"),
    "getQueue": ("fila",),
    "queueStatus": ("fila",),
    "cdrTariff": ("dataini", "datafin"),
    "listTrunk": (),
    "listURA": ("idura",),
    # The seed spells the fourth "ldcti" once; it is the same idcti as startCall's.
    "startCallura": ("idura", "destino", "categoria", "idcti", *CTI_INFOS),
    "cdrURA": ("dataini", "datafin", "idura", "idunico"),
}


def render_wsdl(location: str) -> str:
    """The WSDL document, with the service address `location`."""
    messages: list[str] = []
    port_ops: list[str] = []
    binding_ops: list[str] = []
    body = (
        f'<soap:body use="encoded" namespace="{NAMESPACE}" '
        'encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"/>'
    )
    for name, params in OPERATIONS.items():
        parts = "".join(f'<part name="{p}" type="xsd:string"/>' for p in ("token", *params))
        messages.append(f'<message name="{name}Request">{parts}</message>')
        messages.append(
            f'<message name="{name}Response"><part name="return" type="xsd:string"/></message>'
        )
        port_ops.append(
            f'<operation name="{name}"><input message="tns:{name}Request"/>'
            f'<output message="tns:{name}Response"/></operation>'
        )
        binding_ops.append(
            f'<operation name="{name}">'
            f'<soap:operation soapAction="{NAMESPACE}#{name}" style="rpc"/>'
            f"<input>{body}</input><output>{body}</output></operation>"
        )
    nl = "\n"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
 xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema"
 xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"
 xmlns:tns="{NAMESPACE}" targetNamespace="{NAMESPACE}">
<types><xsd:schema targetNamespace="{NAMESPACE}">
<xsd:import namespace="http://schemas.xmlsoap.org/soap/encoding/"/>
<xsd:import namespace="http://schemas.xmlsoap.org/wsdl/"/>
</xsd:schema></types>
{nl.join(messages)}
<portType name="wsuscallPortType">{nl.join(port_ops)}</portType>
<binding name="wsuscallBinding" type="tns:wsuscallPortType">
<soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
{nl.join(binding_ops)}
</binding>
<service name="wsuscall"><port name="wsuscallPort" binding="tns:wsuscallBinding">
<soap:address location={quoteattr(location)}/></port></service>
</definitions>
"""
