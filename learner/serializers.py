import re

from rest_framework import serializers

from annotation.models import Project
from evaluators.models import Language
from learner.models import Backend, ModelVersion, SamplingRun, TrainingRun

slug_re = re.compile(r"[-a-zA-Z0-9_]{1,50}")


class ProjectSlugField(serializers.SlugRelatedField):
    """A project by slug. A value no slug can be (a NUL, a surrogate, a non-string) is "does not exist"
    before it reaches the database, where PostgreSQL would refuse the query with a 500."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Project.objects.all())
        super().__init__(slug_field="slug", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not slug_re.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:60].encode(
                "utf-8", "backslashreplace").decode())
        return super().to_internal_value(data)


class ModelVersionSerializer(serializers.ModelSerializer):
    language = serializers.CharField(source="language.tag")
    project = serializers.CharField(source="project.slug")

    class Meta:
        model = ModelVersion
        fields = ["id", "project", "language", "backend", "backbone", "status", "status_reason", "macro_f1",
                  "metrics", "adapter_path", "adapter_bytes", "n_labels", "parent", "created_at"]


class TrainingRunSerializer(serializers.ModelSerializer):
    project = ProjectSlugField()
    languages = serializers.SlugRelatedField(many=True, slug_field="id", queryset=Language.objects.all(),
                                             required=False)
    backend = serializers.ChoiceField(choices=Backend.choices, default=Backend.NGRAM)
    candidates = serializers.ListField(
        child=serializers.ChoiceField(choices=Backend.choices), required=False, default=list,
        source="config.candidates", help_text="two or more backends: a per-language competition",
    )

    class Meta:
        model = TrainingRun
        fields = ["id", "project", "languages", "backend", "candidates", "status", "progress", "message", "trigger",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = ["status", "progress", "message", "trigger", "created_at", "started_at", "finished_at"]


class SamplingRunSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")

    class Meta:
        model = SamplingRun
        fields = ["id", "project", "strategy", "backend", "budget", "allocation_mode", "allocation", "status",
                  "progress", "message", "created_at", "finished_at"]


class SampleNowSerializer(serializers.Serializer):
    """Ask for a sampling round now; validated here so a bad strategy is a 400, not a failed task."""

    project = ProjectSlugField()
    budget = serializers.IntegerField(min_value=1, max_value=100_000)
    strategy = serializers.CharField(default="entropy")
    allocation = serializers.ChoiceField(choices=["parity", "uniform"], default="parity")

    def validate_strategy(self, value: str) -> str:
        from learner.services import SAMPLING_STRATEGIES

        if value not in SAMPLING_STRATEGIES:
            choices = ", ".join(SAMPLING_STRATEGIES)
            raise serializers.ValidationError(f"unknown strategy {value!r}: choose from {choices}")
        return value


class SuggestionsSettingSerializer(serializers.Serializer):
    project = serializers.CharField(read_only=True)
    show = serializers.BooleanField(help_text="true: show the champion's suggestions; false: hide them")
    changed = serializers.BooleanField(read_only=True, help_text="false: the project already had this setting")
