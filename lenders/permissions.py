"""Who may do what: every role and every API-key scope mapped to capabilities (``concepts.md``).

The portal and the API both ask ``Actor.can`` / ``Actor.require`` with these names; no
view keeps a rule of its own.
"""

from __future__ import annotations

from enum import StrEnum

from lenders.choices import OPERATOR_ROLES, Role, Scope


class Perm(StrEnum):
    LOOKUP = "lookup"
    HASH_KEY_READ = "hash_key.read"
    UPLOAD = "upload"
    UPLOAD_READ = "upload.read"
    UPLOAD_CONFIRM = "upload.confirm"
    ENTRY_READ = "entry.read"
    ENTRY_WRITE = "entry.write"
    DISPUTE_READ = "dispute.read"
    DISPUTE_WRITE = "dispute.write"
    STAFF_MANAGE = "staff.manage"
    API_KEY_MANAGE = "api_key.manage"
    AUDIT_READ_OWN = "audit.read_own"
    AUDIT_READ_ALL = "audit.read_all"
    MEMBER_READ = "member.read"
    MEMBER_WRITE = "member.write"
    REGION_POLICY_WRITE = "region.policy_write"
    HASH_KEY_ROTATE = "hash_key.rotate"
    DISPUTE_READ_ALL = "dispute.read_all"
    DISPUTE_ARBITRATE = "dispute.arbitrate"
    SUBJECT_HISTORY_READ = "subject.history_read"
    RELIST_BLOCK_LIFT = "relist_block.lift"
    STATISTICS_READ = "statistics.read"


_OPERATOR_READ = frozenset(
    {
        Perm.MEMBER_READ,
        Perm.AUDIT_READ_ALL,
        Perm.DISPUTE_READ_ALL,
        Perm.SUBJECT_HISTORY_READ,
        Perm.STATISTICS_READ,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.MEMBER_ADMIN: frozenset(
        {
            Perm.LOOKUP,
            Perm.HASH_KEY_READ,
            Perm.UPLOAD,
            Perm.UPLOAD_READ,
            Perm.UPLOAD_CONFIRM,
            Perm.ENTRY_READ,
            Perm.ENTRY_WRITE,
            Perm.DISPUTE_READ,
            Perm.DISPUTE_WRITE,
            Perm.STAFF_MANAGE,
            Perm.API_KEY_MANAGE,
            Perm.AUDIT_READ_OWN,
        }
    ),
    Role.ANALYST: frozenset({Perm.LOOKUP, Perm.HASH_KEY_READ, Perm.DISPUTE_READ, Perm.DISPUTE_WRITE}),
    Role.UPLOADER: frozenset({Perm.UPLOAD, Perm.UPLOAD_READ, Perm.ENTRY_READ, Perm.ENTRY_WRITE, Perm.HASH_KEY_READ}),
    Role.VIEWER: frozenset({Perm.ENTRY_READ, Perm.UPLOAD_READ, Perm.DISPUTE_READ}),
    Role.OPERATOR_ADMIN: _OPERATOR_READ
    | frozenset(
        {
            Perm.MEMBER_WRITE,
            Perm.REGION_POLICY_WRITE,
            Perm.HASH_KEY_ROTATE,
            Perm.DISPUTE_ARBITRATE,
            Perm.STAFF_MANAGE,
            Perm.API_KEY_MANAGE,
            Perm.RELIST_BLOCK_LIFT,
        }
    ),
    Role.REGULATOR: _OPERATOR_READ,
}

# Machines never manage staff or keys, and never confirm a snapshot (a person must).
SCOPE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Scope.LOOKUP: frozenset({Perm.LOOKUP, Perm.HASH_KEY_READ}),
    Scope.UPLOAD: frozenset({Perm.UPLOAD, Perm.UPLOAD_READ, Perm.HASH_KEY_READ}),
    Scope.ENTRIES: frozenset({Perm.ENTRY_READ, Perm.ENTRY_WRITE}),
    Scope.DISPUTES: frozenset({Perm.DISPUTE_READ, Perm.DISPUTE_WRITE}),
}
_MACHINE_FORBIDDEN = frozenset({Perm.STAFF_MANAGE, Perm.API_KEY_MANAGE, Perm.UPLOAD_CONFIRM})


def permissions_for_roles(roles: frozenset[str] | set[str]) -> frozenset[Perm]:
    granted: set[Perm] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def permissions_for_scopes(scopes: frozenset[str] | set[str]) -> frozenset[Perm]:
    granted: set[Perm] = set()
    for scope in scopes:
        granted |= SCOPE_PERMISSIONS.get(scope, frozenset())
    return frozenset(granted)


def permissions_for_operator_key(role: str) -> frozenset[Perm]:
    if role not in OPERATOR_ROLES:  # an operator's key never acts with a member's role
        return frozenset()
    return ROLE_PERMISSIONS.get(role, frozenset()) - _MACHINE_FORBIDDEN
