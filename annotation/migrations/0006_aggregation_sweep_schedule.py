"""Schedule ``annotation.aggregation_sweep`` every minute with django-celery-beat (editable in the admin).

Submissions hand aggregation to a background job; the sweep decides whatever a lost job left behind and
takes the agreement snapshots whose time window has passed."""
from django.db import migrations

TASK_NAME = "annotation: aggregation sweep and due agreement snapshots"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "annotation.aggregation_sweep", "interval": every, "enabled": True,
                  "description": "Aggregate items left with k labels and snapshot agreement when due."},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0005_quality_control_public_ids_discard_capacity"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
