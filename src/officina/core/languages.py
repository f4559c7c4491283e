"""Which language a request is answered in, for every face that shows translated text.

The order follows what a person expects: what the request itself says (``Content-Language``
for what it writes, ``Accept-Language`` for what it reads), then the language the user chose
in their profile, then the instance's default. A language the instance does not offer is
skipped rather than refused, so a browser's long ``Accept-Language`` list never fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_LANGUAGES = ("en", "de", "fr", "it")


def supported(settings: Mapping[str, object]) -> tuple[str, ...]:
    """The instance's languages (setting ``languages``); English is always among them."""
    raw = settings.get("languages")
    langs: list[str] = []
    if isinstance(raw, str):
        raw = raw.split(",")
    if isinstance(raw, list | tuple):
        langs = [str(x).strip().lower() for x in raw if str(x).strip()]
    if not langs:
        langs = list(DEFAULT_LANGUAGES)
    if "en" not in langs:
        langs.insert(0, "en")
    return tuple(dict.fromkeys(langs))


def default_language(settings: Mapping[str, object], langs: Sequence[str]) -> str:
    value = str(settings.get("language") or "en").strip().lower()[:2]
    return value if value in langs else "en"


def _primary(tag: str) -> str:
    return tag.strip().split(";")[0].strip().split("-")[0].split("_")[0].lower()


def accepted(header: str | None) -> list[str]:
    """Primary language subtags of an ``Accept-Language`` header, best first."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        lang = _primary(tag)
        if lang and lang != "*" and quality > 0:
            ranked.append((-quality, position, lang))
    return [lang for _, _, lang in sorted(ranked)]


def choose(
    langs: Sequence[str],
    default: str,
    *,
    content_language: str | None = None,
    accept_language: str | None = None,
    user_language: str | None = None,
) -> str:
    """The first supported language among the request's and the user's wishes."""
    wishes: list[str] = []
    if content_language:
        wishes += [_primary(x) for x in content_language.split(",")]
    wishes += accepted(accept_language)
    if user_language:
        wishes.append(_primary(user_language))
    for lang in wishes:
        if lang in langs:
            return lang
    return default
