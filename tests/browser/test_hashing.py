"""static/registry/hashing.js in the real browser (Chromium's WebCrypto, on a page of the
portal): every vector of hash-vectors.json, and 1,000 generated numbers hashed exactly as
registry_client.hashing (Python) hashes them."""

from __future__ import annotations

import base64
import datetime
import json
import random
from pathlib import Path

from registry_client.hashing import SubjectHasher
from tests.registry.test_portal_member_js_hashing import generated_valid, python_result

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "client" / "tests" / "hash-vectors.json").read_text())

# Runs in the page: each [id_type, raw] hashed (or refused) by RegistryHashing.
HASH_ALL = """
async ([keyB64, keyId, today, items]) => {
  const H = window.RegistryHashing;
  const hasher = await H.hasherFromKey({key_id: keyId, algorithm: "HMAC-SHA256", key_b64: keyB64});
  const results = [];
  for (const [idType, raw] of items) {
    try {
      const hashed = await hasher.hash(idType, raw, {today});
      results.push({canonical: hashed.canonical, subject_hash: hashed.subjectHash});
    } catch (error) {
      if (!(error instanceof H.InvalidIdentifier)) { throw error; }
      results.push({rule: error.rule, message: error.message});
    }
  }
  return results;
}
"""


def _hash_in_browser(visit, key: bytes, key_id: str, today: datetime.date, items):
    browser = visit()
    browser.goto("/accounts/login/")
    browser.page.add_script_tag(url="/static/registry/hashing.js")
    assert browser.page.evaluate("window.isSecureContext && window.RegistryHashing.hasherAvailable()")
    arguments = [base64.b64encode(key).decode("ascii"), key_id, today.isoformat(), [list(item) for item in items]]
    return browser.page.evaluate(HASH_ALL, arguments)


def test_every_hash_vector_passes_in_the_browser(db, visit):
    today = datetime.date.today()
    items = [(v["id_type"], v["input"]) for v in VECTORS["valid"] + VECTORS["invalid"]]
    results = _hash_in_browser(visit, base64.b64decode(VECTORS["key_b64"]), VECTORS["key_id"], today, items)
    for vector, result in zip(VECTORS["valid"], results, strict=False):
        assert result == {"canonical": vector["canonical"], "subject_hash": vector["subject_hash"]}, vector
    # The invalid vectors are refused for the rule their note names, and in Python's words.
    python = SubjectHasher(base64.b64decode(VECTORS["key_b64"]), VECTORS["key_id"])
    for vector, result in zip(VECTORS["invalid"], results[len(VECTORS["valid"]) :], strict=True):
        assert result["rule"].replace("_", " ") == vector["note"].split(" (")[0], vector
        assert result == python_result(python, vector["id_type"], vector["input"], today), vector


def test_1000_generated_numbers_hash_the_same_in_the_browser_and_in_python(db, visit):
    rng = random.Random(20261127)
    key = rng.randbytes(32)
    today = datetime.date.today()
    items = generated_valid(rng, today, 1000)
    expected = [python_result(SubjectHasher(key, "k"), id_type, raw, today) for id_type, raw in items]
    assert all("subject_hash" in result for result in expected)
    results = _hash_in_browser(visit, key, "k", today, items)
    assert len(results) == 1000
    for item, python, browser in zip(items, expected, results, strict=True):
        assert browser == python, item
