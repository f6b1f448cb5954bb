/* Subject hashing in the browser (spec: hashing.md).

   A line-by-line mirror of client/registry_client/hashing.py, the project's one Python
   implementation: the same canonical forms, the same checks in the same order, the same rule
   codes (empty, id_type, length, format, birth_date, checksum) and the same English messages.
   tests/js/hashing.test.mjs and tests/registry/test_portal_member_js_hashing.py hold the two
   to the shared test vectors and to each other.

   Usable as a classic <script> (it defines the global RegistryHashing) and from Node 20
   (require() it; globalThis.crypto.subtle provides HMAC-SHA256 there too). WebCrypto exists
   in browsers only on secure pages (HTTPS or localhost): hasherAvailable() says so. */
(function (root, factory) {
  "use strict";
  var api = factory(root);
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  }
  root.RegistryHashing = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function (root) {
  "use strict";

  var ID_TYPES = ["RIC", "USCC", "MOBILE"];
  var ALGORITHM = "HMAC-SHA256";
  var KEY_BYTES = 32;

  // Exactly the characters Python's re matches with \s in a str pattern (str.isspace()),
  // plus "-": JavaScript's own \s differs (it has U+FEFF, lacks U+001C-U+001F and U+0085).
  var SEPARATORS = /[\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000-]+/g;
  var MOBILE = /^1[3-9][0-9]{9}$/;
  var RIC_BODY = /^[0-9]{17}[0-9X]$/;
  // Python's str.isdigit() for the 15-digit legacy form: any decimal digit (U+0660 too).
  var UNICODE_DECIMAL = /^\p{Nd}$/u;
  var ASCII_DIGITS = /^[0-9]+$/;
  // python-stdnum's stdnum/cn/uscc.py: the 31 characters of GB 32100, and the weights.
  var USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

  /** A raw identity number that does not satisfy the rules of its type (Python: InvalidIdentifier). */
  function InvalidIdentifier(rule, message, details) {
    var error = new Error(message);
    Object.setPrototypeOf(error, InvalidIdentifier.prototype);
    error.name = "InvalidIdentifier";
    error.rule = rule;
    error.details = details || {};
    return error;
  }
  InvalidIdentifier.prototype = Object.create(Error.prototype, {
    constructor: { value: InvalidIdentifier, writable: true, configurable: true },
  });

  // Python counts code points, not UTF-16 units.
  function codePoints(text) {
    return Array.from(text);
  }

  function cleaned(raw) {
    return String(raw).normalize("NFKC").replace(SEPARATORS, "").toUpperCase();
  }

  /** GB 11643 check digit of a resident ID (stdnum cn.ric.calc_check_digit of body + any digit). */
  function ricCheckDigit(body17) {
    // (1 - 2 * int(body, 13)) % 11, with the base-13 value reduced modulo 11 as it is read.
    var value = 0;
    for (var i = 0; i < body17.length; i++) {
      value = (value * 13 + (body17.charCodeAt(i) - 48)) % 11;
    }
    var checksum = (((1 - 2 * value) % 11) + 11) % 11;
    return checksum === 10 ? "X" : String(checksum);
  }

  /** GB 32100 check character of a unified social credit code (stdnum cn.uscc.calc_check_digit). */
  function usccCheckCharacter(first17) {
    var total = 0;
    for (var i = 0; i < 17; i++) {
      total += USCC_ALPHABET.indexOf(first17.charAt(i)) * USCC_WEIGHTS[i];
    }
    return USCC_ALPHABET.charAt((((31 - total) % 31) + 31) % 31);
  }

  function isLeap(year) {
    return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  }

  function daysInMonth(year, month) {
    return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  }

  // Today as [year, month, day]: a "YYYY-MM-DD" string, a Date (its local day) or now.
  function dayParts(today) {
    if (typeof today === "string") {
      var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(today);
      if (!parts) { throw new TypeError("today must be written YYYY-MM-DD"); }
      return [Number(parts[1]), Number(parts[2]), Number(parts[3])];
    }
    var date = today instanceof Date ? today : new Date();
    return [date.getFullYear(), date.getMonth() + 1, date.getDate()];
  }

  function compareDays(a, b) {
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  }

  function canonicalRic(number, today) {
    var chars = codePoints(number);
    if (chars.length === 15 && chars.every(function (c) { return UNICODE_DECIMAL.test(c); })) {
      var body = chars.slice(0, 6).join("") + "19" + chars.slice(6).join("");
      // Python appends a check digit here even to non-ASCII digits; such a body then fails
      // the format rule below whatever its last character, so any character will do.
      number = body + (ASCII_DIGITS.test(body) ? ricCheckDigit(body) : "0");
      chars = codePoints(number);
    }
    if (chars.length !== 18) {
      throw InvalidIdentifier("length", "a resident ID has 18 characters (or 15 digits), not " + chars.length, {
        length: chars.length,
      });
    }
    if (!RIC_BODY.test(number)) {
      throw InvalidIdentifier("format", "a resident ID is 17 digits followed by a digit or X");
    }
    var birth = [Number(number.slice(6, 10)), Number(number.slice(10, 12)), Number(number.slice(12, 14))];
    if (birth[0] < 1 || birth[1] < 1 || birth[1] > 12 || birth[2] < 1 || birth[2] > daysInMonth(birth[0], birth[1])) {
      throw InvalidIdentifier("birth_date", "characters 7 to 14 of this resident ID are not a real date");
    }
    if (compareDays(birth, dayParts(today)) > 0) {
      throw InvalidIdentifier("birth_date", "the birth date of this resident ID is in the future", { future: true });
    }
    if (number.charAt(17) !== ricCheckDigit(number.slice(0, 17))) {
      throw InvalidIdentifier("checksum", "the check digit of this resident ID is wrong");
    }
    return number;
  }

  function canonicalUscc(number) {
    var length = codePoints(number).length;
    if (length !== 18) {
      throw InvalidIdentifier("length", "a unified social credit code has 18 characters, not " + length, {
        length: length,
      });
    }
    // stdnum's validate: 8 digits, then characters of the alphabet, then the check character.
    // (Its compact() also drops Unicode dashes, which only turns a "format" failure into a
    // shorter "format" failure: every refusal but the check character is "format".)
    var valid =
      ASCII_DIGITS.test(number.slice(0, 8)) &&
      number
        .slice(8)
        .split("")
        .every(function (c) { return USCC_ALPHABET.indexOf(c) >= 0; });
    if (!valid) {
      throw InvalidIdentifier(
        "format",
        "this is not a valid unified social credit code (characters 0-9, A-H, J-N, P, Q, R, T, U, W, X, Y)"
      );
    }
    if (number.charAt(17) !== usccCheckCharacter(number.slice(0, 17))) {
      throw InvalidIdentifier("checksum", "the check character of this unified social credit code is wrong");
    }
    return number;
  }

  function canonicalMobile(number) {
    var prefixes = ["+86", "0086"];
    for (var i = 0; i < prefixes.length; i++) {
      if (number.indexOf(prefixes[i]) === 0) {
        number = number.slice(prefixes[i].length);
        break;
      }
    }
    if (!MOBILE.test(number)) {
      throw InvalidIdentifier("format", "a mobile number is 11 digits starting with 13 to 19 (+86 or 0086 allowed)");
    }
    return number;
  }

  /** The canonical form of raw for idType, or throws InvalidIdentifier (options.today: "YYYY-MM-DD" or Date). */
  function canonicalise(idType, raw, options) {
    if (ID_TYPES.indexOf(idType) < 0) {
      throw InvalidIdentifier("id_type", "unknown id_type '" + idType + "'; use one of " + ID_TYPES.join(", "));
    }
    var number = cleaned(raw == null ? "" : raw);
    if (!number) {
      throw InvalidIdentifier("empty", "the identity number is empty");
    }
    if (idType === "RIC") {
      return canonicalRic(number, options && options.today);
    }
    if (idType === "USCC") {
      return canonicalUscc(number);
    }
    return canonicalMobile(number);
  }

  function subtle() {
    var crypto = root.crypto;
    return crypto && crypto.subtle ? crypto.subtle : null;
  }

  /** Whether this page can hash: WebCrypto (secure pages only) and Unicode normalisation. */
  function hasherAvailable() {
    return Boolean(subtle()) && typeof String.prototype.normalize === "function";
  }

  function keyFromBase64(keyB64) {
    var binary = root.atob(String(keyB64));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function toHex(buffer) {
    var bytes = new Uint8Array(buffer);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return hex;
  }

  function asciiBytes(text) {
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code > 127) { throw new TypeError("the hashed message must be ASCII"); }
      bytes[i] = code;
    }
    return bytes;
  }

  /** A non-extractable WebCrypto HMAC-SHA256 key from the region key's 32 raw bytes. */
  function importKey(keyBytes) {
    if (keyBytes.length !== KEY_BYTES) {
      return Promise.reject(new RangeError("a region hash key is " + KEY_BYTES + " bytes, not " + keyBytes.length));
    }
    var api = subtle();
    if (!api) {
      return Promise.reject(new Error("WebCrypto is not available on this page (it needs HTTPS)"));
    }
    return api.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }

  /** lowercase_hex(HMAC-SHA256(key, ASCII(idType + ":" + canonical))) */
  function subjectHash(cryptoKey, idType, canonical) {
    return subtle()
      .sign("HMAC", cryptoKey, asciiBytes(idType + ":" + canonical))
      .then(toHex);
  }

  /** Hashes many numbers under one key (Python: SubjectHasher). */
  function SubjectHasher(cryptoKey, keyId) {
    this.keyId = keyId;
    this.cryptoKey = cryptoKey;
  }
  SubjectHasher.prototype.hashCanonical = function (idType, canonical) {
    return subjectHash(this.cryptoKey, idType, canonical);
  };
  /** Resolves to {idType, canonical, subjectHash}; rejects with InvalidIdentifier. */
  SubjectHasher.prototype.hash = function (idType, raw, options) {
    var canonical;
    try {
      canonical = canonicalise(idType, raw, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.hashCanonical(idType, canonical).then(function (hex) {
      return { idType: idType, canonical: canonical, subjectHash: hex };
    });
  };

  /** A SubjectHasher from the API's answer {key_id, algorithm, key_b64} (GET region/hash-key). */
  function hasherFromKey(key) {
    if (key.algorithm && key.algorithm !== ALGORITHM) {
      return Promise.reject(new Error("unsupported hash algorithm " + key.algorithm));
    }
    var bytes;
    try {
      bytes = keyFromBase64(key.key_b64);
    } catch (error) {
      return Promise.reject(error);
    }
    return importKey(bytes).then(function (cryptoKey) {
      bytes.fill(0);
      return new SubjectHasher(cryptoKey, key.key_id);
    });
  }

  return {
    ID_TYPES: ID_TYPES,
    ALGORITHM: ALGORITHM,
    KEY_BYTES: KEY_BYTES,
    InvalidIdentifier: InvalidIdentifier,
    canonicalise: canonicalise,
    ricCheckDigit: ricCheckDigit,
    usccCheckCharacter: usccCheckCharacter,
    hasherAvailable: hasherAvailable,
    keyFromBase64: keyFromBase64,
    importKey: importKey,
    subjectHash: subjectHash,
    SubjectHasher: SubjectHasher,
    hasherFromKey: hasherFromKey,
  };
});
