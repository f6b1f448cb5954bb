// Hashes a list of numbers with static/registry/hashing.js, for the Python test that compares
// it with registry_client.hashing (tests/registry/test_portal_member_js_hashing.py).
// stdin: {"key_b64": …, "key_id": …, "today": "YYYY-MM-DD", "items": [[id_type, raw], …]}
// stdout: [{"canonical": …, "subject_hash": …} or {"rule": …, "message": …}, …]
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const hashing = require("../../static/registry/hashing.js");

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) {
  input += chunk;
}
const request = JSON.parse(input);
const hasher = await hashing.hasherFromKey({ key_id: request.key_id, key_b64: request.key_b64 });
const results = [];
for (const [idType, raw] of request.items) {
  try {
    const hashed = await hasher.hash(idType, raw, { today: request.today });
    results.push({ canonical: hashed.canonical, subject_hash: hashed.subjectHash });
  } catch (error) {
    if (!(error instanceof hashing.InvalidIdentifier)) {
      throw error;
    }
    results.push({ rule: error.rule, message: error.message });
  }
}
process.stdout.write(JSON.stringify(results));
