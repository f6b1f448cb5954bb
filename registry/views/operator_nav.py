"""Navigation entries of these registry pages (imported by ``registry.apps``)."""
