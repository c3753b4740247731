"""The beat schedule for ``learner.recover_stalled_runs``: hands runs whose worker died to another one."""
from django.conf import settings
from django.db import migrations

TASK_NAME = "learner: take over training runs whose worker stopped"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(
        every=int(getattr(settings, "LEARNER_RECOVERY_INTERVAL_SECONDS", 30)), period="seconds")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "learner.recover_stalled_runs", "interval": every, "enabled": True,
            "description": "Re-dispatches RUNNING training runs whose heartbeat is older than "
                           "LEARNER_TAKEOVER_SECONDS (their worker died).",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("learner", "0004_trainingrun_heartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
