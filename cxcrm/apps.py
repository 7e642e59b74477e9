from django.apps import AppConfig


class CxcrmConfig(AppConfig):
    name = "cxcrm"
    verbose_name = "System"
