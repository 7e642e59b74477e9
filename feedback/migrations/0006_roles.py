"""The three staff roles as groups (data migration).

Agent: works tickets (and their messages), reads customers and answers.
Manager: also edits surveys, touchpoints and root causes, and sees the dashboard.
Admin: every permission (and must use MFA, see cxcrm.accounts).
"""

from django.db import migrations

VIEW = "view"

AGENT = {
    "feedback": {
        "ticket": ["view", "change"],
        "ticketmessage": ["view", "add"],
        "ticketevent": ["view"],
        "response": ["view"],
        "invitation": ["view"],
        "survey": ["view"],
        "rootcause": ["view"],
        "outboundemail": ["view"],
        "inboundemail": ["view"],
    },
    "customers": {"customer": ["view"]},
    "touchpoints": {"touchpoint": ["view"], "interaction": ["view"]},
}
MANAGER_EXTRA = {
    "feedback": {
        "survey": ["add", "change", "delete"],
        "rootcause": ["add", "change", "delete"],
        "response": ["view_dashboard"],
        "invitation": ["change"],
    },
    "touchpoints": {"touchpoint": ["add", "change", "delete"]},
}


def _codenames(spec):
    for app_label, models in spec.items():
        for model, actions in models.items():
            for action in actions:
                codename = action if action.startswith("view_dashboard") else f"{action}_{model}"
                yield app_label, codename


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(spec):
        found = []
        for app_label, codename in _codenames(spec):
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return found

    agent, _ = Group.objects.get_or_create(name="Agent")
    agent.permissions.set(permissions(AGENT))
    manager, _ = Group.objects.get_or_create(name="Manager")
    manager.permissions.set(permissions(AGENT) + permissions(MANAGER_EXTRA))
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.set(Permission.objects.all())


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Agent", "Manager", "Admin"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_dashboard_permission"),
        ("customers", "0002_audit_trail"),
        ("touchpoints", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
