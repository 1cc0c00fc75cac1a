"""Roles, what each may do, and the Actor every service call acts as."""

from dataclasses import dataclass
from enum import StrEnum

from yutang.kit.errors import Forbidden


class Role(StrEnum):
    """The roles of the design brief, with the store hierarchy above the shopping guide."""

    OWNER = "owner"
    OPERATOR = "operator"
    ANALYST = "analyst"
    GUIDE = "guide"
    STORE_MANAGER = "store_manager"
    REGION_MANAGER = "region_manager"


class Permission(StrEnum):
    """Coarse capabilities checked at service entry."""

    READ = "read"
    WRITE = "write"
    SEE_PII = "see_pii"
    BULK = "bulk"  # imports, bulk tagging, merges, erasure
    MANAGE = "manage"  # workspace set-up: channels, tags, segments, templates, coupon templates, point tasks
    ADMIN = "admin"  # members, keys, audit log


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE, Permission.SEE_PII, Permission.BULK,
                              Permission.MANAGE}),
    Role.ANALYST: frozenset({Permission.READ}),
    Role.GUIDE: frozenset({Permission.READ, Permission.WRITE}),
    Role.STORE_MANAGER: frozenset({Permission.READ, Permission.WRITE}),
    Role.REGION_MANAGER: frozenset({Permission.READ, Permission.WRITE}),
}
# Roles that see the customers of a team only: their own (guide), their store's or their region's guides'.
SCOPED_ROLES = frozenset({Role.GUIDE, Role.STORE_MANAGER, Role.REGION_MANAGER})


class Need(StrEnum):
    """What an API operation needs of its caller; each maps to a permission and, for guides, a scope."""

    READ = "read"  # the workspace's definitions and aggregate figures
    READ_CUSTOMERS = "read_customers"  # customer data (a guide: their own customers only)
    READ_POOL = "read_pool"  # lists that span the whole pool (segment members, recipients, review queue)
    SERVE = "serve"  # change customer data one customer at a time (a guide: their own customers only)
    MANAGE = "manage"
    BULK = "bulk"
    ADMIN = "admin"
    WRITE_KEY = "write_key"  # Segment-compatible tracking: a source's write key, no member role


class Grant(StrEnum):
    """A role's answer for a need: allowed, refused (403), or allowed for the team's own customers only."""

    ALLOW = "allow"
    DENY = "deny"
    OWN = "own"
    NONE = "n/a"  # the operation takes no member key


_NEEDS: dict[Need, Permission] = {
    Need.READ: Permission.READ, Need.READ_CUSTOMERS: Permission.READ, Need.READ_POOL: Permission.READ,
    Need.SERVE: Permission.WRITE, Need.MANAGE: Permission.MANAGE, Need.BULK: Permission.BULK,
    Need.ADMIN: Permission.ADMIN,
}
_GUIDE_SCOPED = {Need.READ_CUSTOMERS, Need.SERVE}


def grant(role: Role, need: Need) -> Grant:
    """The role matrix: what a role may do with an operation that has this need."""
    if need is Need.WRITE_KEY:
        return Grant.NONE
    if need is Need.READ_POOL and role in SCOPED_ROLES:
        return Grant.DENY
    if _NEEDS[need] not in GRANTS[role]:
        return Grant.DENY
    return Grant.OWN if role in SCOPED_ROLES and need in _GUIDE_SCOPED else Grant.ALLOW


@dataclass(frozen=True)
class Actor:
    """Who is acting: the workspace they act in, their member id, role and key."""

    workspace_id: int
    member_id: int | None
    role: Role
    api_key_id: int | None = None
    timezone: str = "Asia/Shanghai"
    team: frozenset[int] = frozenset()  # store and region managers: the members whose customers they see

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants the permission."""
        return permission in GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise Forbidden unless the role grants the permission."""
        if not self.can(permission):
            raise Forbidden(f"the {self.role.value} role may not {permission.value.replace('_', ' ')}")

    def require_need(self, need: Need) -> None:
        """Raise Forbidden when the role matrix denies this actor's role the need."""
        if grant(self.role, need) is Grant.DENY:
            raise Forbidden(f"the {self.role.value} role may not do this ({need.value.replace('_', ' ')})")

    @property
    def sees_own_customers_only(self) -> bool:
        """Guides see only the customers assigned to them, managers only their store's or region's."""
        return self.role in SCOPED_ROLES

    @property
    def owners_seen(self) -> frozenset[int]:
        """The members whose assigned customers a scoped actor sees (themselves and their team)."""
        return self.team | ({self.member_id} if self.member_id is not None else frozenset())


def system_actor(workspace_id: int, *, timezone: str = "Asia/Shanghai") -> Actor:
    """The actor for jobs, imports run by the CLI and the demo seeder: owner rights, no member."""
    return Actor(workspace_id=workspace_id, member_id=None, role=Role.OWNER, timezone=timezone)
