"""Encryption at rest of the regions' hash keys.

The secret comes from the environment (``KEY_ENCRYPTION_SECRET``), never from the database,
so a database dump alone does not reveal any hash key. Several comma-separated secrets may
be given: the first encrypts, all decrypt, which lets the secret itself be rotated.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class KeyDecryptionError(Exception):
    """The stored key cannot be decrypted with any configured secret."""


def _fernet_for(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"registry hash key encryption").derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _cipher() -> MultiFernet:
    secrets = [part.strip() for part in settings.KEY_ENCRYPTION_SECRET.split(",") if part.strip()]
    return MultiFernet([_fernet_for(secret) for secret in secrets])


def encrypt_key(raw: bytes) -> str:
    return _cipher().encrypt(raw).decode("ascii")


def decrypt_key(token: str) -> bytes:
    try:
        return _cipher().decrypt(token.encode("ascii"))
    except InvalidToken:
        raise KeyDecryptionError(
            "a hash key cannot be decrypted: KEY_ENCRYPTION_SECRET does not match the one it was stored with"
        ) from None
