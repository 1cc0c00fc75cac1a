"""Demo segments: high-value repeat buyers, sleepers to wake, first-time buyers, green-tea lovers (tag-based) and
a static invitation list, created through the segment flows the API uses (membership built at once)."""

from sqlalchemy.orm import Session, sessionmaker

from yutang.segments import flows as segment_flows
from yutang.segments.schemas import SegmentIn
from yutang.workspaces.access import Actor

HIGH_VALUE, SLEEPERS, FIRST_PURCHASE, GREEN_TEA, INVITED = "高价值复购", "沉睡唤醒", "新客首购", "绿茶爱好者", \
    "春茶品鉴会邀请名单"


def seed(factory: sessionmaker[Session], membership, *, actor: Actor, green_tea_tag_id: int,
         store_channel_id: int, picked: list[int]) -> dict[str, int]:
    """Create the demo segments; their ids by name."""
    definitions = [
        SegmentIn(name=HIGH_VALUE, description="三单及以上且累计实付满 1000 元的复购客户", rule={"all": [
            {"type": "order", "measure": "count", "op": "gte", "value": 3},
            {"type": "order", "measure": "spend", "op": "gte", "value": 100_000}]}),
        SegmentIn(name=SLEEPERS, description="有风险或已沉睡的老客，用于唤醒活动", rule={"all": [
            {"type": "lifecycle_stage", "stages": ["at_risk", "dormant"]}]}),
        SegmentIn(name=FIRST_PURCHASE, description="近期完成首单的新客", rule={"all": [
            {"type": "lifecycle_stage", "stages": ["new"]}]}),
        SegmentIn(name=GREEN_TEA, description="打了「绿茶」标签或买过绿茶的客户", rule={"any": [
            {"type": "tag", "tag_ids": [green_tea_tag_id]},
            {"type": "bought", "category": "绿茶"}]}),
        SegmentIn(name=INVITED, kind="static", description="上海静安门店会员快照，加上导购推荐的客户",
                  rule={"all": [{"type": "channel", "channel_ids": [store_channel_id], "relation": "member"},
                                {"type": "attribute", "field": "city", "op": "eq", "value": "上海"}]},
                  customer_ids=picked),
    ]
    return {data.name: segment_flows.create(factory, membership, actor=actor, data=data) for data in definitions}
