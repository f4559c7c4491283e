"""Password hashing with argon2, and a memo that keeps Basic authentication affordable.

argon2 is slow on purpose (a quarter of a second on a small machine). Clients using HTTP Basic
with e-mail and password send the password with every request, so each successful check is
remembered for a few minutes under a key derived from the *stored hash* and the password with
a per-process secret (HMAC). Consequences:

- a password change replaces the stored hash, which is read fresh on every request, so the old
  password stops working at once in every worker — nothing needs invalidating;
- only successes are remembered: every wrong guess still costs a full argon2 check;
- the memo holds no password, only keyed digests that are useless outside this process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

# Verified against when a user does not exist, so response time does not reveal which
# e-mail addresses have accounts.
_DUMMY = _hasher.hash("officina-no-such-user")

MEMO_SECONDS = 300.0
MEMO_SIZE = 4096
_memo_key = secrets.token_bytes(32)
_memo: OrderedDict[bytes, float] = OrderedDict()
_memo_lock = threading.Lock()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _memo_id(stored: str, password: str) -> bytes:
    message = stored.encode("utf-8") + b"\x00" + password.encode("utf-8")
    return hmac.new(_memo_key, message, hashlib.sha256).digest()


def _remembered(key: bytes) -> bool:
    with _memo_lock:
        seen = _memo.get(key)
        if seen is None:
            return False
        if time.monotonic() - seen > MEMO_SECONDS:
            del _memo[key]
            return False
        return True


def _remember(key: bytes) -> None:
    with _memo_lock:
        _memo[key] = time.monotonic()
        _memo.move_to_end(key)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)


def verify_password(stored: str | None, password: str) -> bool:
    key = _memo_id(stored, password) if stored else None
    if key is not None and _remembered(key):
        return True
    try:
        ok = _hasher.verify(stored or _DUMMY, password) and bool(stored)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if ok and key is not None:
        _remember(key)
    return ok
