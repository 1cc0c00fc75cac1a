"""Segment traits to Yutang identities and profile fields (pure)."""

from datetime import date
from typing import Any

from pydantic import ValidationError

from yutang.customers.schemas import Gender, IdentityIn, IdentityKind

GENDERS = {"female": Gender.FEMALE, "f": Gender.FEMALE, "女": Gender.FEMALE, "male": Gender.MALE, "m": Gender.MALE,
           "男": Gender.MALE, "other": Gender.OTHER}
PROFILE = {"name": 200, "city": 64, "province": 64}  # field: longest kept
IDENTITY_TRAITS = {"phone": IdentityKind.PHONE, "email": IdentityKind.EMAIL,
                   "wechat_unionid": IdentityKind.WECHAT_UNIONID, "unionid": IdentityKind.WECHAT_UNIONID,
                   "wecom_external_userid": IdentityKind.WECOM_EXTERNAL_USERID}


def identities_of(record: dict[str, Any], *, previous_is_user: bool = False
                  ) -> tuple[list[IdentityIn], list[tuple[str, str]]]:
    """Identities a message carries: userId, anonymousId, previousId (alias) and identifying traits; and the
    identifying traits that cannot be identities at all (trait name, why), which are left out.

    An alias's previousId is an earlier userId when one is known (previous_is_user), else an anonymous id.
    Ids themselves (userId …) that cannot be identities raise ValidationError: the message cannot be attributed.
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
    candidates = [(trait, {"kind": kind, "value": str(traits[trait])}) for trait, kind in IDENTITY_TRAITS.items()
                  if isinstance(traits.get(trait), str | int) and str(traits[trait]).strip()]
    appid, openid = traits.get("wechat_appid"), traits.get("wechat_openid")
    if isinstance(appid, str) and isinstance(openid, str) and appid and openid:
        candidates.append(("wechat_openid", {"kind": IdentityKind.WECHAT_OPENID, "namespace": appid,
                                             "value": openid}))
    dropped = []
    for trait, fields in candidates:
        try:
            found.append(IdentityIn(**fields))
        except ValidationError as exc:
            dropped.append((trait, exc.errors()[0]["msg"]))
    return found, dropped


def profile_of(traits: dict[str, Any]) -> dict[str, Any]:
    """Profile fields from traits; other non-identifying traits go to attributes."""
    profile: dict[str, Any] = {k: str(traits[k])[:most] for k, most in PROFILE.items()
                               if isinstance(traits.get(k), str | int)}
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
