"""The JSON bodies of our own formats (a handler's ``data``): read strictly, their mistakes said plainly.

Litestar reads such a body into Python values, then converts them to the handler's type with
msgspec's lenient rules (``strict=False``, meant for query parameters, which are text): ``"300"``
became the number 300, ``"true"`` true and ``"null"`` null, so a client sending a number as text
never learnt of its mistake. :class:`StrictBodyRequest` decodes the body straight into the handler's
type with msgspec's JSON rules, where a string is never a number (a 400, named as Litestar names its
validation errors); the signature model then takes the Struct as it is. A body msgspec cannot read
gets the reason the other JSON bodies get (:func:`ingest.formats.jsonbody.unreadable`: where it is
malformed, or a lone UTF-16 surrogate, which msgspec reported as "Input data was truncated"); an
empty body where the handler requires one gets "a JSON body is required" (:func:`required_body`).
Query parameters are converted as before; trackers' endpoints take no ``data`` (they read their
bodies themselves, whatever their apps send).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import URL
from litestar.exceptions import ValidationException

from ingest.formats import jsonbody

# msgspec's message for a value at a path (``... - at `$.consents[0]```; none at the body itself), and
# its messages that name a field of the object there: the field is then the error's key.
_AT_PATH = re.compile(r"(.*) - at `\$((?:\.\w+|\[\d+\]|\[\.\.\.\])*)`", re.DOTALL)
_NAMED_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `(.*)`", re.DOTALL)


@cache
def _decoder(annotation: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(annotation)  # one per body type, built at its first request


class StrictBodyRequest(Request[Any, Any, Any]):
    """The app's request class: ``json()`` reads a handler's ``data`` strictly (see the module)."""

    __slots__ = ()

    async def json(self) -> Any:
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is None:  # no handler of ours reads JSON it does not take as ``data``
            return await super().json()
        body = await self.body()  # Litestar calls this only for a body that is not empty
        try:
            return _decoder(data.annotation).decode(body)
        except msgspec.ValidationError as exc:
            raise self._invalid(exc) from exc
        except msgspec.DecodeError as exc:
            raise jsonbody.unreadable(body, exc) from exc

    def _invalid(self, exc: msgspec.ValidationError) -> ValidationException:
        """The 400 Litestar answers for a body of the wrong type, with the field's path as its key
        (``yearly_budget_kg``, ``consents[0].granted``; ``data`` for the body as a whole). msgspec
        places a missing or an unknown field at the object that lacks or holds it (``Object missing
        required field `yearly_budget_kg```, at the body): the key names the field itself."""
        message, path = str(exc), ""
        if at := _AT_PATH.fullmatch(message):  # the last path: an unknown field's name may hold one
            message, path = at[1], at[2].removeprefix(".")
        if named := _NAMED_FIELD.fullmatch(message):
            path = f"{path}.{named[1]}" if path else named[1]
        return invalid_body(self, message, path or "data")


def invalid_body(request: Request[Any, Any, Any], message: str, key: str) -> ValidationException:
    """The 400 for a body's field ``key`` (its path, ``data`` for the body as a whole), named as
    Litestar names its validation errors."""
    url = URL.from_components(path=request.url.path, query=request.url.query)
    return ValidationException(
        detail=f"Validation failed for {request.method} {url}",
        extra=[{"message": message, "key": key, "source": "body"}],
    )


async def required_body(request: Request[Any, Any, Any]) -> None:
    """Refuse an empty body where the handler's ``data`` has no default: Litestar leaves such a
    ``data`` out of the handler's arguments, and its message was the Python ``KeyError``'s
    (``'data'``). A handler whose ``data`` has a default (``None``) takes an empty body."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is not None and not data.has_default and not await request.body():
        raise invalid_body(request, "a JSON body is required", "data")
