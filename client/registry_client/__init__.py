"""The lender-side program of the registry. It holds the one Python implementation of
identity canonicalisation and hashing (``registry_client.hashing``), which the server imports."""
