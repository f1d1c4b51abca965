"""What integrators send: each body's fields, named exactly as the contract names them.

The first error names its field; the models feed /openapi.json, so the document cannot
drift from what is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

StatusCode = Literal["InProgress", "Suspended", "Canceled", "Resolved", "Reopened", "Closed"]
Level = Literal["H", "M", "L"]
Origin = Literal["EMAIL", "FONE_FAX", "VOICE_MAIL", "PERSONALLY", "OTHERS"]
Number = Annotated[int, Field(ge=1, le=2**31 - 1)]
Key = Annotated[str, Field(min_length=1, max_length=128)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


def seed_spelling(name: str) -> AliasChoices:
    """A field is read under the contract's name and under the seed's, whose first letter
    is a capital (`Number`, `NumberOrigin`, `UserID`); and the other way round for the
    contract's own capitalised names (`QueryName`, `queryName`)."""
    return AliasChoices(name, name[0].swapcase() + name[1:])


class In(BaseModel):
    # Integrators send more than we read; numbers where text is meant are taken as text.
    model_config = ConfigDict(
        extra="ignore",
        str_strip_whitespace=True,
        coerce_numbers_to_str=True,
        alias_generator=AliasGenerator(validation_alias=seed_spelling),
    )

    @model_validator(mode="before")
    @classmethod
    def _one_spelling(cls, data: Any) -> Any:
        """Both spellings of a field, with different values: which one was meant?"""
        if isinstance(data, dict):
            for name in cls.model_fields:
                other = name[0].swapcase() + name[1:]
                if name in data and other in data and data[name] != data[other]:
                    raise PydanticCustomError(
                        "duplicate_field",
                        "{field} and {other} both given, with different values",
                        {"field": name, "other": other},
                    )
        return data


class Authed(In):
    sessionID: str = Field(min_length=1, max_length=128)
    messageID: str | None = Field(default=None, max_length=128)


class LoginIn(In):
    userName: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    # The seed spells it "platfom"; both are read.
    platform: str = Field(
        min_length=1, max_length=64, validation_alias=AliasChoices("platform", "platfom")
    )
    token: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=16)
    messageID: str | None = Field(default=None, max_length=128)


class ContactIn(In):
    name: str | None = Field(default=None, max_length=160)
    phoneNumber: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)


class CategoryIn(In):
    code: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=120)


class ServiceIn(In):
    code: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=160)
    category: CategoryIn | None = None


class StatusIn(In):
    code: StatusCode
    details: str | None = Field(default=None, max_length=4000)


class SourceRequest(In):
    numberOrigin: Key
    type: Literal["I", "R"]
    description: str = Field(min_length=1, max_length=4000)
    userID: str = Field(min_length=1, max_length=64)
    contact: ContactIn | None = None
    contractID: Number | None = None
    service: ServiceIn | None = None
    urgency: Level | None = None
    impact: Level | None = None
    groupId: str | None = Field(default=None, max_length=32)
    linkedNumber: Number | None = None


class CreateIn(Authed):
    synchronize: bool = False
    sourceRequest: SourceRequest


class RequestRef(Authed):
    number: Number | None = None
    numberOrigin: Key | None = None


class RequestChange(In):
    number: Number | None = None
    numberOrigin: Key | None = None
    type: Literal["I", "R"] | None = None
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    contact: ContactIn | None = None
    contractID: Number | None = None
    service: ServiceIn | None = None
    urgency: Level | None = None
    impact: Level | None = None
    groupId: str | None = Field(default=None, max_length=32)
    status: StatusIn | None = None


class UpdateIn(Authed):
    request: RequestChange
    synchronize: bool = False


class UpdateStatusIn(RequestRef):
    status: StatusIn


class ByUserIn(Authed):
    userID: str = Field(min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=200)
    startDate: datetime | None = None
    endDate: datetime | None = None
    service: str | None = Field(default=None, max_length=64)
    contractID: Number | None = None
    status: StatusCode | None = None
    contractList: list[Number] | None = Field(default=None, max_length=500)
    statusList: list[StatusCode] | None = Field(default=None, max_length=10)
    groupList: list[Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, max_length=500
    )
    allAttributes: bool = False


class NotSynchronizedIn(ByUserIn):
    # Marks what is answered as taken; false only looks.
    synchronize: bool = True


class CategoryRef(In):
    code: str = Field(min_length=1, max_length=32)


class OccurrenceIn(In):
    numberOrigin: Key | None = None
    description: str = Field(min_length=1, max_length=4000)
    date: str | None = Field(default=None, max_length=10, description="dd/mm/yyyy or yyyy-mm-dd")
    hour: str | None = Field(default=None, max_length=5, description="HH:MM")
    category: CategoryRef | None = None
    reason: str | None = Field(default=None, max_length=255)
    origin: Origin | None = None
    elapsedTime: int | None = Field(default=None, ge=0, le=525_600, description="minutes")


class OccurrenceRef(Authed):
    requestNumber: Number | None = None
    requestNumberOrigin: Key | None = None


class CreateOccurrenceIn(OccurrenceRef):
    occurrence: OccurrenceIn


class ListOccurrencesIn(OccurrenceRef):
    categoryList: list[Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, max_length=50
    )


class OccurrencesNotSynchronizedIn(ListOccurrencesIn):
    synchronize: bool = True


class SimpleSource(In):
    numberOrigin: Key | None = None
    description: str = Field(min_length=1, max_length=4000)
    userID: str = Field(min_length=1, max_length=64)
    type: Literal["I", "R"] = "R"
    service: str | None = Field(default=None, max_length=64, description="service code")
    contractID: Number | None = None
    urgency: Level | None = None
    impact: Level | None = None
    contact: ContactIn | None = None


class AddServiceRequestIn(Authed):
    serviceRequestSource: SimpleSource


class SyncIn(Authed):
    Object: str = Field(min_length=1, max_length=32)
    FromKey: Key
    ToKey: Key


class SyncFindIn(Authed):
    Object: str | None = Field(default=None, max_length=32)
    FromKey: str | None = Field(default=None, max_length=128)
    ToKey: str | None = Field(default=None, max_length=128)


class SyncDeleteIn(Authed):
    Object: str = Field(min_length=1, max_length=32)
    FromKey: str | None = Field(default=None, max_length=128)
    ToKey: str | None = Field(default=None, max_length=128)


Scalar = str | int | float | bool | None


class DataQueryIn(Authed):
    QueryName: str = Field(min_length=1, max_length=64)
    Parameters: dict[str, Scalar] = Field(default_factory=dict, max_length=50)


class ExecuteIn(Authed):
    OperationName: str = Field(min_length=1, max_length=64)
    Parameters: dict[str, Scalar] = Field(default_factory=dict, max_length=50)


class ErrorListIn(Authed):
    startDate: datetime | None = None
    endDate: datetime | None = None
    OperationList: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=100
    )


class UnitsIn(Authed):
    contractID: Number | None = None
    unitID: Number | None = None


class CoordinatesIn(Authed):
    unitID: Number
    latitude: Latitude
    longitude: Longitude


class DisassociateIn(Authed):
    connection: str | None = Field(default=None, max_length=64)
    token: str = Field(min_length=1, max_length=255)
