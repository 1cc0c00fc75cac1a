"""The per-customer data registry's vocabulary: how merge, export and erase treat one table that references a customer.

Each domain declares its tables in `<domain>/personal_data.py` as `TABLES = (CustomerTable(...), ...)`; `archive`
composes them into one registry that merge, export and erase all read (`archive/registry.py`).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MERGE_VERBS = frozenset({"move", "keep"})
EXPORT_VERBS = frozenset({"collect", "omit"})
ERASE_VERBS = frozenset({"scrub", "delete", "keep"})


@dataclass(frozen=True)
class Step:
    """One operation's treatment of a table: a verb and, where logic is needed, the domain function doing it.

    `key` names the merge count or export section the function fills; `columns` are what a scrub blanks. A step
    without a function is done by the customer's own domain (`customers.absorb` / `customers.erase`), which
    archive runs last because it acts on the customer row itself.
    """

    verb: str
    key: str | None = None
    fn: Callable[..., Any] | None = None
    columns: tuple[str, ...] = ()


def move(key: str, fn: Callable[..., int] | None = None) -> Step:
    """Merge re-points the loser's rows at the winner: `fn(session, *, from_id, to_id) -> count`."""
    return Step("move", key, fn)


def collect(key: str, fn: Callable[..., Any]) -> Step:
    """Export puts `fn(session, *, customer_id)` under `key`."""
    return Step("collect", key, fn)


def scrub(*columns: str, fn: Callable[..., None] | None = None) -> Step:
    """Erase blanks these columns and keeps the rows (for anonymous aggregates): `fn(session, *, customer_id)`."""
    return Step("scrub", None, fn, columns)


def delete(fn: Callable[..., None] | None = None) -> Step:
    """Erase deletes the customer's rows: `fn(session, *, customer_id)`."""
    return Step("delete", None, fn)


KEEP = Step("keep")
OMIT = Step("omit")


@dataclass(frozen=True)
class CustomerTable:
    """How merge, export and erase treat one table holding rows about a customer, and why."""

    table: Any  # the ORM class
    merge: Step
    export: Step
    erase: Step
    reason: str
    references: tuple[str, ...] = ("customer_id",)
    only: Mapping[str, str] = field(default_factory=dict)  # for tables about other things too: the rows covered

    def __post_init__(self) -> None:
        for step, verbs in ((self.merge, MERGE_VERBS), (self.export, EXPORT_VERBS), (self.erase, ERASE_VERBS)):
            if step.verb not in verbs:
                raise ValueError(f"{self.name}: {step.verb!r} is not one of {sorted(verbs)}")
        if not self.reason:
            raise ValueError(f"{self.name}: say why the table is treated so")

    @property
    def name(self) -> str:
        """The table's name in the metadata."""
        return self.table.__tablename__


def nothing_personal(table: Any, *, reason: str, references: tuple[str, ...] = ("customer_id",)) -> CustomerTable:
    """A table that references a customer but holds nothing personal: merge keeps, export omits, erase keeps."""
    return CustomerTable(table, merge=KEEP, export=OMIT, erase=KEEP, reason=reason, references=references)
