"""Loading a tenant row by id: one check that it belongs to the caller's workspace."""

from typing import TypeVar

from sqlalchemy.orm import Session

from yutang.kit.errors import NotFound

Row = TypeVar("Row")


def get_in_workspace(session: Session, model: type[Row], row_id: int, *, workspace_id: int, what: str,
                     field: str) -> Row:
    """The row with this id if it is in the workspace; otherwise NotFound ("no such <what>") naming the field."""
    row = session.get(model, row_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"no such {what}", field=field)
    return row
