// The portal's browser hashing (static/registry/hashing.js) against the shared test vectors
// (client/tests/hash-vectors.json, the same file the Python implementation is tested with).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const hashing = require("../../static/registry/hashing.js");
const vectors = JSON.parse(readFileSync(new URL("../../client/tests/hash-vectors.json", import.meta.url), "utf8"));
const key = { key_id: vectors.key_id, algorithm: vectors.algorithm, key_b64: vectors.key_b64 };

// The vectors' notes name the refused rule in words ("birth date", "checksum (…)").
const ruleOfNote = (note) => note.split(" (")[0].trim().replace(/ /g, "_");

function refusal(idType, raw, options) {
  try {
    hashing.canonicalise(idType, raw, options);
  } catch (error) {
    assert.ok(error instanceof hashing.InvalidIdentifier, `not an InvalidIdentifier: ${error}`);
    return error;
  }
  assert.fail(`${idType} ${JSON.stringify(raw)} was accepted`);
}

describe("hash-vectors.json", () => {
  test("the file has valid and invalid vectors under HMAC-SHA256", () => {
    assert.equal(vectors.algorithm, hashing.ALGORITHM);
    assert.ok(vectors.valid.length >= 10);
    assert.ok(vectors.invalid.length >= 5);
  });

  for (const vector of vectors.valid) {
    test(`valid ${vector.id_type} ${JSON.stringify(vector.input)} hashes to its subject_hash`, async () => {
      const hasher = await hashing.hasherFromKey(key);
      assert.equal(hasher.keyId, vectors.key_id);
      const result = await hasher.hash(vector.id_type, vector.input);
      assert.equal(result.canonical, vector.canonical);
      assert.equal(result.subjectHash, vector.subject_hash);
      assert.equal(await hasher.hashCanonical(vector.id_type, vector.canonical), vector.subject_hash);
    });
  }

  for (const vector of vectors.invalid) {
    test(`invalid ${vector.id_type} ${JSON.stringify(vector.input)} is refused (${vector.note})`, async () => {
      assert.equal(refusal(vector.id_type, vector.input).rule, ruleOfNote(vector.note));
      const hasher = await hashing.hasherFromKey(key);
      await assert.rejects(hasher.hash(vector.id_type, vector.input), (error) => {
        assert.equal(error.rule, ruleOfNote(vector.note));
        return true;
      });
    });
  }
});

describe("canonicalisation rules", () => {
  test("a 15-digit legacy resident ID gains 19 and its GB 11643 check digit", () => {
    assert.equal(hashing.canonicalise("RIC", "110105491231002"), "11010519491231002X");
    assert.equal(hashing.ricCheckDigit("11010519491231002"), "X");
  });

  test("full-width characters, spaces and dashes are normalised away", () => {
    assert.equal(hashing.canonicalise("MOBILE", "＋８６ １３８－００１３－８０００"), "13800138000");
    assert.equal(hashing.canonicalise("RIC", "\u3000360426\u00a01991\u20030101-0071\t"), "360426199101010071");
  });

  test("only Python's white space is removed (U+0085 is, U+FEFF is not)", () => {
    assert.equal(hashing.canonicalise("MOBILE", "138\u00850013\u001c8000"), "13800138000");
    assert.equal(refusal("MOBILE", "138\ufeff00138000").rule, "format");
  });

  test("a birth date in the future or not in the calendar is refused as birth_date", () => {
    assert.equal(refusal("RIC", "110105202601010019", { today: "2025-12-31" }).rule, "birth_date");
    assert.equal(refusal("RIC", "110105190002290011").rule, "birth_date");
    assert.equal(refusal("RIC", "110105000001010011").rule, "birth_date");
    const leapDay = "11010520000229001";
    assert.equal(hashing.canonicalise("RIC", leapDay + hashing.ricCheckDigit(leapDay)), leapDay + hashing.ricCheckDigit(leapDay));
  });

  test("the birth date is checked before the check digit, the format before both", () => {
    assert.equal(refusal("RIC", "360426199113010071").rule, "birth_date");
    assert.equal(refusal("RIC", "36042619910101007A").rule, "format");
    assert.equal(refusal("RIC", "3604261991010100711").rule, "length");
  });

  test("a future birth date counts from the given day", () => {
    const body = "11010520300101001";
    const number = body + hashing.ricCheckDigit(body);
    assert.equal(refusal("RIC", number, { today: "2029-12-31" }).rule, "birth_date");
    assert.equal(hashing.canonicalise("RIC", number, { today: "2030-01-01" }), number);
  });

  test("a USCC uses the GB 32100 alphabet and check character", () => {
    assert.equal(hashing.usccCheckCharacter("91110000600037341"), "L");
    assert.equal(hashing.canonicalise("USCC", "914403007jh4bxkfln"), "914403007JH4BXKFLN");
    assert.equal(refusal("USCC", "91440300OJH4BXKFLN").rule, "format");
    assert.equal(refusal("USCC", "A1110000600037341L").rule, "format");
    assert.equal(refusal("USCC", "9111000060003734–L").rule, "format");
    assert.equal(refusal("USCC", "9111000060003734").rule, "length");
  });

  test("a mobile number loses +86 or 0086 only", () => {
    assert.equal(hashing.canonicalise("MOBILE", "+8613800138000"), "13800138000");
    assert.equal(hashing.canonicalise("MOBILE", "008613800138000"), "13800138000");
    assert.equal(refusal("MOBILE", "8613800138000").rule, "format");
    assert.equal(refusal("MOBILE", "12800138000").rule, "format");
  });

  test("an empty number and an unknown type are refused", () => {
    assert.equal(refusal("RIC", " - ").rule, "empty");
    assert.equal(refusal("PASSPORT", "E12345678").rule, "id_type");
  });

  test("the refusal says which rule failed, in Python's words", () => {
    const error = refusal("RIC", "3604261991010100");
    assert.equal(error.message, "a resident ID has 18 characters (or 15 digits), not 16");
    assert.equal(error.details.length, 16);
  });
});

describe("keys", () => {
  test("a key that is not 32 bytes is refused", async () => {
    await assert.rejects(hashing.hasherFromKey({ key_id: "short", key_b64: "AAEC" }), RangeError);
  });

  test("a key of another algorithm is refused", async () => {
    await assert.rejects(hashing.hasherFromKey({ ...key, algorithm: "HMAC-SHA1" }));
  });

  test("loading the file defines the browser global too", () => {
    assert.equal(globalThis.RegistryHashing, hashing);
    assert.equal(hashing.hasherAvailable(), true);
  });
});
