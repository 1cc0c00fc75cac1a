"""In/Out shapes for tag groups, tags and tagging."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yutang.kit.fields import Id, Int64, Patch


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


class TagGroupPatch(Patch):
    """A tag group's new name or order."""

    name: str = Field(None, min_length=1, max_length=100)
    order: Int64 = Field(None)


class TagPatch(Patch):
    """A tag's new name or order."""

    name: str = Field(None, min_length=1, max_length=100)
    order: Int64 = Field(None)


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


class CustomerMatch(BaseModel):
    """A customer search, as the list takes it: every active customer it matches."""

    q: str | None = Field(None, max_length=200, description="name, any id, #id or a phone's last four digits")
    tag: list[Id] = Field(default_factory=list, description="tag ids; all must be present")
    channel_id: Id | None = None


class BulkTaggingIn(TaggingIn):
    """Tags to add to and remove from many customers at once: listed by id, or all a search matches."""

    customer_ids: list[Id] = Field(default_factory=list, max_length=10_000)
    match: CustomerMatch | None = Field(None, description="instead of customer_ids: all active customers matching")


class BulkTaggingOut(BaseModel):
    """What a bulk tagging changed."""

    added: int
    removed: int
    customers: int
