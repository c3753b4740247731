"""Language tags validated against real code lists (ISO 639-3 and ISO 15924 via pycountry).

A tag is ``<iso639-3>_<Script>`` as in FLORES/SIB-200 (``hau_Latn``, ``urd_Arab``). Text direction is
derived from the script, never typed by hand, so an Urdu item can never be shown left-to-right.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry

# ISO 15924 codes of scripts written right to left.
RTL_SCRIPTS = frozenset(
    {"Adlm", "Arab", "Aran", "Armi", "Avst", "Chrs", "Cprt", "Elym", "Hatr", "Hebr", "Hung", "Khar",
     "Lydi", "Mand", "Mani", "Mend", "Narb", "Nbat", "Nkoo", "Orkh", "Ougr", "Palm", "Phli", "Phlp",
     "Phnx", "Prti", "Rohg", "Samr", "Sarb", "Sogd", "Sogo", "Syrc", "Thaa", "Yezi"}
)
TAG_RE = re.compile(r"^(?P<code>[a-z]{3})_(?P<script>[A-Z][a-z]{3})$")


class LanguageCodeError(ValueError):
    """An unknown or malformed language or script code."""


@dataclass(frozen=True)
class LanguageSpec:
    code: str
    script: str
    name: str
    direction: str

    @property
    def tag(self) -> str:
        return f"{self.code}_{self.script}"


def direction_for_script(script: str) -> str:
    return "rtl" if script in RTL_SCRIPTS else "ltr"


def validate_language(code: str, script: str) -> LanguageSpec:
    language = pycountry.languages.get(alpha_3=code) if re.fullmatch(r"[a-z]{3}", code or "") else None
    if language is None:
        raise LanguageCodeError(f"unknown ISO 639-3 language code {code!r}")
    if not re.fullmatch(r"[A-Z][a-z]{3}", script or "") or pycountry.scripts.get(alpha_4=script) is None:
        raise LanguageCodeError(f"unknown ISO 15924 script code {script!r} (expected e.g. 'Latn', 'Arab')")
    return LanguageSpec(code=code, script=script, name=language.name, direction=direction_for_script(script))


def parse_tag(tag: str) -> LanguageSpec:
    match = TAG_RE.match(tag or "")
    if not match:
        raise LanguageCodeError(
            f"malformed language tag {tag!r}: expected <ISO 639-3>_<ISO 15924>, e.g. 'hau_Latn' or 'urd_Arab'"
        )
    return validate_language(match["code"], match["script"])


# ISO 639-3 individual languages that BCP 47 writes with their macrolanguage's two-letter code but
# langcodes' alias table does not map (FLORES uses quy for Quechua; browsers and fonts know "qu").
_MACRO_OVERRIDES = {"quy": "qu"}


def bcp47(code: str, script: str = "", region: str = "") -> str:
    """The BCP 47 tag for ``lang``: ``urd``+``Arab`` -> ``ur``, ``amh`` -> ``am``, ``uzb``+``Cyrl`` -> ``uz-Cyrl``.

    Browsers pick fonts, hyphenation and screen-reader voices from ``lang`` and only know the
    shortest form: ISO 639-3 codes become their two-letter (or macrolanguage) code, and the script
    subtag is kept only where it is not the language's usual script (Hausa in Ajami stays ``ha-Arab``)."""
    import langcodes

    try:
        language = _MACRO_OVERRIDES.get(code) or langcodes.standardize_tag(code, macro=True)
        tag = language
        if script and langcodes.Language.get(language).maximize().script != script:
            tag = f"{tag}-{script}"
        if re.fullmatch(r"[A-Za-z]{2}|[0-9]{3}", region or ""):  # a free-text dialect name is no subtag
            tag = f"{tag}-{region}"
        return langcodes.standardize_tag(tag)
    except (ValueError, LookupError, langcodes.tag_parser.LanguageTagError):
        return "-".join(part for part in (code, script) if part)


def autonym(code: str, fallback: str = "") -> str:
    """The language's name in itself (CLDR via langcodes + language_data): አማርኛ, Hausa, اردو.

    A language CLDR does not know keeps ``fallback`` (its English ISO name) rather than a made-up one."""
    import langcodes

    try:
        name = langcodes.Language.get(code).autonym()
    except (ValueError, LookupError, langcodes.tag_parser.LanguageTagError):
        return fallback or code
    if not name or name.startswith("Unknown language"):
        return fallback or code
    return name[:1].upper() + name[1:]  # CLDR lowercases some (français); a list item starts with a capital


def display_name(code: str, script: str = "", region: str = "", *, fallback: str = "",
                 locale: str | None = None) -> str:
    """The language's name in the interface language (``locale``, default the active one): Hausa is
    "Hausa" in English, "Haoussa" in French, "Kihausa" in Swahili, "ሃውሳኛ" in Amharic, "ہؤسا" in Urdu
    (CLDR via langcodes + language_data). The one helper every page uses for a language's name; where
    CLDR has no name, the English ISO name (``fallback``)."""
    from django.utils import translation

    return _display_name(bcp47(code, script, region), locale or translation.get_language() or "en",
                         fallback or code)


@lru_cache(maxsize=2048)
def _display_name(tag: str, locale: str, fallback: str) -> str:
    import langcodes

    try:
        language = langcodes.Language.get(tag)
        if "Unknown language" in language.display_name("en"):
            return fallback
        name = language.display_name(locale)
    except (ValueError, LookupError, langcodes.tag_parser.LanguageTagError):
        return fallback
    if not name:
        return fallback
    return name[:1].upper() + name[1:]  # CLDR lowercases some (haoussa); a cell or menu entry starts with a capital


def display_name_for_tag(tag: str) -> str:
    """``display_name`` of a ``hau_Latn`` tag (a sampling plan's key); anything else stays as it is."""
    match = TAG_RE.match(tag or "")
    return display_name(match["code"], match["script"], fallback=tag) if match else tag
