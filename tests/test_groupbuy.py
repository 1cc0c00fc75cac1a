"""Group-buy flows end to end on the store: create, publish, join under limits, cut-off, plan, pick-up, refunds."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.customers import new_customer
from tests.helpers.groupbuy import CUTOFF, NOW, bakery_items, join, make_groupbuy
from yutang.commissions import service as commissions_service
from yutang.groupbuy import flows as groupbuy_flows
from yutang.groupbuy import notices as groupbuy_notices
from yutang.groupbuy import service as groupbuy_service
from yutang.groupbuy.schemas import EndingIn, GroupBuyIn, GroupBuyPatch, LeaderIn, PointIn, RefundIn, VerifyIn
from yutang.groupbuy.tasks import Cutoffs
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.messaging import service as messaging_service
from yutang.messaging.models import Message
from yutang.messaging.schemas import ChannelConfigIn
from yutang.orders import service as orders_service
from yutang.storage.outbox import OutboxRow
from yutang.storage.topics import Topic

AFTER = CUTOFF + timedelta(minutes=1)


def _order(database, actor, entry_id):
    with database.read_only() as session:
        entry = groupbuy_service.get_entry(session, actor=actor, groupbuy_id=_gb(session, entry_id), entry_id=entry_id)
        order = orders_service.get_order(session, actor=actor, order_id=entry.order_id)
        return order.status, order.paid_fen, order.refunded_fen, order.total_fen


def _gb(session, entry_id):
    from yutang.runtime.models import metadata
    entries = metadata.tables["groupbuy_entries"]
    return session.scalar(select(entries.c.groupbuy_id).where(entries.c.id == entry_id))


def _entries(database, actor, groupbuy_id):
    with database.read_only() as session:
        return groupbuy_service.present_entries(
            session, entries=groupbuy_service.list_entries(session, actor=actor, groupbuy_id=groupbuy_id))


def _topics(database, tenant, topic):
    with database.read_only() as session:
        return session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.workspace_id == tenant.id, OutboxRow.topic == topic.value))


def test_an_earnest_above_a_fifth_of_the_price_is_refused_and_nothing_is_written(database, tenant):
    # Given a 定金 of 301 fen on a 1500 fen loaf
    with database.unit_of_work() as session, pytest.raises(Invalid) as refused:
        groupbuy_service.create_groupbuy(session, actor=tenant.actor, data=GroupBuyIn(
            title="x", deposit_kind="earnest", starts_at=NOW, cutoff_at=CUTOFF, production_date="2098-06-02",
            items=bakery_items(deposit_fen=301)))
    # Then the field is named and no group-buy exists
    assert refused.value.errors[0].field == "items.0.deposit_fen"
    with database.read_only() as session:
        assert groupbuy_service.list_groupbuys(session, actor=tenant.actor) == []


def test_the_price_is_frozen_once_published(database, tenant):
    groupbuy_id, _, _ = make_groupbuy(database, tenant.actor)
    with database.unit_of_work() as session, pytest.raises(Conflict) as refused:
        groupbuy_service.update_groupbuy(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=NOW,
                                         data=GroupBuyPatch(items=bakery_items(price_fen=1400)))
    assert refused.value.errors[0].field == "items.0.price_fen"
    with database.unit_of_work() as session:
        groupbuy_service.update_groupbuy(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=NOW,
                                         data=GroupBuyPatch(title="周二面包接龙"))
    with database.read_only() as session:
        out = groupbuy_service.present(session, groupbuy=groupbuy_service.get_groupbuy(
            session, actor=tenant.actor, groupbuy_id=groupbuy_id))
    assert out.title == "周二面包接龙" and out.items[0].price_fen == 1500


def test_joining_numbers_entries_masks_names_and_records_an_order(database, tenant):
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor)
    wang, li = new_customer(database, tenant.actor, "王小明"), new_customer(database, tenant.actor, "李四")
    # When two buyers join, and the first retries with the same request key
    first, created = join(database, tenant.actor, groupbuy_id, wang, point, "k1", {items["LOAF"]: 2}, remark="少糖")
    again, created_again = join(database, tenant.actor, groupbuy_id, wang, point, "k1", {items["LOAF"]: 2})
    join(database, tenant.actor, groupbuy_id, li, point, "k2", {items["LOAF"]: 1, items["CAKE"]: 1})
    # Then the retry is the same entry, numbers follow, and the public list shows masked names
    assert (created, created_again, again) == (True, False, first)
    with database.read_only() as session:
        shown = groupbuy_service.public_list(session, actor=tenant.actor, groupbuy_id=groupbuy_id)
        item = groupbuy_service.present(session, groupbuy=groupbuy_service.get_groupbuy(
            session, actor=tenant.actor, groupbuy_id=groupbuy_id)).items[0]
    assert [(row.number, row.shown_name, row.quantities) for row in shown] == [
        (1, "王*", {"LOAF": 2}), (2, "李*", {"LOAF": 1, "CAKE": 1})]
    assert item.taken == 3
    # And the join is a pending order on the group-buy channel with its 定金 paid
    assert _order(database, tenant.actor, first) == ("pending", 600, 0, 3000)
    assert _topics(database, tenant, Topic.GROUPBUY_JOINED) == 2


@pytest.mark.parametrize("quantities, field, reason", [
    ({"LOAF": 4}, "lines.0.quantity", "at most 3 per person"),
    ({"CAKE": 1, "LOAF": 4}, "lines.1.quantity", "at most 3 per person"),
])
def test_a_join_over_the_limit_is_refused_naming_the_line(database, tenant, quantities, field, reason):
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor)
    buyer = new_customer(database, tenant.actor, "王小明")
    with pytest.raises(Conflict) as refused:
        join(database, tenant.actor, groupbuy_id, buyer, point, "k", {items[sku]: q for sku, q in quantities.items()})
    assert refused.value.errors[0].field == field and reason in refused.value.detail
    assert _entries(database, tenant.actor, groupbuy_id) == []


def test_limits_count_earlier_joins_and_a_refusal_leaves_nothing_half_written(database, tenant):
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor, items=bakery_items(cap=4))
    wang, li = new_customer(database, tenant.actor, "王"), new_customer(database, tenant.actor, "李")
    join(database, tenant.actor, groupbuy_id, wang, point, "a", {items["LOAF"]: 2})
    with pytest.raises(Conflict, match="1 left for this buyer"):
        join(database, tenant.actor, groupbuy_id, wang, point, "b", {items["CAKE"]: 1, items["LOAF"]: 2})
    join(database, tenant.actor, groupbuy_id, li, point, "c", {items["LOAF"]: 2})
    with pytest.raises(Conflict, match="only 0 left"):
        join(database, tenant.actor, groupbuy_id, li, point, "d", {items["CAKE"]: 2, items["LOAF"]: 1})
    # The refused joins took no cake, no number and no order
    with database.read_only() as session:
        out = groupbuy_service.present(session, groupbuy=groupbuy_service.get_groupbuy(
            session, actor=tenant.actor, groupbuy_id=groupbuy_id))
        orders = orders_service.list_orders(session, actor=tenant.actor)
    assert [(item.sku, item.taken) for item in out.items] == [("LOAF", 4), ("CAKE", 0)]
    assert out.last_number == 2 and len(orders) == 2


def test_joining_after_the_cut_off_or_before_publishing_is_refused(database, tenant):
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor)
    draft_id, draft_items, _ = make_groupbuy(database, tenant.actor, publish=False)
    buyer = new_customer(database, tenant.actor, "王")
    with pytest.raises(Conflict, match="cut-off") as late:
        join(database, tenant.actor, groupbuy_id, buyer, point, "late", {items["LOAF"]: 1}, at=AFTER)
    with pytest.raises(Conflict, match="not published"):
        join(database, tenant.actor, draft_id, buyer, point, "draft", {draft_items["LOAF"]: 1})
    with pytest.raises(NotFound) as no_point:
        join(database, tenant.actor, groupbuy_id, buyer, None, "nopoint", {items["LOAF"]: 1})
    assert late.value.errors[0].field == "groupbuy_id" and no_point.value.errors[0].field == "point_id"


def test_concurrent_joins_never_pass_the_cap_or_a_person_s_limit(database, tenant):
    # Given a loaf capped at 30, at most 3 per person, and 8 buyers
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor, items=bakery_items(cap=30))
    buyers = [new_customer(database, tenant.actor, f"顾客{i}") for i in range(8)]

    def attempt(n):
        try:
            join(database, tenant.actor, groupbuy_id, buyers[n % 8], point, f"r{n}", {items["LOAF"]: 1 + n % 2})
            return True
        except Conflict:
            return False

    # When 60 requests race
    with ThreadPoolExecutor(max_workers=8) as pool:
        accepted = sum(pool.map(attempt, range(60)))
    # Then no buyer holds more than 3, the sold units match the lines, and the numbers have no gaps
    entries = _entries(database, tenant.actor, groupbuy_id)
    per_buyer: dict[int, int] = {}
    for entry in entries:
        per_buyer[entry.customer_id] = per_buyer.get(entry.customer_id, 0) + entry.lines[0].quantity
    with database.read_only() as session:
        taken = groupbuy_service.present(session, groupbuy=groupbuy_service.get_groupbuy(
            session, actor=tenant.actor, groupbuy_id=groupbuy_id)).items[0].taken
    assert len(entries) == accepted and max(per_buyer.values()) <= 3
    assert taken == sum(per_buyer.values()) <= 30
    assert sorted(entry.number for entry in entries) == list(range(1, accepted + 1))


def _round(database, tenant):
    """Loaves reach their minimum (2), cakes do not (5): 王 2 loaves + 1 cake, 李 1 cake only."""
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor)
    wang, li = new_customer(database, tenant.actor, "王小明"), new_customer(database, tenant.actor, "李四")
    first, _ = join(database, tenant.actor, groupbuy_id, wang, point, "w", {items["LOAF"]: 2, items["CAKE"]: 1})
    second, _ = join(database, tenant.actor, groupbuy_id, li, point, "l", {items["CAKE"]: 1})
    return groupbuy_id, items, point, first, second


def test_the_cut_off_confirms_items_at_their_minimum_and_refunds_the_rest(database, tenant):
    groupbuy_id, items, point, first, second = _round(database, tenant)
    with database.unit_of_work() as session, pytest.raises(Conflict, match="cut-off is at"):
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=NOW)
    # When the job runs after the cut-off time
    done = [result for result in groupbuy_flows.cut_off_due(database.factory, now=AFTER)
            if result.groupbuy_id == groupbuy_id]
    # Then loaves go ahead (balance 2 × 1500 − 600) and cakes are cancelled (two 定金 of 1000 back)
    assert [(d.items, d.confirmed_lines, d.cancelled_lines, d.refund_fen, d.balance_due_fen) for d in done] == [
        ({"LOAF": "ahead", "CAKE": "cancelled"}, 1, 2, 2000, 2400)]
    entries = {entry.id: entry for entry in _entries(database, tenant.actor, groupbuy_id)}
    assert [(line.status, line.balance_due_fen, line.refunded_fen) for line in entries[first].lines] == [
        ("confirmed", 2400, 0), ("cancelled", 0, 1000)]
    # And 李's order, all cancelled, shows its 定金 refunded; the events are queued
    assert _order(database, tenant.actor, second) == ("cancelled", 1000, 1000, 1000)
    assert _topics(database, tenant, Topic.GROUPBUY_CONFIRMED) == 1
    assert _topics(database, tenant, Topic.GROUPBUY_CANCELLED) == 2
    # And a second cut-off is refused
    with database.unit_of_work() as session, pytest.raises(Conflict):
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=AFTER)


def test_production_plan_and_pick_lists_count_live_lines(database, tenant):
    groupbuy_id, items, point, _, _ = _round(database, tenant)
    with database.unit_of_work() as session:
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=NOW, early=True)
    with database.read_only() as session:
        plan = groupbuy_service.production_plan(session, actor=tenant.actor)
        picks = groupbuy_service.pick_lists(session, actor=tenant.actor, groupbuy_id=groupbuy_id)
    assert [(row.production_date.isoformat(), row.sku, row.quantity) for row in plan] == [("2098-06-02", "LOAF", 2)]
    assert [(row.point, row.sku, row.quantity, row.entries) for row in picks] == [("幸福里自提点", "LOAF", 2, 1)]


def test_a_code_verifies_once_and_completes_the_order(database, tenant):
    groupbuy_id, items, point, first, _ = _round(database, tenant)
    code = {entry.id: entry.code for entry in _entries(database, tenant.actor, groupbuy_id)}[first]
    with database.unit_of_work() as session, pytest.raises(Conflict, match="not been cut off"):
        groupbuy_service.verify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, code=code, now=NOW)
    with database.unit_of_work() as session:
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=AFTER)
    with database.unit_of_work() as session:
        groupbuy_service.verify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, code=VerifyIn(code=code).code,
                                now=AFTER)
    with database.unit_of_work() as session, pytest.raises(Conflict, match="verified already") as twice:
        groupbuy_service.verify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, code=code, now=AFTER)
    assert twice.value.errors[0].field == "code"
    # The loaves are paid in full at pick-up; the cancelled cake's 定金 stays refunded
    assert _order(database, tenant.actor, first) == ("partially_refunded", 4000, 1000, 4000)
    assert _topics(database, tenant, Topic.GROUPBUY_PICKED_UP) == 1
    with database.unit_of_work() as session, pytest.raises(NotFound):
        groupbuy_service.verify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, code="0000", now=AFTER)


@pytest.mark.parametrize("ending, status, refunded, kept", [
    ("buyer_walked_away", "no_show", 0, 600),     # the 定金 is forfeited
    ("seller_defaulted", "cancelled", 1200, 0),   # the 定金 comes back double
])
def test_a_line_that_is_not_picked_up_follows_the_earnest_rules(database, tenant, ending, status, refunded, kept):
    groupbuy_id, items, point, first, _ = _round(database, tenant)
    with database.unit_of_work() as session:
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=AFTER)
    with database.unit_of_work() as session:
        line = groupbuy_service.end_line(session, actor=tenant.actor, groupbuy_id=groupbuy_id, data=EndingIn(
            entry_id=first, item_id=items["LOAF"], ending=ending))
        assert (line.status, line.refunded_fen, line.kept_fen) == (status, refunded, kept)


def test_fresh_goods_are_refunded_without_return_revenue_zero_cost_kept(database, tenant):
    groupbuy_id, items, point, first, _ = _round(database, tenant)
    code = {entry.id: entry.code for entry in _entries(database, tenant.actor, groupbuy_id)}[first]
    with database.unit_of_work() as session:
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=AFTER)
        groupbuy_service.verify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, code=code, now=AFTER)
    with database.unit_of_work() as session, pytest.raises(Invalid) as returned:
        groupbuy_service.refund(session, actor=tenant.actor, groupbuy_id=groupbuy_id, data=RefundIn(
            entry_id=first, item_id=items["LOAF"], refund_fen=3000, returned=True))
    assert returned.value.errors[0].field == "returned"
    with database.unit_of_work() as session:
        figures = groupbuy_service.refund(session, actor=tenant.actor, groupbuy_id=groupbuy_id, data=RefundIn(
            entry_id=first, item_id=items["LOAF"], refund_fen=3000))
    assert (figures.revenue_fen, figures.cost_fen, figures.profit_fen) == (0, 1200, -1200)
    assert _order(database, tenant.actor, first)[0] == "refunded"
    with database.unit_of_work() as session, pytest.raises(Invalid) as over:
        groupbuy_service.refund(session, actor=tenant.actor, groupbuy_id=groupbuy_id, data=RefundIn(
            entry_id=first, item_id=items["LOAF"], refund_fen=1))
    assert over.value.errors[0].field == "refund_fen"


def test_another_workspace_s_group_buy_is_not_found(database, tenant, other_tenant):
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor)
    stranger = new_customer(database, other_tenant.actor, "张")
    with pytest.raises(NotFound):
        join(database, other_tenant.actor, groupbuy_id, stranger, None, secrets.token_hex(4), {items["LOAF"]: 1})


def test_the_background_job_cuts_off_what_is_due(database, tenant):
    # Given a group-buy whose cut-off comes in a second (by the real clock)
    now = datetime.now(UTC)
    groupbuy_id, _, _ = make_groupbuy(database, tenant.actor, publish=False, cutoff=now + timedelta(seconds=1),
                                      starts=now - timedelta(hours=1))
    with database.unit_of_work() as session:
        groupbuy_service.publish(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=now)
    # When the worker's step runs after it
    time.sleep(1.1)
    Cutoffs(database.factory).step()
    # Then it is closed
    with database.read_only() as session:
        assert groupbuy_service.get_groupbuy(session, actor=tenant.actor, groupbuy_id=groupbuy_id).status == "closed"


def test_a_leader_earns_on_what_was_picked_up_and_a_refund_takes_it_back(database, tenant):
    # Given a leader at 10% running the pick-up point 王 collects from
    groupbuy_id, items, _ = make_groupbuy(database, tenant.actor)
    with database.unit_of_work() as session:
        leader = groupbuy_service.create_leader(session, actor=tenant.actor, data=LeaderIn(name="张团长",
                                                                                          commission_bp=1000))
        point = groupbuy_service.create_point(session, actor=tenant.actor, data=PointIn(name="张团长自提点",
                                                                                       leader_id=leader.id)).id
    wang, li = new_customer(database, tenant.actor, "王小明"), new_customer(database, tenant.actor, "李四")
    first, _ = join(database, tenant.actor, groupbuy_id, wang, point, "w", {items["LOAF"]: 2, items["CAKE"]: 1})
    join(database, tenant.actor, groupbuy_id, li, point, "l", {items["CAKE"]: 1})
    code = {entry.id: entry.code for entry in _entries(database, tenant.actor, groupbuy_id)}[first]

    def account():
        with database.read_only() as session:
            found = commissions_service.find_account(session, actor=tenant.actor, kind="leader",
                                                     beneficiary_id=leader.id)
            return found and (found.pending_fen, found.frozen_fen, found.reversed_fen)

    # When the round is cut off (cakes cancelled), nothing is earned yet: nothing was handed over
    with database.unit_of_work() as session:
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=AFTER)
    assert account() is None
    # Then at pick-up the leader earns 10% of the two loaves (3,000 fen), frozen for the after-sales window
    with database.unit_of_work() as session:
        groupbuy_service.verify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, code=code, now=AFTER)
    assert account() == (0, 300, 0)
    # And a refund of one loaf's worth takes back exactly its share, twice asked or not
    with database.unit_of_work() as session:
        groupbuy_service.refund(session, actor=tenant.actor, groupbuy_id=groupbuy_id, data=RefundIn(
            entry_id=first, item_id=items["LOAF"], refund_fen=1500))
    assert account() == (0, 150, 150)
    with database.unit_of_work() as session:
        assert commissions_service.check_accounts(session, workspace_id=tenant.id) == []


def test_the_buyers_are_told_the_cut_off_once_in_batches(database, tenant):
    # Given a group-buy that tells buyers by SMS, two buyers with phones and one without
    groupbuy_id, items, point = make_groupbuy(database, tenant.actor)
    with database.unit_of_work() as session:
        sms = messaging_service.create_channel(session, actor=tenant.actor, data=ChannelConfigIn(
            kind="sms", name="短信", settings={"url": "http://127.0.0.1:9/sms"}, secrets={"api_key": "k"})).id
        groupbuy_service.update_groupbuy(session, actor=tenant.actor, groupbuy_id=groupbuy_id,
                                         data=GroupBuyPatch(notice_channel_id=sms))
    wang = new_customer(database, tenant.actor, "王小明", phone="+8613800001111")
    li = new_customer(database, tenant.actor, "李四", phone="+8613800002222")
    zhao = new_customer(database, tenant.actor, "赵六")
    first, _ = join(database, tenant.actor, groupbuy_id, wang, point, "w", {items["LOAF"]: 2, items["CAKE"]: 1})
    join(database, tenant.actor, groupbuy_id, li, point, "l", {items["CAKE"]: 1})
    join(database, tenant.actor, groupbuy_id, zhao, point, "z", {items["LOAF"]: 1})
    code = {entry.id: entry.code for entry in _entries(database, tenant.actor, groupbuy_id)}[first]
    with database.unit_of_work() as session:
        groupbuy_service.cut_off(session, actor=tenant.actor, groupbuy_id=groupbuy_id, now=AFTER)
    # When the notices go out two entries a batch
    covered = []
    while True:
        with database.unit_of_work() as session:
            n = groupbuy_notices.notify(session, actor=tenant.actor, groupbuy_id=groupbuy_id, batch=2)
        if not n:
            break
        covered.append(n)
    assert covered == [2, 1]
    # Then each buyer has one service message saying what went ahead, the balance, the code and the refund
    with database.read_only() as session:
        sent = {m.customer_id: m for m in session.scalars(select(Message).where(
            Message.workspace_id == tenant.id, Message.idempotency_key.like(f"groupbuy:{groupbuy_id}:cutoff:%")))}
    assert sent[wang].body == (f"【明日面包接龙】已截单。成团：吐司×2，待付尾款 ¥24.00，取货码 {code}。"
                               "未成团已取消：蛋糕×1，已退 ¥10.00。")
    assert sent[li].body == "【明日面包接龙】已截单。未成团已取消：蛋糕×1，已退 ¥10.00。"
    # (queued for the sender; a sender thread of another test may already have tried the unreachable SMS peer)
    assert (sent[wang].purpose, sent[wang].address) == ("service", "+8613800001111")
    assert sent[wang].status != "suppressed" and sent[li].status != "suppressed"
    assert zhao not in sent  # no phone: passed over, the others still told
    # And the job finds nothing left to tell: nobody is told twice
    assert groupbuy_flows.tell_due(database.factory) == 0
    with database.read_only() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.workspace_id == tenant.id)) == 2
