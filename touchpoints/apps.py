from django.apps import AppConfig


class TouchpointsConfig(AppConfig):
    name = "touchpoints"

    def ready(self) -> None:
        from touchpoints import privacy  # noqa: F401 - connects the privacy receivers
