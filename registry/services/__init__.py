"""Every write of the registry: plain, keyword-only functions named ``<noun>_<verb>``."""
