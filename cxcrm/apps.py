from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CxcrmConfig(AppConfig):
    name = "cxcrm"
    verbose_name = _("System")

    def ready(self) -> None:
        # The ``any_of`` lookup (one array parameter instead of one placeholder per value).
        import cxcrm.lookups  # noqa: F401

        # Replace the stock user admin with one that invites staff by email.
        from cxcrm import staff_admin

        staff_admin.register()
        # django-celery-beat's periodic tasks, with a changelist that refuses impossible dates.
        from cxcrm import admin_lists

        admin_lists.register()
        # "Export selected rows as CSV" on every changelist.
        from cxcrm import csv_export

        csv_export.register()
        # The staff roles follow cxcrm.roles after every migrate: on the last app's signal,
        # when every app's permissions exist.
        from cxcrm.roles import roles_sync

        last_app = list(apps.get_app_configs())[-1]
        post_migrate.connect(roles_sync, sender=last_app, dispatch_uid="cxcrm.roles_sync")
