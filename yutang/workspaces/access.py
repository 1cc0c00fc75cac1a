"""Roles, what each may do, and the Actor every service call acts as."""

from dataclasses import dataclass
from enum import StrEnum

from yutang.kit.errors import Forbidden


class Role(StrEnum):
    """The four roles of the design brief."""

    OWNER = "owner"
    OPERATOR = "operator"
    ANALYST = "analyst"
    GUIDE = "guide"


class Permission(StrEnum):
    """Coarse capabilities checked at service entry."""

    READ = "read"
    WRITE = "write"
    SEE_PII = "see_pii"
    BULK = "bulk"  # imports, bulk tagging, merges, erasure
    ADMIN = "admin"  # members, keys, audit log


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE, Permission.SEE_PII, Permission.BULK}),
    Role.ANALYST: frozenset({Permission.READ}),
    Role.GUIDE: frozenset({Permission.READ, Permission.WRITE}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: the workspace they act in, their member id, role and key."""

    workspace_id: int
    member_id: int | None
    role: Role
    api_key_id: int | None = None
    timezone: str = "Asia/Shanghai"

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants the permission."""
        return permission in GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise Forbidden unless the role grants the permission."""
        if not self.can(permission):
            raise Forbidden(f"the {self.role.value} role may not {permission.value.replace('_', ' ')}")

    @property
    def sees_own_customers_only(self) -> bool:
        """Guides see only the customers assigned to them."""
        return self.role is Role.GUIDE


def system_actor(workspace_id: int, *, timezone: str = "Asia/Shanghai") -> Actor:
    """The actor for jobs, imports run by the CLI and the demo seeder: owner rights, no member."""
    return Actor(workspace_id=workspace_id, member_id=None, role=Role.OWNER, timezone=timezone)
