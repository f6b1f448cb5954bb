"""Every write of the lenders app: plain, keyword-only functions named ``<noun>_<verb>``."""
