"""The dispute pages (included by ``registry.views.urls``): the member's, shared, the operator's."""

from django.urls import URLPattern, path

from registry.views import disputes, disputes_operator

urlpatterns: list[URLPattern] = [
    path("disputes/", disputes.dispute_home, name="dispute-home"),
    path("disputes/inbox/", disputes.dispute_inbox, name="dispute-inbox"),
    path("disputes/filed/", disputes.dispute_filed_list, name="dispute-filed"),
    # The lookup result links here with ?id_type=&subject_hash= (registry.views.lookups).
    path("disputes/new/", disputes.dispute_new, name="member-dispute-new"),
    path("disputes/<int:dispute_id>/", disputes.dispute_detail, name="dispute-detail"),
    path(
        "disputes/<int:dispute_id>/items/<int:item_id>/answer/",
        disputes.dispute_item_answer,
        name="dispute-item-answer",
    ),
    path("disputes/<int:dispute_id>/evidence/", disputes.dispute_evidence_add_view, name="dispute-evidence-add"),
    path(
        "disputes/<int:dispute_id>/evidence/<int:evidence_id>/",
        disputes.dispute_evidence_file,
        name="dispute-evidence-file",
    ),
    path("disputes/<int:dispute_id>/escalate/", disputes.dispute_escalate_view, name="dispute-escalate"),
    path("notifications/", disputes.notification_list, name="notification-list"),
    path("notifications/<int:notification_id>/read/", disputes.notification_read, name="notification-read"),
    # The operator's.
    path("disputes/all/", disputes_operator.operator_dispute_list_view, name="operator-dispute-list"),
    path("disputes/arbitration/", disputes_operator.arbitration_queue_view, name="dispute-arbitration-queue"),
    path(
        "disputes/<int:dispute_id>/items/<int:item_id>/arbitrate/",
        disputes_operator.dispute_arbitrate_view,
        name="dispute-arbitrate",
    ),
    path("disputes/statistics/", disputes_operator.dispute_statistics_view, name="dispute-statistics"),
    path("relist-blocks/lift/", disputes_operator.relist_block_lift_view, name="relist-block-lift"),
]
