"""The password memo speeds up repeated successes without weakening anything."""

from __future__ import annotations

import time

from officina.core import passwords
from officina.core.passwords import hash_password, verify_password


def test_repeated_success_is_fast_and_failures_are_not_remembered(monkeypatch):
    stored = hash_password("right-password")
    start = time.perf_counter()
    assert verify_password(stored, "right-password")
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(20):
        assert verify_password(stored, "right-password")
    repeated = (time.perf_counter() - start) / 20
    assert repeated < first  # memo hit: no argon2 run
    calls = []
    real = passwords._hasher

    class Counting:
        def verify(self, hashed: str, password: str) -> bool:
            calls.append(1)
            return real.verify(hashed, password)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    for _ in range(3):
        assert not verify_password(stored, "wrong-password")
    assert len(calls) == 3  # every wrong guess pays full price
    assert verify_password(stored, "right-password")
    assert len(calls) == 3  # while the remembered success costs nothing


def test_a_changed_hash_invalidates_the_memo():
    old = hash_password("password-one")
    assert verify_password(old, "password-one")
    new = hash_password("password-two")
    assert not verify_password(new, "password-one")
    assert verify_password(new, "password-two")
    assert not verify_password(None, "password-one")


def test_memo_entries_expire(monkeypatch):
    stored = hash_password("expiring-pass")
    assert verify_password(stored, "expiring-pass")
    key = passwords._memo_id(stored, "expiring-pass")
    assert passwords._remembered(key)
    monkeypatch.setattr(passwords, "MEMO_SECONDS", -1.0)
    assert not passwords._remembered(key)
