"""The dependency audit of ``make lint`` fails on a known vulnerability and only then."""

from __future__ import annotations

from tests.security.audit_dependencies import findings

REPORT = {
    "dependencies": [
        {"name": "django", "version": "4.2.0", "vulns": [{"id": "PYSEC-2023-100", "fix_versions": ["4.2.2"]}]},
        {"name": "celery", "version": "5.7.0", "vulns": []},
        {"name": "registry-client", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}


def test_a_vulnerable_pin_is_a_finding_with_its_fixed_version():
    vulnerable, skipped, audited = findings(REPORT)

    assert vulnerable == ["django==4.2.0: PYSEC-2023-100 (fixed in 4.2.2)"]
    assert skipped == ["registry-client==?"]
    assert audited == 2


def test_packages_the_service_does_not_know_are_not_findings():
    vulnerable, skipped, audited = findings({"dependencies": [REPORT["dependencies"][2]]})

    assert (vulnerable, len(skipped), audited) == ([], 1, 0)
