"""Contact-pressure rules edited through the console's form: the same rules the API reads, errors beside fields."""

from tests.helpers.console import signed_in
from tests.helpers.tenants import add_member


def _form(**changes) -> dict:
    form = {"cap_name": ["marketing_week", "sms_month", ""], "cap_limit": ["2", "3", ""],
            "cap_window": ["7", "30", ""], "cap_channel": ["", "sms", ""], "quiet_start": "21:30",
            "quiet_end": "08:00", "wecom_monthly": "3"}
    return form | changes


def test_the_form_saves_the_rules_the_api_reads(app, api, tenant):
    console = signed_in(app, tenant.key)
    page = console.get("/console/settings/pressure")
    assert page.status_code == 200 and 'value="marketing_week"' in page.text  # the defaults in force
    saved = console.post("/console/settings/pressure", data=_form(), follow_redirects=False)
    assert saved.status_code == 303
    rules = api.get("/v1/messaging/pressure").json()
    assert rules["caps"] == [{"name": "marketing_week", "limit": 2, "window_days": 7, "channel_kind": None},
                             {"name": "sms_month", "limit": 3, "window_days": 30, "channel_kind": "sms"}]
    assert (rules["quiet_start"], rules["quiet_end"], rules["wecom_group_sends_per_month"]) == ("21:30", "08:00", 3)
    # Emptying quiet hours and the WeCom cap turns them off; the form shows what is stored
    console.post("/console/settings/pressure", data=_form(quiet_start="", quiet_end="", wecom_monthly="",
                                                          cap_name=["", ""], cap_limit=["", ""],
                                                          cap_window=["", ""], cap_channel=["", ""]))
    rules = api.get("/v1/messaging/pressure").json()
    assert rules["caps"] == [] and rules["quiet_start"] is None and rules["wecom_group_sends_per_month"] is None
    # The global holdout is typed in percent, kept in basis points, and shown again as typed
    console.post("/console/settings/pressure", data=_form(holdout="2.5"))
    assert api.get("/v1/messaging/pressure").json()["holdout_bp"] == 250
    assert 'name="holdout" inputmode="decimal" value="2.5"' in console.get("/console/settings/pressure").text
    refused = console.post("/console/settings/pressure", data=_form(holdout="30"))
    assert refused.status_code == 422 and 'id="error-holdout_bp">' in refused.text
    assert api.get("/v1/messaging/pressure").json()["holdout_bp"] == 250


def test_errors_come_back_beside_their_fields_in_words(app, api, tenant):
    console = signed_in(app, tenant.key)
    before = api.get("/v1/messaging/pressure").json()
    refused = console.post("/console/settings/pressure", data=_form(
        cap_name=["Marketing Week", "sms_month"], cap_limit=["two", "3"], cap_window=["7", "400"],
        cap_channel=["", "sms"], quiet_start="25:00", wecom_monthly="-1"))
    assert refused.status_code == 422
    text = refused.text
    assert 'id="error-caps-0-name">请使用小写字母、数字和下划线' in text
    assert 'id="error-caps-0-limit">请输入整数' in text
    assert 'id="error-caps-1-window_days">不能大于 366' in text
    assert 'id="error-quiet_start">请按 HH:MM 输入时间' in text
    assert 'id="error-wecom_group_sends_per_month">不能小于 0' in text
    assert "should" not in text and "Input" not in text  # no raw validator output
    assert 'value="Marketing Week"' in text  # what was typed is kept
    half = console.post("/console/settings/pressure", data=_form(quiet_end=""))
    assert half.status_code == 422 and 'id="error-quiet_end">' in half.text
    twice = console.post("/console/settings/pressure", data=_form(cap_name=["same", "same"]))
    assert twice.status_code == 422 and 'id="error-caps">' in twice.text
    assert api.get("/v1/messaging/pressure").json() == before


def test_only_owners_edit_the_rules(app, api):
    _, headers = add_member(api, "operator")
    console = signed_in(app, headers["Authorization"][7:])
    assert console.get("/console/settings/pressure").status_code == 403
    assert console.post("/console/settings/pressure", data=_form()).status_code == 403
