"""Console languages: catalogues read from the .po files at start, the request's locale, value labels."""

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LOCALES = ("zh_CN", "en")
LOCALE_COOKIE = "yutang_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


# Stored enum values shown to operators; the keys are what the services store and return.
LABELS = {
    "active": N_("Active"), "merged": N_("Merged"), "erased": N_("Erased"),
    "owner": N_("Owner"), "operator": N_("Operator"), "analyst": N_("Analyst"), "guide": N_("Shopping guide"),
    "store_manager": N_("Store manager"), "region_manager": N_("Region manager"),
    "first_add": N_("First add"), "store_assignment": N_("Store assignment"), "rule": N_("By rule"),
    "handover": N_("Hand-over"), "first_add_wins": N_("First add wins"),
    "planned": N_("Planned"), "running": N_("Running"), "finished": N_("Finished"), "in_service": N_("In service"),
    "resigned": N_("Left the company"), "waiting": N_("Waiting"), "done": N_("Taken over"),
    "refused": N_("Customer refused"), "over_limit": N_("Receiver at limit"), "limited": N_("Moved twice in 90 days"),
    "no_contact": N_("Not a WeCom contact"), "unsent": N_("Not sent yet"),
    "corp_secret": N_("Corp secret"), "app_secret": N_("App secret"), "api_key": N_("API key"),
    "callback_token": N_("Callback token"), "encoding_aes_key": N_("EncodingAESKey"), "password": N_("Password"),
    "guide_code": N_("Guide"), "campaign": N_("Campaign"), "channel": N_("Channel"),
    "female": N_("Female"), "male": N_("Male"), "other": N_("Other"), "unknown": N_("Unknown"),
    "phone": N_("Phone"), "email": N_("Email"), "wechat_openid": N_("WeChat OpenID"),
    "wechat_unionid": N_("WeChat UnionID"), "wecom_external_userid": N_("WeCom external contact"),
    "app_user_id": N_("App user ID"), "marketplace_buyer": N_("Marketplace buyer"),
    "wechat_service_account": N_("WeChat service account"),
    "wechat_subscription_account": N_("WeChat subscription account"), "mini_program": N_("Mini program"),
    "wecom_staff": N_("WeCom staff account"), "customer_group": N_("Customer group"), "app": N_("App"),
    "store": N_("Store"), "tmall_shop": N_("Tmall shop"), "jd_shop": N_("JD shop"),
    "douyin_shop": N_("Douyin shop"), "paid_ads": N_("Paid ads"),
    "primary": N_("Primary pool"), "auxiliary": N_("Auxiliary pool"),
    "public": N_("Public domain"), "commercial": N_("Commercial domain"), "private": N_("Private domain"),
    "pending": N_("Pending payment"), "paid": N_("Paid"), "shipped": N_("Shipped"),
    "completed": N_("Completed"),
    "partially_refunded": N_("Partially refunded"), "refunded": N_("Refunded"), "cancelled": N_("Cancelled"),
    "sms": N_("SMS"), "phone_call": N_("Phone call"), "wechat": N_("WeChat"), "wecom": N_("WeCom"),
    "app_push": N_("App push"), "personalised_marketing": N_("Personalised marketing"),
    "granted": N_("Granted"), "withdrawn": N_("Withdrawn"),
    "manual": N_("Manual"),
    # The timeline: Segment's identity calls, Yutang's own event names and the audit log's actions on a customer.
    "identify": N_("Identified"), "alias": N_("Alias"),
    "Order Paid": N_("Order paid"), "Order Refunded": N_("Order refunded"), "Tag Added": N_("Tag added"),
    "Tag Removed": N_("Tag removed"), "Consent Changed": N_("Consent changed"),
    "Customer Merged": N_("Customer merged"), "Lifecycle Stage Changed": N_("Lifecycle stage changed"),
    "Message Queued": N_("Message queued"), "Message Sent": N_("Message sent"),
    "Message Delivered": N_("Message delivered"), "Message Read": N_("Message read"),
    "Message Clicked": N_("Message link clicked"), "Message Failed": N_("Message failed"),
    "Message Suppressed": N_("Message suppressed"), "Message Received": N_("Message received"),
    "Group Joined": N_("Joined a group"), "Group Left": N_("Left a group"),
    # Messaging: channel kinds, template purposes, message states.
    "wechat_oa": N_("WeChat Official Account"), "wechat_mp": N_("Mini-program subscribe message"),
    "webhook": N_("Webhook"), "null": N_("Null (test)"),
    "marketing": N_("Marketing"), "service": N_("Service"), "quick_reply": N_("Quick reply"), "reply": N_("Reply"),
    "queued": N_("Queued"), "sending": N_("Sending"), "sent": N_("Sent"), "delivered": N_("Delivered"),
    "read": N_("Read"), "clicked": N_("Clicked"), "failed": N_("Failed"), "suppressed": N_("Suppressed"),
    "received": N_("Received"), "open": N_("Open"), "resolved": N_("Resolved"),
    # Lifecycle stages and RFM classes (the values yutang.lifecycle stores).
    "prospect": N_("Prospect"), "new": N_("New customer"), "repeat": N_("Repeat customer"),
    "loyal": N_("Loyal customer"), "at_risk": N_("At risk"), "dormant": N_("Dormant"), "churned": N_("Churned"),
    "important_value": N_("Important value"), "important_development": N_("Important development"),
    "important_retention": N_("Important retention"), "important_recovery": N_("Important recovery"),
    "general_value": N_("General value"), "general_development": N_("General development"),
    "general_retention": N_("General retention"), "general_recovery": N_("General recovery"),
    "customer.created": N_("Customer created"), "customer.updated": N_("Profile updated"),
    "customer.identities_added": N_("Identities added"), "customer.identity_removed": N_("Identity removed"),
    "customer.joined": N_("Joined a channel"), "customer.left": N_("Left a channel"),
    "customer.consent": N_("Consent recorded"), "customer.tagged": N_("Tags changed"),
    "customer.note_added": N_("Note added"), "customer.merged": N_("Merged another customer in"),
    "customer.exported": N_("Data exported"), "customer.erased": N_("Personal data erased"),
    # Loyalty: rule and entry kinds, coupon kinds and statuses, submission statuses, tier benefits, events.
    "order": N_("Paid orders"), "event": N_("Events"), "earn": N_("Earned"), "redeem": N_("Redeemed"),
    "expire": N_("Expired"), "reverse": N_("Reversed"), "adjust": N_("Adjusted"),
    "fixed": N_("Fixed amount"), "percent": N_("Percentage"), "threshold": N_("Spend threshold"),
    "free_shipping": N_("Free shipping"), "gift": N_("Gift"), "issued": N_("Unused"), "redeemed": N_("Used"),
    "expired": N_("Expired"), "approved": N_("Approved"), "rejected": N_("Rejected"),
    "exclusive_service": N_("Exclusive service"), "free_returns": N_("Free returns"),
    "new_product_trials": N_("New-product trials"), "birthday_gift": N_("Birthday gift"),
    "Points Changed": N_("Points changed"), "Coupon Issued": N_("Coupon issued"),
    "Coupon Redeemed": N_("Coupon used"), "Coupon Expired": N_("Coupon expired"), "Tier Changed": N_("Tier changed"),
    "points.adjusted": N_("Points adjusted"), "scheduled": N_("Scheduled"), "quiet_hours": N_("Quiet hours"),
    "refuses_personalised": N_("Refuses personalised marketing"), "wecom_monthly_cap": N_("WeCom monthly cap"),
    "no_address": N_("No address on the channel"), "holdout": N_("Global holdout"),
    "customer_merged": N_("Customer merged"),
    "customer_erased": N_("Customer erased"), "merge": N_("Merged in"),
    "deferred": N_("Deferred past quiet hours"), "partly_deferred": N_("Sent, part deferred past quiet hours"),
    "none_sent": N_("Nobody sent to"), "broadcast_cancelled": N_("Broadcast cancelled"),
    "Segment Entered": N_("Entered a segment"), "Segment Exited": N_("Left a segment"),
    "Group-buy Joined": N_("Joined a group-buy"), "Group-buy Confirmed": N_("Group-buy confirmed"),
    "Group-buy Cancelled": N_("Group-buy cancelled"), "Group-buy Picked Up": N_("Group-buy picked up"),
}

