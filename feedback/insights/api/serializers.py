"""The API's shapes of the taxonomy and of the analyze command."""

from __future__ import annotations

from rest_framework import serializers

from cxcrm.api.views import NulFreeCharField, SingleLineCharField, StrictBooleanField
from feedback.insights.models import Topic
from feedback.insights.services import MAX_EXAMPLE_CHARS, MAX_EXAMPLES

MAX_TEXTS = 50
MAX_TEXT_CHARS = 5000


class StrictText(NulFreeCharField):
    """Text only: DRF's CharField would take the number 0 as "0"."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Not a string.")
        return super().to_internal_value(data)


class StrictLine(StrictText, SingleLineCharField):
    pass


class StrictSlug(serializers.SlugField):
    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Not a string.")
        return super().to_internal_value(data)


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["id", "slug", "name", "description", "examples", "active"]
        read_only_fields = fields


class TopicWriteSerializer(serializers.Serializer):
    """POST /insights/topics/: create the topic with this slug or update the fields sent (a
    new one needs a name; names are unique). PATCH takes the same fields, slug included."""

    slug = StrictSlug(max_length=80)
    name = StrictLine(max_length=80, required=False)
    description = StrictText(max_length=2000, required=False, allow_blank=True)
    examples = serializers.ListField(
        child=StrictLine(max_length=MAX_EXAMPLE_CHARS),
        max_length=MAX_EXAMPLES,
        required=False,
        help_text="Short phrases in any language, how customers say it.",
    )
    active = StrictBooleanField(required=False)


class TopicUpdateSerializer(TopicWriteSerializer):
    slug = StrictSlug(max_length=80, required=False)


def _encodable(text: str) -> None:
    # JSON may carry a lone surrogate ("\ud800"): no model can read it, so it is bad input.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Texts must be valid Unicode.") from None


class AnalyzeSerializer(serializers.Serializer):
    texts = serializers.ListField(
        child=StrictText(max_length=MAX_TEXT_CHARS, trim_whitespace=False, validators=[_encodable]),
        min_length=1,
        max_length=MAX_TEXTS,
        help_text=f"1 to {MAX_TEXTS} texts of at most {MAX_TEXT_CHARS} characters each.",
    )


class TopicFoundSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    confidence = serializers.FloatField()


class AnalysisSerializer(serializers.Serializer):
    language = serializers.CharField(help_text="en, ru, pl, zh-hans, ar, or another code.")
    topics = TopicFoundSerializer(many=True, help_text="0-2 topics, best first.")
    sentiment = serializers.ChoiceField(choices=["negative", "neutral", "positive"])
    sentiment_confidence = serializers.FloatField()


class AnalyzeResultSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    results = AnalysisSerializer(many=True, help_text="One per text, in the order sent.")
