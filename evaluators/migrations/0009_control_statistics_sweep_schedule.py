"""Schedule ``evaluators.control_statistics_sweep`` every minute with django-celery-beat (editable in the
admin): it counts the control answers whose background job was lost (a broker outage, a dead worker)."""
from django.db import migrations

TASK_NAME = "evaluators: control statistics left by a lost job"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "evaluators.control_statistics_sweep", "interval": every, "enabled": True,
                  "description": "Count control answers (gold exposure, accuracy, suspension) a lost job left."},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluators", "0008_controlanswer_scored"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
