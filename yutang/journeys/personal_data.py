"""The journeys domain's entries in the per-customer data registry."""

from yutang.journeys import enrolments, experiments
from yutang.journeys.models import JourneyEnrolment, JourneyExposure
from yutang.kit.personal_data import CustomerTable, collect, delete, move

TABLES = (
    CustomerTable(JourneyEnrolment, merge=move("journey_enrolments", enrolments.move_customer),
                  export=collect("journey_enrolments", enrolments.export),
                  erase=delete(fn=enrolments.erase),
                  references=("customer_id", "active_customer_id"),
                  reason="a customer's passes through journeys; the step counters keep the figures without them"),
    CustomerTable(JourneyExposure, merge=move("journey_exposures", experiments.move_customer),
                  export=collect("journey_exposures", experiments.export),
                  erase=delete(fn=experiments.erase),
                  reason="the variants a customer got in experiments; results are counts over them"),
)
