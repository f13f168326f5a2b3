"""The tester's consents: ``GET /v1/me/consents`` and ``PUT /v1/me/consents``."""

from __future__ import annotations

import msgspec
from litestar import get, put
from litestar.params import JSONBody

from api.deps import Caller, DbConn, utcnow
from api.openapi import own_problems
from ingest.sharing import consents
from ingest.testers import CURRENT_TERMS, TermsVersion, check_terms_version
from store.sharing import ConsentEvent


class ConsentChangeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purpose: str
    granted: bool
    terms_version: TermsVersion = CURRENT_TERMS


class ConsentsIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    consents: list[ConsentChangeIn]


class ConsentsOut(msgspec.Struct, frozen=True, kw_only=True):
    current_terms: str
    consents: list[consents.ConsentState]
    history: list[ConsentEvent]
    already_released: str


ALREADY_RELEASED = (
    "Aggregates released while you shared stay published: they are anonymous and cannot be "
    "withdrawn. Revoking share_aggregates excludes you from every release from then on."
)


def _out(states: list[consents.ConsentState], history: list[ConsentEvent]) -> ConsentsOut:
    return ConsentsOut(
        current_terms=CURRENT_TERMS, consents=states, history=history, already_released=ALREADY_RELEASED
    )


@get("/v1/me/consents", tags=["testers"], operation_id="getConsents")
async def get_consents(conn: DbConn, principal: Caller) -> ConsentsOut:
    """Every purpose (granted or not, terms version, granted and revoked times), what revoking it
    means (`revoke_notice`, to show before the tester confirms), and the history of changes."""
    states, history = await consents.consent_states(conn, principal.user_id)
    return _out(states, history)


# 409: revoking coaching alone; 422: an unknown or repeated purpose (a terms version out of bounds is a 400).
@put("/v1/me/consents", tags=["testers"], operation_id="setConsents", opt=own_problems(409, 422))
async def put_consents(data: JSONBody[ConsentsIn], conn: DbConn, principal: Caller) -> ConsentsOut:
    """Grant or revoke the listed purposes (others stay as they are), all at once.

    Revoking `share_aggregates` leaves the tester out of every later release; what was released
    stays (anonymous). `coaching` cannot be revoked on its own: 409, leave with `DELETE /v1/me`.
    """
    for i, c in enumerate(data.consents):  # the use case checks it too; here the 400 names the field
        check_terms_version(c.terms_version, key=f"consents[{i}].terms_version")
    changes = [
        consents.ConsentChange(purpose=c.purpose, granted=c.granted, terms_version=c.terms_version)
        for c in data.consents
    ]
    states, history = await consents.change_consents(conn, principal.user_id, changes, now=utcnow())
    return _out(states, history)


ROUTES = [get_consents, put_consents]
