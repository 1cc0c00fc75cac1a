"""The cut-off job: a background worker that cuts off every group-buy whose time has come and tells its buyers
(every 30 s)."""

from sqlalchemy.orm import Session, sessionmaker

from yutang.groupbuy import flows
from yutang.kit.background import Background, Worker

IDLE_SECONDS = 30


class Cutoffs(Background):
    """Cuts off due group-buys, one unit of work each."""

    def __init__(self, factory: sessionmaker[Session]):
        self.factory = factory
        self.worker = Worker(self.step, name="yutang-groupbuy-cutoffs", idle_seconds=IDLE_SECONDS)

    def step(self) -> int:
        """Cut off what is due now and tell the buyers; returns how many group-buys were cut off."""
        done = len(flows.cut_off_due(self.factory))
        flows.tell_due(self.factory)
        return done
