import pytest
from django.core.exceptions import ValidationError

from evaluators.languages import LanguageCodeError, parse_tag, validate_language
from evaluators.models import EvaluatorProfile, Language
from evaluators.services import language_from_tag, language_get_or_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("script", ["Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm"])
def test_right_to_left_scripts(script):
    language = language_get_or_create(code="urd" if script == "Arab" else "heb", script=script)
    assert language.direction == "rtl"


def test_left_to_right_and_name_from_code_list():
    language = language_from_tag("hau_Latn")
    assert (language.direction, language.name, language.tag) == ("ltr", "Hausa", "hau_Latn")


@pytest.mark.parametrize(
    ("code", "script", "message"),
    [("xxq", "Latn", "unknown ISO 639-3 language code 'xxq'"), ("ha", "Latn", "unknown ISO 639-3"),
     ("hau", "Latx", "unknown ISO 15924 script code 'Latx'"), ("hau", "latn", "unknown ISO 15924")],
)
def test_unknown_codes_are_clear_errors(code, script, message):
    with pytest.raises(LanguageCodeError, match=message):
        validate_language(code, script)
    assert not Language.objects.exists()


def test_malformed_tag_says_the_expected_form():
    with pytest.raises(LanguageCodeError, match="expected <ISO 639-3>_<ISO 15924>"):
        parse_tag("hausa")


def test_model_clean_rejects_unknown_code_and_fills_name():
    with pytest.raises(ValidationError) as excinfo:
        Language(code="qqq", script="Latn").full_clean()
    assert "unknown ISO 639-3 language code 'qqq'" in str(excinfo.value)
    language = Language(code="yor", script="Latn")
    language.full_clean()
    assert language.name == "Yoruba"


def test_profile_timezone_is_validated():
    from tests.factories import EvaluatorProfileFactory

    profile = EvaluatorProfileFactory.build(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone"):
        profile.clean()
    EvaluatorProfile(timezone="Africa/Lagos").clean()


@pytest.mark.parametrize(("code", "script", "region", "tag"), [
    ("urd", "Arab", "", "ur"), ("amh", "Ethi", "", "am"), ("hau", "Latn", "", "ha"), ("quy", "Latn", "", "qu"),
    ("wol", "Latn", "", "wo"), ("yor", "Latn", "", "yo"), ("swh", "Latn", "", "sw"), ("eng", "Latn", "", "en"),
    # a script that is not the language's usual one stays in the tag
    ("uzb", "Cyrl", "", "uz-Cyrl"), ("hau", "Arab", "", "ha-Arab"), ("pan", "Arab", "", "pa-Arab"),
])
def test_bcp47_tag_for_html_lang(code, script, region, tag):
    from evaluators.languages import bcp47

    assert bcp47(code, script, region) == tag
    assert Language(code=code, script=script, region=region).bcp47 == tag


def test_bcp47_of_a_code_no_registry_knows_keeps_the_code_and_a_region_stays():
    from evaluators.languages import bcp47

    assert bcp47("zzz", "Arab") == "zzz-Arab"
    assert bcp47("hau", "Latn", "NG") == "ha-NG"
    assert bcp47("hau", "Latn", "Kano dialect") == "ha"
