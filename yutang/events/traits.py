"""Segment traits to Yutang identities and profile fields (pure)."""

from datetime import date
from typing import Any

from yutang.customers.schemas import Gender, IdentityIn, IdentityKind

GENDERS = {"female": Gender.FEMALE, "f": Gender.FEMALE, "女": Gender.FEMALE, "male": Gender.MALE, "m": Gender.MALE,
           "男": Gender.MALE, "other": Gender.OTHER}
PROFILE = ("name", "city", "province")
IDENTITY_TRAITS = {"phone": IdentityKind.PHONE, "email": IdentityKind.EMAIL,
                   "wechat_unionid": IdentityKind.WECHAT_UNIONID, "unionid": IdentityKind.WECHAT_UNIONID,
                   "wecom_external_userid": IdentityKind.WECOM_EXTERNAL_USERID}


def identities_of(record: dict[str, Any], *, previous_is_user: bool = False) -> list[IdentityIn]:
    """Identities a message carries: userId, anonymousId, previousId (alias) and identifying traits.

    An alias's previousId is an earlier userId when one is known (previous_is_user), else an anonymous id.
    """
    found = []
    if record.get("userId"):
        found.append(IdentityIn(kind=IdentityKind.APP_USER_ID, value=record["userId"]))
    if record.get("anonymousId"):
        found.append(IdentityIn(kind=IdentityKind.ANONYMOUS_ID, value=record["anonymousId"]))
    if record["type"] == "alias" and record.get("previousId"):
        kind = IdentityKind.APP_USER_ID if previous_is_user else IdentityKind.ANONYMOUS_ID
        found.append(IdentityIn(kind=kind, value=record["previousId"]))
    traits = record.get("traits") or {}
    for trait, kind in IDENTITY_TRAITS.items():
        value = traits.get(trait)
        if isinstance(value, str | int) and str(value).strip():
            found.append(IdentityIn(kind=kind, value=str(value)))
    appid, openid = traits.get("wechat_appid"), traits.get("wechat_openid")
    if isinstance(appid, str) and isinstance(openid, str) and appid and openid:
        found.append(IdentityIn(kind=IdentityKind.WECHAT_OPENID, namespace=appid, value=openid))
    return found


def profile_of(traits: dict[str, Any]) -> dict[str, Any]:
    """Profile fields from traits; other non-identifying traits go to attributes."""
    profile: dict[str, Any] = {k: str(traits[k])[:200] for k in PROFILE if isinstance(traits.get(k), str | int)}
    gender = GENDERS.get(str(traits.get("gender", "")).strip().lower())
    if gender:
        profile["gender"] = gender
    birthday = traits.get("birthday")
    if isinstance(birthday, str):
        try:
            profile["birthday"] = date.fromisoformat(birthday[:10])
        except ValueError:
            pass
    skip = set(PROFILE) | set(IDENTITY_TRAITS) | {"gender", "birthday", "wechat_appid", "wechat_openid", "address"}
    attributes = {k: v for k, v in traits.items() if k not in skip and isinstance(v, str | int | float | bool)}
    if attributes:
        profile["attributes"] = attributes
    return profile
