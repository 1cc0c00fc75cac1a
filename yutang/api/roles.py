"""What each /v1 operation needs of its caller's role: one entry per operation, enforced and published from here.

`api_router()` puts the check of each entry in front of its route and the OpenAPI document carries it as
`x-yutang-access`; a route without an entry stops the app from being built. The role matrix that follows
(`workspaces.access.grant`) is docs/roles.md.
"""

from yutang.workspaces.access import Need

R, C, P, S, M, B, A, K = (Need.READ, Need.READ_CUSTOMERS, Need.READ_POOL, Need.SERVE, Need.MANAGE, Need.BULK,
                          Need.ADMIN, Need.WRITE_KEY)

NEEDS: dict[str, Need] = {
    # workspace, members, keys
    "GET /v1/workspace": R, "GET /v1/me": R, "GET /v1/members": R, "POST /v1/members": A,
    "GET /v1/api-keys": A, "POST /v1/members/{member_id}/api-keys": A, "DELETE /v1/api-keys/{key_id}": A,
    "DELETE /v1/members/{member_id}/console-sessions": A, "PATCH /v1/members/{member_id}": A,
    "DELETE /v1/members/{member_id}": A, "GET /v1/audit-log": A,
    # channels
    "GET /v1/channels": R, "POST /v1/channels": M, "GET /v1/channels/{channel_id}": R,
    "PATCH /v1/channels/{channel_id}": M, "GET /v1/channels/{channel_id}/costs": R,
    "POST /v1/channels/{channel_id}/costs": M,
    # customers
    "GET /v1/customers": C, "POST /v1/customers": S, "POST /v1/customers/import": B,
    "GET /v1/customers/export.csv": P, "GET /v1/customers/list": C,
    "GET /v1/customers/{customer_id}": C, "PATCH /v1/customers/{customer_id}": S,
    "GET /v1/customers/{customer_id}/archive": C, "GET /v1/customers/{customer_id}/timeline": C,
    "POST /v1/customers/{customer_id}/identities": S, "POST /v1/customers/{customer_id}/merge": B,
    "POST /v1/customers/{customer_id}/channels": S, "POST /v1/customers/{customer_id}/consents": S,
    "POST /v1/customers/{customer_id}/notes": S, "POST /v1/customers/{customer_id}/tags": S,
    "DELETE /v1/customers/{customer_id}/tags/{tag_id}": S, "GET /v1/customers/{customer_id}/export": B,
    "POST /v1/customers/{customer_id}/erase": B,
    # tags
    "GET /v1/tag-groups": R, "POST /v1/tag-groups": M, "POST /v1/tags": M, "DELETE /v1/tags/{tag_id}": M,
    "PATCH /v1/tag-groups/{group_id}": M, "DELETE /v1/tag-groups/{group_id}": M, "PATCH /v1/tags/{tag_id}": M,
    "POST /v1/tags/bulk": S,
    # orders
    "GET /v1/orders": C, "POST /v1/orders": S, "POST /v1/orders/import": B, "GET /v1/orders/{order_id}": C,
    # segments
    "POST /v1/segments": M, "GET /v1/segments": R, "POST /v1/segments/preview": P,
    "GET /v1/segments/{segment_id}": R, "PATCH /v1/segments/{segment_id}": M,
    "DELETE /v1/segments/{segment_id}": M, "POST /v1/segments/{segment_id}/rebuild": M,
    "GET /v1/segments/{segment_id}/explain/{customer_id}": C, "GET /v1/segments/{segment_id}/members": P,
    "POST /v1/segments/{segment_id}/members": M, "POST /v1/segments/{segment_id}/members/import": M,
    "GET /v1/segments/{segment_id}/members.csv": P, "POST /v1/segments/{segment_id}/duplicate": M,
    # event sources and Segment-compatible tracking
    "GET /v1/sources": R, "POST /v1/sources": M, "DELETE /v1/sources/{source_id}": M,
    "PATCH /v1/sources/{source_id}": M, "POST /v1/sources/{source_id}/rotate-key": M,
    "POST /v1/batch": K, "POST /v1/identify": K, "POST /v1/track": K, "POST /v1/page": K, "POST /v1/screen": K,
    "POST /v1/group": K, "POST /v1/alias": K,
    "GET /v1/events/dead-letters": P, "GET /v1/events/dead-letters/{dead_letter_id}": P,
    "POST /v1/events/dead-letters/{dead_letter_id}/replay": M,
    "POST /v1/events/dead-letters/{dead_letter_id}/discard": M,
    # messaging: channel configurations, templates, messages, inbox, pressure, broadcasts
    "GET /v1/messaging/channels": R, "POST /v1/messaging/channels": A, "GET /v1/messaging/channels/{config_id}": R,
    "PATCH /v1/messaging/channels/{config_id}": A, "POST /v1/messaging/channels/{config_id}/check": A,
    "POST /v1/messaging/channels/{config_id}/wecom/contacts-sync": M,
    "POST /v1/messaging/channels/{config_id}/wecom/tags-sync": M,
    "POST /v1/messaging/channels/{config_id}/wecom/results-sync": M,
    "GET /v1/messaging/templates": R, "POST /v1/messaging/templates": M,
    "GET /v1/messaging/templates/{template_id}": R, "PUT /v1/messaging/templates/{template_id}": M,
    "POST /v1/messaging/templates/preview": C,
    "POST /v1/messages": S, "GET /v1/messages": C, "GET /v1/messages/{message_id}": C,
    "GET /v1/messages/{message_id}/attempts": C, "POST /v1/messages/{message_id}/replay": S,
    "POST /v1/messages/{message_id}/delivery": S,
    "POST /v1/inbox/messages": S, "GET /v1/inbox/threads": C, "GET /v1/inbox/threads/{thread_id}": C,
    "POST /v1/inbox/threads/{thread_id}/replies": S, "POST /v1/inbox/threads/{thread_id}/resolve": S,
    "POST /v1/inbox/threads/{thread_id}/assign": S, "GET /v1/inbox/queues": R, "POST /v1/inbox/queues": A,
    "GET /v1/messaging/pressure": R, "PUT /v1/messaging/pressure": A,
    "POST /v1/broadcasts/preview": P, "POST /v1/broadcasts": M, "GET /v1/broadcasts": R,
    "GET /v1/broadcasts/{broadcast_id}": R, "POST /v1/broadcasts/{broadcast_id}/cancel": M,
    "GET /v1/broadcasts/{broadcast_id}/recipients": P,
    # loyalty
    "GET /v1/loyalty/settings": R, "PUT /v1/loyalty/settings": A,
    "POST /v1/loyalty/points/earn": S, "POST /v1/loyalty/points/redeem": S, "POST /v1/loyalty/points/reverse": S,
    "POST /v1/loyalty/points/adjust": B, "GET /v1/loyalty/points/liability": R,
    "GET /v1/loyalty/points/entries/{entry_id}": C, "GET /v1/loyalty/customers/{customer_id}/points": C,
    "GET /v1/loyalty/customers/{customer_id}/points/entries": C,
    "GET /v1/loyalty/rules": R, "POST /v1/loyalty/rules": A, "PUT /v1/loyalty/rules/{rule_id}": A,
    "GET /v1/loyalty/tiers": R, "POST /v1/loyalty/tiers": A, "PUT /v1/loyalty/tiers/{tier_id}": A,
    "GET /v1/loyalty/customers/{customer_id}/tier": C, "GET /v1/loyalty/customers/{customer_id}/coupons": C,
    "GET /v1/loyalty/coupon-templates": R, "POST /v1/loyalty/coupon-templates": M,
    "PUT /v1/loyalty/coupon-templates/{coupon_template_id}": M,
    "GET /v1/loyalty/coupon-templates/{coupon_template_id}/stats": R,
    "POST /v1/loyalty/coupon-templates/{coupon_template_id}/issue": S,
    "POST /v1/loyalty/coupon-templates/{coupon_template_id}/issue-bulk": B,
    "GET /v1/loyalty/coupons/{coupon_id}": C, "POST /v1/loyalty/coupons/{coupon_id}/redeem": S,
    "GET /v1/loyalty/tasks": R, "POST /v1/loyalty/tasks": M, "POST /v1/loyalty/tasks/{task_id}/submissions": S,
    "GET /v1/loyalty/submissions": P, "POST /v1/loyalty/submissions/{submission_id}/review": B,
    "GET /v1/loyalty/submissions/{submission_id}/image": P,
    # lifecycle
    "GET /v1/lifecycle/settings": R, "PUT /v1/lifecycle/settings": M, "POST /v1/lifecycle/compute": M,
    "GET /v1/lifecycle/overview": R, "GET /v1/lifecycle/model": R,
    # analytics
    "GET /v1/analytics/dashboard": R, "GET /v1/analytics/customers": P, "POST /v1/analytics/segments": M,
    "POST /v1/analytics/funnels": R, "POST /v1/analytics/funnels/customers": P,
    "POST /v1/analytics/funnels/segments": M, "POST /v1/analytics/retention": R, "POST /v1/analytics/repurchase": R,
    "GET /v1/analytics/acquisition": R, "GET /v1/analytics/pond-health": R, "POST /v1/analytics/reports": M,
    "GET /v1/analytics/reports": R, "GET /v1/analytics/reports/pinned/headlines": R,
    "PATCH /v1/analytics/reports/{report_id}": M, "DELETE /v1/analytics/reports/{report_id}": M,
    "GET /v1/analytics/cross-sell": R, "POST /v1/analytics/cross-sell/segments": M,
    "GET /v1/analytics/category-fit": R,
    # journeys
    "GET /v1/journeys": R, "POST /v1/journeys": M, "GET /v1/journeys/{journey_id}": R,
    "PATCH /v1/journeys/{journey_id}": M, "GET /v1/journeys/{journey_id}/versions": R,
    "POST /v1/journeys/{journey_id}/publish": M, "POST /v1/journeys/{journey_id}/pause": M,
    "POST /v1/journeys/{journey_id}/resume": M, "POST /v1/journeys/{journey_id}/stop": M,
    "GET /v1/journeys/{journey_id}/counts": R, "GET /v1/journeys/{journey_id}/enrolments": P,
    "POST /v1/journeys/{journey_id}/enrolments": S, "GET /v1/journeys/enrolments/{enrolment_id}": C,
    "POST /v1/journeys/enrolments/{enrolment_id}/replay": M,
    # webhooks for Yutang's own events (owners)
    "GET /v1/webhooks/event-types": R, "GET /v1/webhooks/endpoints": A, "POST /v1/webhooks/endpoints": A,
    "GET /v1/webhooks/endpoints/{endpoint_id}": A, "PATCH /v1/webhooks/endpoints/{endpoint_id}": A,
    "DELETE /v1/webhooks/endpoints/{endpoint_id}": A, "POST /v1/webhooks/endpoints/{endpoint_id}/rotate-secret": A,
    "GET /v1/webhooks/endpoints/{endpoint_id}/deliveries": A, "GET /v1/webhooks/deliveries/{delivery_id}": A,
    "POST /v1/webhooks/deliveries/{delivery_id}/replay": A,
    # stores and staff
    "GET /v1/stores": R, "POST /v1/stores": M, "GET /v1/stores/{store_id}": R, "PATCH /v1/stores/{store_id}": M,
    "GET /v1/stores/staff": R, "POST /v1/stores/staff": M, "GET /v1/stores/staff/{staff_id}": R,
    "PATCH /v1/stores/staff/{staff_id}": M, "POST /v1/stores/staff/wecom-sync": M,
    "POST /v1/stores/staff/{staff_id}/leave": M,
    "GET /v1/stores/ownership/settings": R, "PUT /v1/stores/ownership/settings": M,
    "GET /v1/stores/owners/{customer_id}": C, "POST /v1/stores/owners/{customer_id}/claim": S,
    "POST /v1/stores/owners/{customer_id}/reassign": S,
    "GET /v1/stores/codes": R, "POST /v1/stores/codes": M, "GET /v1/stores/codes/{code_id}": R,
    "PATCH /v1/stores/codes/{code_id}": M, "DELETE /v1/stores/codes/{code_id}": M,
    "GET /v1/stores/codes/{code_id}/qr.png": R, "GET /v1/stores/codes/{code_id}/stats": R,
    "GET /v1/stores/handovers": R, "POST /v1/stores/handovers": M, "GET /v1/stores/handovers/{handover_id}": R,
    "POST /v1/stores/handovers/{handover_id}/sync": M, "POST /v1/stores/handovers/{handover_id}/send": M,
    "GET /v1/stores/tasks": C, "POST /v1/stores/tasks": S, "POST /v1/stores/tasks/send": S,
    "GET /v1/stores/tasks/{task_id}": C, "POST /v1/stores/tasks/{task_id}/done": S,
    "POST /v1/stores/tasks/{task_id}/cancel": S, "POST /v1/stores/tasks/{task_id}/sync": S,
    "GET /v1/stores/kpis": R, "POST /v1/stores/kpis/behavior-sync": M,
    # customer groups
    "POST /v1/groups/wecom-sync": M, "GET /v1/groups": R, "GET /v1/groups/customers/{customer_id}": C,
    "POST /v1/groups/statistics/pull": M, "GET /v1/groups/health": R, "GET /v1/groups/health/owners": R,
    "POST /v1/groups/{group_chat_id}/activity": M,
    "GET /v1/groups/codes": R, "POST /v1/groups/codes": M, "GET /v1/groups/codes/{group_code_id}": R,
    "DELETE /v1/groups/codes/{group_code_id}": M, "GET /v1/groups/codes/{group_code_id}/stats": R,
    "GET /v1/groups/{group_chat_id}": R, "GET /v1/groups/{group_chat_id}/members": C,
}
