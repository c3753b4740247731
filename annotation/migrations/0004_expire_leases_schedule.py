"""Schedule ``annotation.expire_leases`` every five minutes with django-celery-beat (editable in the admin)."""
from django.db import migrations

TASK_NAME = "annotation: expire assignment leases"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "annotation.expire_leases", "interval": every, "enabled": True,
                  "description": "Return expired assignment leases to the queue."},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0003_approvedlabelhistory_itemflag_report_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
