"""The hand-built bodies of next and submit are exactly what the declared serializer fields give.

``AssignmentSerializer`` and ``AnnotationSerializer`` build their dicts by hand for speed; the declared
fields still define the schema. These tests render the same objects both ways (the hand-built one and
DRF's generic ``Serializer.to_representation`` over the declared fields), so a field added to one and not
the other, or a format that drifts, fails here rather than in a client."""
from __future__ import annotations

import json
import zoneinfo

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from annotation.selectors import annotation_editable
from annotation.serializers import AnnotationSerializer, AssignmentSerializer
from annotation.services import assignment_next, assignment_skip
from tests.annotation.conftest import label_next, make_setup

pytestmark = pytest.mark.django_db


def _both(serializer) -> tuple[dict, dict]:
    fast = serializer.data
    generic = serializers.Serializer.to_representation(serializer, serializer.instance)
    # Compared as a client sees them: after the JSON renderer (enums and UUIDs become strings).
    as_json = lambda value: json.loads(json.dumps(value, cls=JSONEncoder))  # noqa: E731
    return as_json(fast), as_json(generic)


@pytest.mark.parametrize("tag", ["hau_Latn", "urd_Arab"])
def test_next_body_matches_the_declared_fields(tag):
    setup = make_setup(overlap=1, evaluators=1, items=2, tag=tag)
    lease = assignment_next(evaluator=setup.evaluators[0])
    fast, generic = _both(AssignmentSerializer(lease))
    assert fast == generic
    assert set(fast) == set(AssignmentSerializer.Meta.fields)
    assert fast["item"]["direction"] == ("rtl" if tag == "urd_Arab" else "ltr")
    assert "is_control" not in json.dumps(fast) and "reference" not in json.dumps(fast)


def test_skipped_lease_and_another_time_zone_match_too():
    setup = make_setup(overlap=1, evaluators=1, items=2)
    lease = assignment_next(evaluator=setup.evaluators[0])
    skipped = assignment_skip(evaluator=setup.evaluators[0], assignment_id=lease.pk, reason="not Hausa")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Karachi")):
        fast, generic = _both(AssignmentSerializer(skipped))
    assert fast == generic
    assert fast["status"] == "skipped" and fast["skip_reason"] == "not Hausa"
    assert fast["leased_at"].endswith("+05:00")


def test_submit_body_matches_the_declared_fields_with_and_without_known_editability():
    setup = make_setup(overlap=2, evaluators=1, items=1)
    annotation = label_next(setup.evaluators[0], setup.project.labels.first().value)
    fast, generic = _both(AnnotationSerializer(annotation))
    assert fast == generic and fast["editable"] is annotation_editable(annotation)
    fast, generic = _both(AnnotationSerializer(annotation, context={"editable": {annotation.pk: False}}))
    assert fast == generic and fast["editable"] is False
    listed = AnnotationSerializer([annotation], many=True).data
    assert json.loads(json.dumps(listed, cls=JSONEncoder)) == [_both(AnnotationSerializer(annotation))[0]]
