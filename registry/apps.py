from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        from registry.sql.functions import register_sqlite_functions

        register_sqlite_functions(connection.connection)


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry: entries, consensus, lookups, uploads, disputes"

    def ready(self) -> None:
        from lenders import hooks
        from registry.services import consensus_hooks
        from registry.views import (  # noqa: F401 (register navigation entries)
            dashboard_sections,
            member_nav,
            operator_nav,
        )

        connection_created.connect(_sqlite_functions, dispatch_uid="registry_sqlite_functions")
        hooks.member_counting_changed.append(consensus_hooks.recompute_member_subjects)
        hooks.region_policy_changed.append(consensus_hooks.region_policy_changed)
