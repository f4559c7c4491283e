"""Sign-in throttling for ``Basic login:password`` credentials sent with any request.

Every face accepts an e-mail and password on every request, which makes every route a place
to guess passwords. The request pipeline therefore applies the same store-kept counts as the
sign-in endpoints to every route whose declared kind says the Basic credentials are a
person's (all but client-authenticated OAuth endpoints): a blocked account or address is
answered 429 before the face runs, and a 401 answer counts as a failure. A success does not
clear the count here (only signing in does): public routes such as the OpenAPI documents
answer 200 whatever the password, and must not become a way to wipe the count between
guesses. The exemption is decided by the route the face declares, never by path text.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from officina.core import throttle
from officina.core.store import Store


async def blocked_for(store: Store, login: str, address: str) -> int | None:
    """Seconds the account or address must wait, or None when it may try."""
    return await run_in_threadpool(throttle.retry_after, store, login, address)


async def count_failure(store: Store, login: str, address: str) -> None:
    await run_in_threadpool(throttle.record_failure, store, login, address)
