"""The "reviewers" and "pool admins" groups with their permissions (roles are groups, not booleans)."""
from django.db import migrations

ROLES = {
    "reviewers": [
        "annotation.view_project", "annotation.view_item", "annotation.view_annotation",
        "annotation.view_approvedlabel", "annotation.add_approvedlabel", "annotation.change_approvedlabel",
        "evaluators.view_pool", "evaluators.view_poolmembership", "evaluators.view_guideline",
        "evaluators.view_guidelineversion", "evaluators.view_calibrationattempt",
    ],
    "pool admins": [
        "evaluators.manage_pool", "evaluators.view_pool", "evaluators.change_pool",
        "evaluators.view_poolmembership", "evaluators.add_poolmembership", "evaluators.change_poolmembership",
        "evaluators.view_membershipevent",
        "evaluators.view_evaluatorprofile", "evaluators.view_evaluatorlanguage", "evaluators.view_language",
        "evaluators.view_guideline", "evaluators.add_guideline", "evaluators.change_guideline",
        "evaluators.view_guidelineversion", "evaluators.add_guidelineversion", "evaluators.change_guidelineversion",
        "evaluators.view_guidelineaddendum", "evaluators.add_guidelineaddendum",
        "evaluators.change_guidelineaddendum", "evaluators.view_guidelineacknowledgement",
        "evaluators.view_calibrationround", "evaluators.add_calibrationround", "evaluators.change_calibrationround",
        "evaluators.view_calibrationitem", "evaluators.add_calibrationitem", "evaluators.change_calibrationitem",
        "evaluators.view_calibrationattempt", "evaluators.view_calibrationanswer",
        "evaluators.view_controlanswer", "evaluators.view_goldexposure",
        "evaluators.view_notification", "evaluators.change_notification",
    ],
}


def create_roles(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure the ones we grant exist now.
    for label in ("evaluators", "annotation"):
        app_config = global_apps.get_app_config(label)
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluators", "0002_calibration_and_quality_control"),
        ("annotation", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
