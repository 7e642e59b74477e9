"""Back-office of saved replies: Managers keep the shared ones; anyone who may add one may
keep personal ones (owner set). Agents read them; the ticket page lists them in its picker."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feedback.surveys.admin import excerpt
from feedback.tickets.models import SavedReply
from feedback.tickets.saved_replies import (
    PLACEHOLDERS,
    saved_reply_body_validate,
    saved_reply_languages,
)


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["name", "language", "body", "owner"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8, "cols": 80, "dir": "auto"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A view-only user's form has no fields (the admin shows them read-only).
        if "language" in self.fields:
            self.fields["language"] = forms.ChoiceField(
                choices=saved_reply_languages(),
                initial=SavedReply.ANY_LANGUAGE,
                label=SavedReply._meta.get_field("language").verbose_name,
            )
        if "body" in self.fields:
            listed = "; ".join(f"{{{name}}} = {meaning}" for name, meaning in PLACEHOLDERS.items())
            self.fields["body"].help_text = gettext("Placeholders: %(list)s") % {"list": listed}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        saved_reply_body_validate(body)
        return body


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    form = SavedReplyForm
    list_display = ["name", "language", "owner", "body_excerpt", "updated_at"]
    list_filter = ["language", ("owner", admin.EmptyFieldListFilter)]
    list_select_related = ["owner"]
    search_fields = ["name", "body"]
    autocomplete_fields = ["owner"]
    fields = ["name", "language", "body", "owner", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("Body"))
    def body_excerpt(self, obj: SavedReply) -> str:
        return excerpt(obj.body)