# A customer's profile fields, as the change log names them.
FIELD_LABELS = {
    "name": N_("Name"), "gender": N_("Gender"), "birthday": N_("Birthday"), "province": N_("Province"),
    "city": N_("City"), "attributes": N_("Custom attributes"), "first_channel_id": N_("First channel"),
    "first_channel": N_("First channel"), "source_campaign": N_("Source campaign"),
    "first_seen_at": N_("First seen"), "assigned_member_id": N_("Assigned staff"), "status": N_("Status"),
    "refuses_personalised": N_("Refuses personalised marketing"), "nickname": N_("Nickname"),
    "avatar_url": N_("Avatar"),
}


def load_translations() -> dict[str, Translations]:
    """A Translations per locale, compiled in memory from messages.po (.mo files are not kept)."""
    result = {}
    for locale in LOCALES:
        with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as source:
            catalog = read_po(source, locale=locale)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        result[locale] = Translations(fp=compiled)
    return result


def chosen_locale(request: Request) -> str | None:
    """The language the operator picked with the switch, if any."""
    value = request.cookies.get(LOCALE_COOKIE)
    return value if value in LOCALES else None


def supported(locale: str | None, *, fallback: str) -> str:
    """The locale if the console speaks it, else the fallback (itself checked, defaulting to zh_CN)."""
    if locale in LOCALES:
        return locale
    return fallback if fallback in LOCALES else LOCALES[0]
