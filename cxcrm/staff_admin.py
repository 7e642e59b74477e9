"""Staff accounts in the admin: invite by email with a set-password link, show MFA status."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ResetPasswordForm
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cxcrm.staff_prefs import recipients_by_locale, staff_locale

User = get_user_model()


def staff_invite(*, user: Any, request: HttpRequest) -> bool:
    """Email the user a link to set their password (allauth's reset flow: the link is signed,
    single-use and expires), in the invitee's language (their preference, if an Admin set it;
    else the site's), not the inviting Admin's. Users without an email address cannot be
    invited."""
    if not user.email or not user.is_active:
        return False
    form = ResetPasswordForm(data={"email": user.email})
    if not form.is_valid():
        return False
    for locale, _emails in recipients_by_locale([user.email]):
        with staff_locale(locale):
            form.save(request)
    return True


class StaffUserAdmin(UserAdmin):
    actions = ["invite_by_email"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
                "description": _(
                    "Leave the password unusable and use “Invite by email” to let "
                    "the person choose their own."
                ),
            },
        ),
    )

    @admin.action(description=_("Invite by email (set-password link)"), permissions=["change"])
    def invite_by_email(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        sent = sum(staff_invite(user=user, request=request) for user in queryset)
        skipped = queryset.count() - sent
        text = ngettext("Sent %(count)d invitation.", "Sent %(count)d invitations.", sent) % {
            "count": sent
        }
        if skipped:
            text += " " + ngettext(
                "%(count)d skipped: no email address, or inactive.",
                "%(count)d skipped: no email address, or inactive.",
                skipped,
            ) % {"count": skipped}
        self.message_user(request, text, messages.SUCCESS if sent else messages.WARNING)


def register() -> None:
    if admin.site.is_registered(User):
        admin.site.unregister(User)
    admin.site.register(User, StaffUserAdmin)
