"""Each staff member's language and time zone: chosen on /admin/preferences/, applied to every
back-office page and to the emails sent to them.

Pages: the choice is copied into the session when the person signs in and when they save it,
and ``StaffLocaleMiddleware`` activates it from there; the session is read on every request
anyway, so a preference costs no query. Without a choice, Django's LocaleMiddleware follows
the browser (``Accept-Language``) and times show in the site's ``TIME_ZONE``.

Emails to staff: ``recipients_by_locale`` groups addresses by their owners' choices and
``staff_locale`` renders inside one of them.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cxcrm.models import StaffPreference

LANGUAGE_KEY = "cxcrm_staff_language"
TIME_ZONE_KEY = "cxcrm_staff_time_zone"


@dataclass(frozen=True)
class Locale:
    language: str
    time_zone: str


def default_locale() -> Locale:
    return Locale(settings.LANGUAGE_CODE, settings.TIME_ZONE)


@cache
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _known_language(code: str) -> bool:
    return code in {language for language, _name in settings.LANGUAGES}


def locale_of(preference: StaffPreference | None) -> Locale:
    """The locale emails to this person use: their choices, else the site's."""
    base = default_locale()
    if preference is None:
        return base
    language = preference.language if _known_language(preference.language) else base.language
    zone = preference.time_zone if preference.time_zone in time_zone_names() else base.time_zone
    return Locale(language, zone)


def recipients_by_locale(emails: Iterable[str]) -> list[tuple[Locale, list[str]]]:
    """The addresses grouped by the locale their staff accounts chose (one query); addresses
    that belong to no account get the site's locale. Groups keep the addresses' order."""
    addresses = [email for email in dict.fromkeys(emails) if email]
    if not addresses:
        return []
    users = (
        get_user_model()
        .objects.filter(email__in=addresses)
        .select_related("staff_preference")
        .order_by("pk")
    )
    by_email: dict[str, Locale] = {}
    for user in users:
        if user.email not in by_email:
            by_email[user.email] = locale_of(getattr(user, "staff_preference", None))
    groups: dict[Locale, list[str]] = {}
    for email in addresses:
        groups.setdefault(by_email.get(email, default_locale()), []).append(email)
    return list(groups.items())


@contextmanager
def staff_locale(locale: Locale) -> Iterator[None]:
    """Render (an email) in this language and time zone."""
    with (
        translation.override(locale.language),
        timezone.override(zoneinfo.ZoneInfo(locale.time_zone)),
    ):
        yield


# --- Pages ------------------------------------------------------------------------------------


def _remember(request: HttpRequest, preference: StaffPreference | None) -> None:
    """Copy the choice into the session (what the middleware reads)."""
    session = request.session
    for key, value in (
        (LANGUAGE_KEY, preference.language if preference else ""),
        (TIME_ZONE_KEY, preference.time_zone if preference else ""),
    ):
        if value:
            session[key] = value
        else:
            session.pop(key, None)


@receiver(user_logged_in, dispatch_uid="cxcrm.staff_prefs.remember")
def remember_on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    _remember(request, StaffPreference.objects.filter(user=user).first())


class StaffLocaleMiddleware:
    """Activates the signed-in staff member's language and time zone (from the session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        language = session.get(LANGUAGE_KEY) if session is not None else None
        zone = session.get(TIME_ZONE_KEY) if session is not None else None
        if language and _known_language(language):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        if zone and zone in time_zone_names():
            timezone.activate(zoneinfo.ZoneInfo(zone))
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()
        return self.get_response(request)


def _set_choices(form: forms.BaseForm) -> None:
    """The language and time-zone choices of both forms (the page and the admin's)."""
    blank = [("", _("(not chosen)"))]
    # Each language named in itself: a person who cannot read the current one finds theirs.
    form.fields["language"].choices = blank + list(settings.LANGUAGES)
    form.fields["time_zone"].choices = blank + [(name, name) for name in time_zone_names()]


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("Pages and the emails sent to you. Empty: your browser's language."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Dates and times on pages and in your emails. Empty: the site's time zone."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self)


@staff_member_required
def preferences(request: HttpRequest) -> HttpResponse:
    preference = StaffPreference.objects.filter(user=request.user).first()
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            preference, _created = StaffPreference.objects.update_or_create(
                user=request.user,
                defaults={
                    "language": form.cleaned_data["language"],
                    "time_zone": form.cleaned_data["time_zone"],
                },
            )
            _remember(request, preference)
            # Say it in the language just chosen (the redirect's page shows the message).
            language = preference.language or translation.get_language()
            with translation.override(language):
                messages.success(request, str(_("Your preferences were saved.")))
            return HttpResponseRedirect(request.path)
    else:
        initial = {
            "language": preference.language if preference else "",
            "time_zone": preference.time_zone if preference else "",
        }
        form = PreferenceForm(initial=initial)
    context = {
        **admin.site.each_context(request),
        "title": _("Language and time zone"),
        "form": form,
        "site_time_zone": settings.TIME_ZONE,
        "now": timezone.localtime(),
    }
    return TemplateResponse(request, "admin/staff_preferences.html", context)


# --- The admin: Admins set a colleague's choices (e.g. when inviting a team) -----------------


class StaffPreferenceAdminForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    class Meta:
        model = StaffPreference
        fields = ["user", "language", "time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self)


class StaffPreferenceAdmin(admin.ModelAdmin):
    form = StaffPreferenceAdminForm
    list_display = ["user", "language", "time_zone"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    ordering = ["user__username"]
