"""``make lint``'s dependency audit: ``pip-audit`` over the pinned requirement files, failing
only on a known vulnerability.

pip-audit asks a vulnerability service on the network. When that service cannot be reached, or
knows nothing about a package, the packages are reported as not audited and the run passes with
that said on stderr: an unreachable service is not a finding, and a flaky network must not block
``make test``. A vulnerability found always fails, with the fixed versions to pin.

    .venv/bin/python -m tests.security.audit_dependencies [requirements files…]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILES = ("requirements.txt", "requirements-dev.txt")


def findings(report: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """(vulnerabilities as lines, packages not audited, packages audited) of a pip-audit JSON report."""
    vulnerable: list[str] = []
    skipped: list[str] = []
    audited = 0
    for dependency in report.get("dependencies", []):
        name = f"{dependency.get('name')}=={dependency.get('version', '?')}"
        if "skip_reason" in dependency:
            skipped.append(name)
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            vulnerable.append(f"{name}: {vuln.get('id')} (fixed in {fixes})")
    return vulnerable, skipped, audited


def main(files: list[str]) -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        command = [str(pip_audit), "--progress-spinner", "off", "--format", "json", "--output", str(output)]
        for name in files:
            command += ["--requirement", str(ROOT / name)]
        process = subprocess.run(  # noqa: S603 - our own pip-audit, fixed arguments
            command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        if not output.exists() or not output.read_text(encoding="utf-8").strip():
            tail = (process.stderr or process.stdout).strip().splitlines()[-3:]
            print("pip-audit: the vulnerability service could not be asked; nothing was audited:", file=sys.stderr)
            print("  " + "\n  ".join(tail), file=sys.stderr)
            return 0
        report = json.loads(output.read_text(encoding="utf-8"))
    vulnerable, skipped, audited = findings(report)
    if skipped:
        print(
            f"pip-audit: {len(skipped)} packages could not be audited (the service does not know them or "
            f"could not be reached); {audited} were.",
            file=sys.stderr,
        )
    if vulnerable:
        print("pip-audit: known vulnerabilities; bump these pins:", file=sys.stderr)
        print("  " + "\n  ".join(vulnerable), file=sys.stderr)
        return 1
    print(f"pip-audit: no known vulnerabilities in {audited} audited packages.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(DEFAULT_FILES)))
