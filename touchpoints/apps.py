from django.apps import AppConfig


class TouchpointsConfig(AppConfig):
    name = "touchpoints"
