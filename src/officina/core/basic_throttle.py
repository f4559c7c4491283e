"""Sign-in throttling for ``Basic login:password`` credentials sent with any request.

Every face accepts an e-mail and password on every request, which makes every route a place
to guess passwords. Rather than teach each face (and each face still to come) to count, one
ASGI layer in front of all of them applies the same store-kept counts as the sign-in
endpoints: a blocked account or address is answered 429 before the face runs, and a 401
answer counts as a failure. A success does not clear the count here (only signing in does):
public routes such as the OpenAPI documents answer 200 whatever the password, and must not
become a way to wipe the count between guesses.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from officina.core import throttle
from officina.core.auth import scope_password_login
from officina.core.store import Instances, valid_instance_name


class BasicThrottle:
    def __init__(
        self,
        app: ASGIApp,
        instances: Instances,
        refuse: Callable[[str, int], Response],
        exempt: Callable[[str], bool],
    ) -> None:
        """``refuse(path, seconds)`` renders the 429 in the dialect of the face at ``path``;
        ``exempt(path)`` names routes whose Basic credentials are not a user's password
        (OAuth client authentication)."""
        self.app = app
        self.instances = instances
        self.refuse = refuse
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        login = scope_password_login(scope)
        path: str = scope.get("path", "")
        instance = path.split("/", 2)[1] if path.count("/") >= 2 else ""
        if login is None or not valid_instance_name(instance) or self.exempt(path):
            await self.app(scope, receive, send)
            return
        store = await run_in_threadpool(self.instances.lookup, instance)
        if store is None:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("", 0))[0] or ""
        wait = await run_in_threadpool(throttle.retry_after, store, login, address)
        if wait is not None:
            await self.refuse(path, wait)(scope, receive, send)
            return
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, sending)
        if status == 401:
            await run_in_threadpool(throttle.record_failure, store, login, address)
