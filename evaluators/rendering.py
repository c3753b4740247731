"""Guideline Markdown rendered to HTML that is safe to show: python-markdown, then the nh3 sanitiser.

Images come only from the site itself (a path such as ``/media/...``) or from an origin listed in
``GUIDELINE_IMAGE_ORIGINS``; any other image source is dropped here, and the Content-Security-Policy's
``img-src`` (same list) stops the browser too. An image from anywhere would tell a third party who
reads the guideline and when.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import markdown
import nh3
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "*": {"dir", "lang"},
}
EXTENSIONS = ["extra", "sane_lists"]


def image_source_allowed(src: str) -> bool:
    """A same-site path, or a URL whose origin (scheme://host[:port]) is in GUIDELINE_IMAGE_ORIGINS."""
    src = (src or "").strip()
    if src.startswith("/") and not src.startswith("//") and "\\" not in src:
        return True
    parts = urlsplit(src)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin in {o.rstrip("/").lower() for o in getattr(settings, "GUIDELINE_IMAGE_ORIGINS", [])}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if image_source_allowed(value) else None
    return value


def render_markdown(text: str) -> SafeString:
    """Markdown → sanitised HTML: scripts, event handlers, ``javascript:`` links and styles are dropped."""
    html = markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute_filter,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
