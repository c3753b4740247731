"""The script fonts are vendored, unchanged, licensed, and wired to the languages that need them."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
FONTS = ROOT / "static" / "vendor" / "fonts"
CSS = (ROOT / "static" / "parity" / "i18n.css").read_text(encoding="utf-8")


def test_vendored_fonts_match_the_checksums_in_their_readme():
    readme = (FONTS / "README.md").read_text(encoding="utf-8")
    listed = dict((path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+\.woff2)$", readme, re.M))
    files = sorted(str(p.relative_to(FONTS)) for p in FONTS.rglob("*.woff2"))
    assert files and sorted(listed) == files
    for path, digest in listed.items():
        assert hashlib.sha256((FONTS / path).read_bytes()).hexdigest() == digest, path
    for folder in {Path(path).parent for path in files}:
        assert "SIL Open Font License" in (FONTS / folder / "OFL.txt").read_text(encoding="utf-8")


def test_every_font_face_points_at_a_vendored_file_and_no_cdn():
    urls = re.findall(r'url\("([^"]+)"\)', CSS)
    assert len(urls) == 8
    for url in urls:
        assert (ROOT / "static" / "parity" / url).resolve().is_file(), url
    assert "http" not in CSS


@pytest.mark.parametrize(("selector", "family"), [
    (":lang(ur)", "Parity Noto Nastaliq Urdu"), (":lang(am)", "Parity Noto Sans Ethiopic"),
])
def test_urdu_is_set_in_nastaliq_and_amharic_in_ethiopic(selector, family):
    rule = re.search(re.escape(selector) + r"[^{]*\{([^}]*)\}", CSS)
    assert rule and re.search(r'font-family:\s*"' + family + '"', rule.group(1))


@pytest.mark.django_db
def test_every_page_loads_the_script_stylesheet(client):
    html = client.get(reverse("annotation:report_create")).content.decode()
    assert "parity/i18n.css" in html
