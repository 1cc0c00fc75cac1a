"""The journeys domain's entries in the per-customer data registry."""

from yutang.journeys import enrolments
from yutang.journeys.models import JourneyEnrolment
from yutang.kit.personal_data import CustomerTable, collect, delete, move

TABLES = (
    CustomerTable(JourneyEnrolment, merge=move("journey_enrolments", enrolments.move_customer),
                  export=collect("journey_enrolments", enrolments.export),
                  erase=delete(fn=enrolments.erase),
                  references=("customer_id", "active_customer_id"),
                  reason="a customer's passes through journeys; the step counters keep the figures without them"),
)
