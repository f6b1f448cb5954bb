"""Navigation entries of the member's registry pages (imported by ``registry.apps``)."""

from django.utils.translation import gettext_lazy as _

from lenders.permissions import Perm
from lenders.views.navigation import NavItem, nav_register
from registry.views import disputes_nav  # noqa: F401 (the dispute pages' menu entries and dashboard sections)

nav_register(NavItem(slot="lookups", label=_("Lookup"), url_name="lookup", perms=(Perm.LOOKUP,)))
nav_register(NavItem(slot="entries", label=_("Entries"), url_name="entry-list", perms=(Perm.ENTRY_READ,)))
nav_register(NavItem(slot="uploads", label=_("Uploads"), url_name="upload-list", perms=(Perm.UPLOAD_READ,)))
