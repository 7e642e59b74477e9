from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        # Connect the signal receivers: anymail's events, the webhook platform's, the other
        # apps' (privacy, consent, new interactions) and those between the parts.
        # Insights' erasure first: it finds a customer's unmatched mail by the sender's
        # address, which the inbound part's erasure then blanks.
        from feedback.insights import privacy as insights_privacy  # noqa: F401

        # isort: split
        from feedback.inbound import privacy as inbound_privacy  # noqa: F401
        from feedback.inbound import receivers as inbound_receivers  # noqa: F401
        from feedback.insights import receivers as insights_receivers  # noqa: F401
        from feedback.reporting import receivers as reporting_receivers  # noqa: F401
        from feedback.surveys import privacy as surveys_privacy  # noqa: F401
        from feedback.surveys import receivers as surveys_receivers  # noqa: F401
        from feedback.tickets import privacy as tickets_privacy  # noqa: F401
        from feedback.tickets import receivers as tickets_receivers  # noqa: F401
