from rest_framework import serializers

from annotation.models import Annotation, Assignment, Item, Project


class ProjectSerializer(serializers.ModelSerializer):
    labels = serializers.SlugRelatedField(many=True, read_only=True, slug_field="value")
    languages = serializers.SlugRelatedField(many=True, read_only=True, slug_field="tag")

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "schema_type", "overlap", "labels", "languages"]


class ItemForEvaluatorSerializer(serializers.ModelSerializer):
    """What an evaluator sees of an item: never the reference label nor whether it is a control."""

    language = serializers.CharField(source="language.tag")
    direction = serializers.CharField(source="language.direction")

    class Meta:
        model = Item
        fields = ["id", "text", "language", "direction"]


class AssignmentSerializer(serializers.ModelSerializer):
    item = ItemForEvaluatorSerializer()
    project = serializers.CharField(source="item.project.slug")

    class Meta:
        model = Assignment
        fields = ["id", "project", "item", "status", "leased_at", "expires_at"]


class SubmitSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    idempotency_key = serializers.CharField(max_length=64)
    time_spent_ms = serializers.IntegerField(min_value=0, default=0)


class AnnotationSerializer(serializers.ModelSerializer):
    guideline_version = serializers.CharField(source="guideline_version.label")

    class Meta:
        model = Annotation
        fields = ["id", "assignment", "item", "label", "guideline_version", "time_spent_ms", "created_at"]
