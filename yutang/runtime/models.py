"""Import every domain's models so one metadata describes the whole OLTP schema."""

from yutang.analytics import models as analytics_models
from yutang.channels import models as channels_models
from yutang.commissions import models as commissions_models
from yutang.customers import models as customers_models
from yutang.events import models as events_models
from yutang.groupbuy import models as groupbuy_models
from yutang.groups import models as groups_models
from yutang.journeys import models as journeys_models
from yutang.lifecycle import models as lifecycle_models
from yutang.loyalty import models as loyalty_models
from yutang.messaging import models as messaging_models
from yutang.orders import models as orders_models
from yutang.referral import models as referral_models
from yutang.runtime import schedule
from yutang.segments import models as segments_models
from yutang.storage import cursors, outbox
from yutang.storage.base import Base
from yutang.stores import models as stores_models
from yutang.tags import models as tags_models
from yutang.webhooks import models as webhooks_models
from yutang.workspaces import models as workspaces_models

DOMAIN_MODELS = (workspaces_models, channels_models, customers_models, events_models, tags_models, orders_models,
                 segments_models, messaging_models, webhooks_models, loyalty_models, lifecycle_models, stores_models,
                 analytics_models, groups_models, journeys_models, commissions_models, referral_models,
                 groupbuy_models, schedule, cursors, outbox)
metadata = Base.metadata
