from django.apps import AppConfig


class LendersConfig(AppConfig):
    name = "lenders"
    verbose_name = "Lenders: regions, members, staff and API keys"
