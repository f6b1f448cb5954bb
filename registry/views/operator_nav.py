"""Navigation entries of these registry pages (imported by ``registry.apps``)."""

from django.utils.translation import gettext_lazy as _

from lenders.permissions import Perm
from lenders.views.navigation import SLOTS, NavItem, nav_register

nav_register(
    NavItem(
        slot="region",
        label=_("Region settings"),
        url_name="region-settings",
        perms=(Perm.REGION_POLICY_WRITE, Perm.STATISTICS_READ),
    )
)
nav_register(
    NavItem(slot="audit", label=_("Audit"), url_name="audit-list", perms=(Perm.AUDIT_READ_ALL, Perm.AUDIT_READ_OWN))
)
# Subject history has no slot of its own yet: the audit page links to it. Once
# ``lenders.views.navigation.SLOTS`` has a "subjects" slot, it gets its menu entry too.
if "subjects" in SLOTS:
    nav_register(
        NavItem(
            slot="subjects",
            label=_("Subject history"),
            url_name="subject-search",
            perms=(Perm.SUBJECT_HISTORY_READ,),
        )
    )
