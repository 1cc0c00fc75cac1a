"""In/Out shapes for tag groups, tags and tagging."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yutang.kit.fields import Id, Int64


class TagGroupIn(BaseModel):
    """A new tag group, optionally with its tags."""

    name: str = Field(min_length=1, max_length=100)
    order: Int64 = 0
    tags: list[str] = Field(default_factory=list, description="tag names to create in this group, in order")


class TagIn(BaseModel):
    """A new tag in a group."""

    group_id: Id
    name: str = Field(min_length=1, max_length=100)
    order: Int64 = 0


class TagOut(BaseModel):
    """A tag with its group's name."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    group_id: int
    group_name: str
    name: str
    order: int
    customer_count: int | None = None


class TagGroupOut(BaseModel):
    """A group with its tags."""

    id: int
    name: str
    order: int
    tags: list[TagOut]


class CustomerTagOut(BaseModel):
    """A tag on a customer."""

    tag_id: int
    group_name: str
    name: str
    source: str
    created_at: datetime


class TagRef(BaseModel):
    """A tag by id, or by 'group' + 'name' (created when missing and create_missing is set)."""

    id: Id | None = None
    group: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if self.id is None and not (self.group and self.name):
            raise ValueError("give a tag id, or both group and name")
        return self


class TaggingIn(BaseModel):
    """Tags to add to and remove from one customer."""

    add: list[TagRef] = Field(default_factory=list)
    remove: list[TagRef] = Field(default_factory=list)
    create_missing: bool = False


class BulkTaggingIn(TaggingIn):
    """Tags to add to and remove from many customers at once."""

    customer_ids: list[Id] = Field(min_length=1, max_length=10_000)


class BulkTaggingOut(BaseModel):
    """What a bulk tagging changed."""

    added: int
    removed: int
    customers: int
