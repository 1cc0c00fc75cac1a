"""The customers domain's public face: reading, profile, OneID, memberships, consents, notes, merge and erase.

The work lives in the submodules imported below; other domains call this module (or its functions) only.
"""



from yutang.customers.consents import (
    consent_ledger,
    current_consents,
    record_consent,
)
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
from yutang.customers.notes import (
    add_note,
    notes_of,
)
from yutang.customers.oneid import (
    BULK_KINDS,
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
    update_customer,
)
from yutang.customers.reading import (
    ACTIVE,
    ERASED,
    MERGED,
    count_active,
    get_customer,
    identities_of,
    lock_customers,
    present,
    search,
    visible,
    visible_ids,
)

__all__ = [
    "ACTIVE",
    "BULK_KINDS",
    "ERASED",
    "MERGED",
    "PROFILE_FIELDS",
    "STATE_FIELDS",
    "absorb",
    "add_identities",
    "add_note",
    "attach_identities",
    "consent_ledger",
    "count_active",
    "create",
    "create_many",
    "current_consents",
    "emit_changed",
    "erase",
    "export",
    "get_customer",
    "identities_of",
    "join_channel",
    "leave_channel",
    "lock_customers",
    "lookup_many",
    "match",
    "memberships_of",
    "merged_into",
    "merges_of",
    "normalise_identities",
    "notes_of",
    "present",
    "record_consent",
    "record_membership",
    "remove_identity",
    "require_active",
    "resolve_or_create",
    "search",
    "update_customer",
    "update_from",
    "visible",
    "visible_ids",
]



