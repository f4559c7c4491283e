"""One rule for values on both stores: what SQLite would take and PostgreSQL refuse (or the
other way round) is refused on both with a 400 that names the field, and changes nothing."""

from __future__ import annotations

import random
import string

from tests.zeyos.helpers import API, account, error, listing

# Random letters and digits do not compress: PostgreSQL cannot shrink such an index entry.
_rng = random.Random(7)


def _noise(n: int) -> str:
    return "".join(_rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def test_nul_in_a_filter_or_query_is_refused_on_both_stores(admin):
    account(admin, lastname="A")
    for body in (
        {"filter": {"lastname": "A\u0000zzz"}},
        {"filter": {"lastname": {"~~": "A\u0000%"}}},
        {"filter": {"lastname": {"IN": ["B", "A\u0000"]}}},
    ):
        text = error(admin.post(f"{API}/accounts", json=body), 400)
        assert text == "Bad Request: Invalid filter value for 'lastname'", body
    text = error(admin.post(f"{API}/accounts", json={"query": "A\u0000zz"}), 400)
    assert text == "Bad Request: Invalid query: NUL character"


def test_indexed_text_has_one_bound_on_both_stores(admin):
    text = error(
        admin.put(f"{API}/accounts", json={"lastname": _noise(3000), "currency": "EUR"}), 400
    )
    assert text == "Bad Request: Invalid value for field 'lastname': at most 2000 bytes of UTF-8"
    # four bytes a character: 501 of them are over the bound although few characters
    text = error(
        admin.put(f"{API}/accounts", json={"lastname": "😀" * 501, "currency": "EUR"}), 400
    )
    assert "at most 2000 bytes" in text
    assert listing(admin, "accounts", {"count": True}) == {"count": 0}
    longest = _noise(2000)
    made = account(admin, lastname=longest)
    assert made["lastname"] == longest
    assert [r["ID"] for r in listing(admin, "accounts", {"filter": {"lastname": longest}})] == [
        made["ID"]
    ]
    # free-form text has no index and no such bound
    note = _noise(20_000)
    made = account(admin, lastname="Noted", description=note)
    assert admin.get(f"{API}/accounts/{made['ID']}").json()["description"] == note


def test_extension_values_and_tags_refuse_nul_and_oversize_on_both_stores(admin):
    base = {"lastname": "Ext", "currency": "EUR"}
    text = error(admin.put(f"{API}/accounts", json={**base, "extdata": {"k": "a\u0000b"}}), 400)
    assert (
        text == "Bad Request: Invalid value for field 'extdata.k': NUL characters are not allowed"
    )
    text = error(admin.put(f"{API}/accounts", json={**base, "extdata": {"k": _noise(3000)}}), 400)
    assert text == "Bad Request: Invalid value for field 'extdata.k': at most 2000 bytes of UTF-8"
    text = error(admin.put(f"{API}/accounts", json={**base, "tags": ["a\u0000b"]}), 400)
    assert text == "Bad Request: Invalid value for field 'tags'"
    assert listing(admin, "accounts", {"count": True}) == {"count": 0}
    kept = _noise(2000)
    made = account(admin, lastname="Ext", extdata={"k": kept}, tags=["vip"])
    got = admin.get(f"{API}/accounts/{made['ID']}?extdata=1&tags=1").json()
    assert got["extdata"] == {"k": kept}
    assert got["tags"] == ["vip"]
