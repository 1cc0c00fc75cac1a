"""The referral domain's entries in the per-customer data registry."""

from yutang.kit.personal_data import KEEP, CustomerTable, collect, move, scrub
from yutang.referral import service
from yutang.referral.models import (
    Distributor,
    DistributorBinding,
    ReferralAttribution,
    ReferralCode,
    ReferralTierAward,
)

MERGE = move("referral", service.move_customer)
EXPORT = collect("referral", service.export)
TABLES = (
    CustomerTable(ReferralCode, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="random codes; the share tree keeps its shape"),
    CustomerTable(ReferralAttribution, merge=MERGE, export=EXPORT, erase=scrub("device", fn=service.erase),
                  reason="who invited whom stays for the tree and rewards; the device id is personal",
                  references=("customer_id", "inviter_id")),
    CustomerTable(ReferralTierAward, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="tier counts and reward ids; no personal content"),
    CustomerTable(Distributor, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="the commission ledger's accounts name the distributor; a code and a status only"),
    CustomerTable(DistributorBinding, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="which distributor a buyer came through, for commissions; dates only"),
)
