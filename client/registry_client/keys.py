"""The region's hash key: fetched from the API (``GET region/hash-key``, an audit event on the
registry) or read from a key file for offline hashing. The key is never printed or logged."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from registry_client.api import RegistryApi
from registry_client.errors import ClientError, UsageError
from registry_client.hashing import ALGORITHM, KEY_BYTES, SubjectHasher


def hasher_from_key_file(path: Path) -> SubjectHasher:
    """A key file is JSON ``{"key_id": "...", "key_b64": "..."}`` (what ``GET region/hash-key`` answers)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"The key file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"The key file {path} cannot be read as JSON ({type(exc).__name__}).") from None
    return _hasher(data, f"the key file {path}", UsageError)


def hasher_from_api(api: RegistryApi) -> SubjectHasher:
    return _hasher(api.get_json("region/hash-key"), "the registry's answer to region/hash-key", ClientError)


def _hasher(data: Any, source: str, error: type[ClientError]) -> SubjectHasher:
    if not isinstance(data, dict) or not data.get("key_id") or not data.get("key_b64"):
        raise error(f"{source[0].upper()}{source[1:]} does not hold a key_id and a key_b64.")
    algorithm = data.get("algorithm", ALGORITHM)
    if algorithm != ALGORITHM:
        raise error(f"{source[0].upper()}{source[1:]} is for {algorithm}; this client hashes with {ALGORITHM}.")
    try:
        key = base64.b64decode(str(data["key_b64"]), validate=True)
    except (binascii.Error, ValueError):
        raise error(f"The key_b64 of {source} is not base64.") from None
    if len(key) != KEY_BYTES:
        raise error(f"The key of {source} has {len(key)} bytes; a region hash key has {KEY_BYTES}.")
    return SubjectHasher(key, str(data["key_id"]))
