"""The customers domain's public face: reading, profile, OneID, memberships, consents, notes, merge and erase.

The work lives in the submodules imported below; other domains call this module only, never select from the
customers' tables (Customer and MergeRecord are exported as types for annotations).
"""

from yutang.customers.consents import (
    consent_ledger,
    current_consents,
    in_force,
    record_consent,
    withdrawn,
)
from yutang.customers.listing import SORTS, Criteria
from yutang.customers.memberships import (
    join_channel,
    leave_channel,
    memberships_of,
    record_membership,
)
from yutang.customers.merging import (
    absorb,
    erase,
    export,
    merged_into,
    merges_of,
)
from yutang.customers.models import Customer, MergeRecord
from yutang.customers.notes import (
    add_note,
    notes_of,
)
from yutang.customers.oneid import (
    add_identities,
    attach_identities,
    create,
    create_many,
    lookup_many,
    match,
    normalise_identities,
    remove_identity,
    resolve_or_create,
    update_from,
)
from yutang.customers.profile import (
    PROFILE_FIELDS,
    STATE_FIELDS,
    emit_changed,
    require_active,
    seen_at,
    seen_many,
    update_customer,
)
from yutang.customers.reading import (
    ACTIVE,
    ERASED,
    MERGED,
    active_ids,
    count_active,
    count_matching,
    display_names,
    get_customer,
    identities_of,
    identity_values,
    lock_customers,
    matching_ids,
    page_matching,
    present,
    search,
    sending_facts,
    visible,
    visible_active,
    visible_by_id,
    visible_ids,
)

__all__ = [
    "ACTIVE",
    "Criteria",
    "SORTS",
    "Customer",
    "ERASED",
    "MERGED",
    "MergeRecord",
    "PROFILE_FIELDS",
    "STATE_FIELDS",
    "absorb",
    "active_ids",
    "add_identities",
    "add_note",
    "attach_identities",
    "consent_ledger",
    "count_active",
    "count_matching",
    "display_names",
    "create",
    "create_many",
    "current_consents",
    "emit_changed",
    "erase",
    "export",
    "get_customer",
    "identities_of",
    "identity_values",
    "in_force",
    "join_channel",
    "leave_channel",
    "lock_customers",
    "matching_ids",
    "lookup_many",
    "match",
    "memberships_of",
    "merged_into",
    "merges_of",
    "normalise_identities",
    "notes_of",
    "page_matching",
    "present",
    "record_consent",
    "record_membership",
    "remove_identity",
    "require_active",
    "resolve_or_create",
    "search",
    "seen_at",
    "seen_many",
    "sending_facts",
    "update_customer",
    "update_from",
    "visible",
    "visible_active",
    "visible_by_id",
    "visible_ids",
    "withdrawn",
]



