"""The lender-side program of the registry. It holds the one Python implementation of
identity canonicalisation and hashing (``registry_client.hashing``), which the server imports."""

__version__ = "1.0.0"
