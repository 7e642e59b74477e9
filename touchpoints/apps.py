from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TouchpointsConfig(AppConfig):
    name = "touchpoints"
    verbose_name = _("Touchpoints")

    def ready(self) -> None:
        from touchpoints import privacy  # noqa: F401 - connects the privacy receivers
