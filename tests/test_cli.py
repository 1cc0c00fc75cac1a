"""The `yutang` CLI: migrate, workspace create, imports and the demo seeder, against the test database."""

import json
import secrets
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from yutang.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, settings, database, pipeline):
    monkeypatch.setenv("YUTANG_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("YUTANG_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("YUTANG_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("YUTANG_WAREHOUSE_URL", settings.resolved_warehouse_url)
    # The commands open the tests' own stores; the tests' server must not relay beside them (one relay per store,
    # as in production, where the server owns the warehouse file).
    pipeline.pause()
    yield
    pipeline.start()


def test_migrate_is_idempotent(cli_env):
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_workspace_create_prints_a_working_key(cli_env, client):
    slug = "cli-" + secrets.token_hex(4)
    result = runner.invoke(app, ["workspace", "create", slug, "--name", "CLI 品牌"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    me = client.get("/v1/workspace", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["slug"] == slug and me["timezone"] == "Asia/Shanghai"
    again = runner.invoke(app, ["workspace", "create", slug, "--name", "x"])
    assert again.exit_code == 2 and "exists already" in again.output
    bad_zone = runner.invoke(app, ["workspace", "create", slug + "z", "--name", "x", "--timezone", "Mars/Base"])
    assert bad_zone.exit_code == 2


def test_import_customers_reports_and_exits_nonzero_on_bad_rows(cli_env, tmp_path, tenant, api):
    good = tmp_path / "good.csv"
    good.write_text("name,phone\n韩梅梅,13822223333\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "customers", str(good), "--workspace", tenant.slug])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phone\n坏,123\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "customers", str(bad), "--workspace", tenant.slug])
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["line"] == 2
    assert api.get("/v1/customers", params={"q": "13822223333"}).json()["items"]


def test_import_orders_csv(cli_env, tmp_path, tenant, api):
    api.post("/v1/channels", json={"code": "store", "name": "门店", "kind": "store"})
    csv = tmp_path / "orders.csv"
    csv.write_text("order_id,status,placed_at,phone,sku,category,quantity,unit_price_fen\n"
                   "S-1,completed,2026-10-01 12:00:00,13822224444,GT-001,绿茶,2,16800\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "orders", str(csv), "--workspace", tenant.slug, "--channel", "store"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 1
    orders = api.get("/v1/orders").json()["items"]
    assert orders[0]["total_fen"] == 33600


@pytest.mark.slow
def test_demo_seeds_a_brand_without_serving(cli_env, client):
    result = runner.invoke(app, ["demo", "--showcase", "20", "--visitors", "600", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/console/sign-in/ysl_" in result.output and "key=" not in result.output
    assert "passed" in result.output and "left contact" in result.output
    for part in ("showcase customers", "OneID merges", "crowd", "lifecycle", "segments", "loyalty", "messaging",
                 "groups", "journeys", "referral", "groupbuy"):
        assert f"{part} " in result.output.split("seeding: ")[1].splitlines()[0]
    customers = int(result.output.split("': ")[1].split(" customers")[0])
    assert 20 + 120 < customers < 20 + 600
    key = result.output.split("API key (owner): ")[1].split()[0]
    api = lambda path: client.get(path, headers={"Authorization": f"Bearer {key}"}).json()  # noqa: E731

    # OneID: a customer first seen on Tmall and in the mini program, merged, with the merge in their archive.
    merged = api("/v1/customers?q=林晓雯")["items"]
    assert len(merged) == 1
    archive = api(f"/v1/customers/{merged[0]['id']}/archive")
    kinds = {i["kind"] for i in archive["customer"]["identities"]}
    assert archive["merges"] and kinds >= {"marketplace_buyer", "phone", "wechat_unionid", "email"}
    assert archive["scores"] is not None  # lifecycle computed at seed
    overview = api("/v1/lifecycle/overview")
    assert overview["computed_at"] and sum(s["customers"] for s in overview["stages"] if s["stage"] != "prospect")
    # Segments with their members built.
    segments = {s["name"]: s for s in api("/v1/segments")["items"]}
    assert set(segments) == {"高价值复购", "沉睡唤醒", "新客首购", "绿茶爱好者", "春茶品鉴会邀请名单"}
    assert segments["春茶品鉴会邀请名单"]["kind"] == "static"
    assert all(s["member_count"] > 0 for s in segments.values()), segments
    # Loyalty: rules, three tiers, coupons issued and redeemed, submissions waiting, balances.
    assert len(api("/v1/loyalty/rules")) == 3
    assert [t["name"] for t in api("/v1/loyalty/tiers")] == ["银卡会员", "金卡会员", "黑金会员"]
    templates = api("/v1/loyalty/coupon-templates")
    assert sum(t["issued_count"] for t in templates) > 0
    assert sum(api(f"/v1/loyalty/coupon-templates/{t['id']}/stats")["redeemed"] for t in templates) > 0
    assert len(api("/v1/loyalty/submissions?status=pending")["items"]) >= 5
    assert api(f"/v1/loyalty/customers/{merged[0]['id']}/points")["balance"] > 0
    # Messaging: channels at the sinks, templates per kind, a past broadcast with its report, messages, the inbox.
    channels = api("/v1/messaging/channels")
    assert {c["kind"] for c in channels} == {"sms", "email", "webhook", "wecom"}  # WeCom: the stores' 活码
    assert all(c["settings"].get("url", "").startswith("http://127.0.0.1:") or c["settings"].get("host") ==
               "127.0.0.1" for c in channels if c["kind"] != "wecom")
    assert {t["channel_kind"] for t in api("/v1/messaging/templates")} >= {"sms", "email", "webhook", "wecom"}
    sent = [b for b in api("/v1/broadcasts")["items"] if b["status"] == "sent"]
    assert len(sent) == 1 and sent[0]["summary"]["sent"] > 0
    assert sent[0]["summary"]["by_reason"]["consent_withdrawn:sms"] == 2
    assert sent[0]["by_state"].get("delivered", 0) + sent[0]["by_state"].get("read", 0) > 0
    states = {m["status"] for m in api("/v1/messages?limit=200")["items"]}
    assert {"delivered", "read", "received"} <= states
    # Groups: a lively, a dying and a silent group, and a group code with joins.
    health = {h["name"]: h for h in api("/v1/groups/health")}
    assert set(health) == {"静安茶友会", "徐汇新品尝鲜群", "双11老客群"}
    assert health["双11老客群"]["silent"] and not health["静安茶友会"]["silent"]
    assert health["静安茶友会"]["spoke_7d"] > 0.2 > health["徐汇新品尝鲜群"]["spoke_7d"] > 0
    code = api("/v1/groups/codes")[0]
    assert api(f"/v1/groups/codes/{code['id']}/stats")["joins"] >= 5
    # The script library: four folders, materials of every kind, a month of the guides' uses
    assert [(f["name"], f["materials"]) for f in api("/v1/library/folders")] == [
        ("开场话术", 2), ("复购话术", 2), ("活动素材", 2), ("朋友圈文案", 2)]
    assert {m["kind"] for m in api("/v1/library/materials")} == {"text", "product", "link", "miniprogram", "image"}
    report = api("/v1/library/report")
    assert sum(r["uses"] for r in report) > 20 and len({r["staff_id"] for r in report}) >= 2
    threads = api("/v1/inbox/threads?status=open")["items"]
    assert len(threads) >= 3
    # Journeys: the welcome SOP and the win-back, live, with customers part-way through.
    journeys = {j["name"]: j for j in api("/v1/journeys")}
    assert set(journeys) == {"新朋友欢迎 SOP", "沉睡客户唤醒", "试饮预约提醒时机实验"}
    assert {j["status"] for j in journeys.values()} == {"live"}
    # The timing experiment is over and readable: exposures split as planned, bookings counted per variant.
    tested = api(f"/v1/journeys/{journeys['试饮预约提醒时机实验']['id']}/experiments/split")
    assert tested["readable"] is True and tested["waiting_for"] == [], tested
    assert all(v["exposures"] >= 50 for v in tested["variants"]) and not tested["srm_alarm"]
    booked = {m["variant"]: m for m in tested["metrics"] if m["primary"]}
    assert booked["day3"]["hits"] > 0 and booked["next_day"]["hits"] > 0 and booked["day3"]["p"] is not None
    welcome = api(f"/v1/journeys/{journeys['新朋友欢迎 SOP']['id']}/counts")
    assert welcome["totals"]["active"] > 0 and welcome["totals"]["done"] > 0, welcome["totals"]
    replied = api(f"/v1/inbox/threads/{threads[-1]['id']}")
    assert {m["direction"] for m in replied["messages"]} == {"in", "out"}

    # Referral: a 老带新 share tree two levels deep with rewards issued, a flagged self-referral; a KOC network's
    # commissions, one partly reversed by a refund, and a payout batch.
    programmes = {p["name"]: p for p in api("/v1/referral/programmes")}
    tree = api(f"/v1/referral/programmes/{programmes['老带新 · 春茶季']['id']}/tree")
    assert tree["depth"] == 2 and tree["invitees"] == 8 and tree["valid"] >= 4, tree
    assert [a["flags"][0]["code"] for a in api("/v1/referral/attributions?state=flagged")] == ["self-referral"]
    assert {a["state"] for a in api("/v1/referral/attributions")} >= {"issued", "pending"}
    entries = api("/v1/commissions/entries")
    assert {e["level"] for e in entries} == {1, 2} and any(e["state"] == "reversed" for e in entries)
    (batch,) = api("/v1/commissions/batches")
    assert batch["count"] >= 3 and batch["gross_fen"] > 0
    assert {d["status"] for d in api("/v1/referral/distributors")} == {"approved", "applied"}
    # Group-buys: two weeks of daily bakery rounds cut off and picked up, tomorrow's open, a forecast per SKU.
    groupbuys = api("/v1/groupbuys?limit=100")
    assert len(groupbuys) == 15 and [g["status"] for g in groupbuys].count("open") == 1
    picked = api(f"/v1/groupbuys/{groupbuys[1]['id']}/entries")
    assert picked and any(entry["picked_up_at"] for entry in picked)
    assert {f["sku"] for f in api("/v1/groupbuys/forecast")} == {"BREAD-LOAF", "BREAD-CROISSANT"}

    # Stores: tasks due today, late and done; a month of WeCom statistics and targets on the board; a persona.
    tasks = api("/v1/stores/tasks")
    assert {(t["status"], t["late"]) for t in tasks} == {("open", False), ("done", False), ("done", True)}
    board = api(f"/v1/stores/kpis?since={date.today() - timedelta(days=30)}&until={date.today()}")["rows"]
    assert all(r["chats"] > 0 and r["target_gmv_fen"] for r in board if r["name"] in {"小美", "阿杰", "婷婷"})
    (persona,) = api("/v1/stores/personas")
    assert persona["name"] == "小鱼 · 鱼塘茶事" and len(persona["staff_ids"]) == 1

    again = runner.invoke(app, ["demo", "--no-serve"])  # a second run reuses the brand and replaces the key
    assert again.exit_code == 0 and f"demo workspace 'demo-tea': {customers} customers" in again.output
    first, second = (_printed(run.output, "API key (owner): ") for run in (result, again))
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    api = lambda path: client.get(path, headers={"Authorization": f"Bearer {second}"}).json()  # noqa: E731
    assert len(api("/v1/segments")["items"]) == 5 and len(api("/v1/messaging/channels")) == 4
    link = _printed(again.output, "http://127.0.0.1:8000")
    assert client.post(link, follow_redirects=False).status_code == 303
    assert client.post(link, follow_redirects=False).status_code == 400  # used once


def test_sign_in_link_command(cli_env, client, tenant):
    result = runner.invoke(app, ["workspace", "sign-in-link", tenant.slug, "--base-url", "https://crm.example/"])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://crm.example/console/sign-in/ysl_")
    assert client.post(url.removeprefix("https://crm.example"), follow_redirects=False).status_code == 303
    missing = runner.invoke(app, ["workspace", "sign-in-link", tenant.slug, "--member", "999999"])
    assert missing.exit_code != 0 and "member" in missing.output


def _printed(output: str, prefix: str) -> str:
    return next(line.split(prefix, 1)[1].split()[0] for line in output.splitlines() if prefix in line)
