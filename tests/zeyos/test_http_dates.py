"""Last-Modified dates are written in HTTP's date form exactly as the standard library
writes them, for any second a row can carry."""

from __future__ import annotations

import email.utils

from hypothesis import given, settings
from hypothesis import strategies as st

from officina.zeyos.http import _http_date


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=253_402_300_799))
def test_http_dates_match_the_standard_library(ts: int) -> None:
    assert _http_date(ts) == email.utils.formatdate(ts, usegmt=True)


def test_known_dates() -> None:
    assert _http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert _http_date(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT"
