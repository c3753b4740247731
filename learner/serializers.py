from rest_framework import serializers

from annotation.models import Project
from evaluators.models import Language
from learner.models import Backend, ModelVersion, TrainingRun


class ModelVersionSerializer(serializers.ModelSerializer):
    language = serializers.CharField(source="language.tag")
    project = serializers.CharField(source="project.slug")

    class Meta:
        model = ModelVersion
        fields = ["id", "project", "language", "backend", "backbone", "status", "status_reason", "macro_f1",
                  "metrics", "adapter_path", "adapter_bytes", "n_labels", "parent", "created_at"]


class TrainingRunSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", queryset=Project.objects.all())
    languages = serializers.SlugRelatedField(many=True, slug_field="id", queryset=Language.objects.all(),
                                             required=False)
    backend = serializers.ChoiceField(choices=Backend.choices, default=Backend.NGRAM)

    class Meta:
        model = TrainingRun
        fields = ["id", "project", "languages", "backend", "status", "progress", "message", "trigger",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = ["status", "progress", "message", "trigger", "created_at", "started_at", "finished_at"]
