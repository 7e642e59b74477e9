"""The default taxonomy of comment insights: ten aspect topics (sentiment is separate), each
with a few example phrases in several of our languages. Managers edit, add or retire topics
in the admin (Feedback → Topics); a topic already present (same slug) is left as it is."""

from __future__ import annotations

from typing import Any

from django.db import migrations

DEFAULT_TOPICS: list[tuple[str, str, str, list[str]]] = [
    (
        "delivery",
        "Delivery",
        "How fast the order arrived, tracking, courier punctuality, delivery slots.",
        [
            "The parcel arrived three days late",
            "Курьер опоздал на два часа",
            "Paczka przyszła następnego dnia, super",
            "物流太慢了，等了一个星期",
            "التوصيل كان سريع جدا",
        ],
    ),
    (
        "packaging_damage",
        "Damaged item or packaging",
        "Item arrived broken, crushed box, leaking.",
        [
            "The box was crushed and the glass inside broken",
            "Коробка пришла мятая, крем протёк",
            "Kubek przyszedł stłuczony",
            "包装破了，东西也摔坏了",
        ],
    ),
    (
        "wrong_item",
        "Wrong or missing item",
        "Wrong size, colour or product sent, parts missing, incomplete order.",
        [
            "I ordered a medium and got an XL",
            "В заказе не хватало одной позиции",
            "Przyszedł zły kolor",
            "少发了一件，客服也不回",
            "وصلني منتج غير اللي طلبته",
        ],
    ),
    (
        "product_quality",
        "Product quality",
        "Defects, poor materials, not as described, broke after use — or praise of quality.",
        [
            "The zip broke after a week",
            "Качество ткани отличное",
            "Buty rozkleiły się po miesiącu",
            "质量很好，和描述一样",
        ],
    ),
    (
        "price_value",
        "Price and value",
        "Too expensive, hidden fees, discounts, value for money.",
        [
            "Too expensive for what you get",
            "Скрытая плата за доставку",
            "Dobra cena, polecam",
            "السعر مرتفع مقارنة بالجودة",
        ],
    ),
    (
        "staff",
        "Staff",
        "Friendliness, rudeness, competence of store staff or couriers.",
        [
            "The shop assistant was really helpful",
            "Продавец нагрубил",
            "Kurier był bardzo uprzejmy",
            "店员态度很差",
        ],
    ),
    (
        "customer_support",
        "Customer support",
        "Reaching support, response time, unresolved issues, helpful agent.",
        [
            "Nobody answers the support line",
            "Поддержка ответила только через неделю",
            "Konsultantka szybko rozwiązała problem",
            "客服很耐心，问题马上解决了",
            "خدمة العملاء ما ردت على الإيميل",
        ],
    ),
    (
        "website_app",
        "Website and app",
        "Ordering online, search, checkout, payment errors, app crashes.",
        [
            "The app crashes at checkout",
            "Не проходит оплата картой на сайте",
            "Strona się zawiesza przy płatności",
            "التطبيق يعلق عند الدفع",
        ],
    ),
    (
        "returns_refunds",
        "Returns and refunds",
        "Returning items, refund delays, exchange process.",
        [
            "Still waiting for my refund after a month",
            "Возврат оформили быстро",
            "Zwrot pieniędzy trwa wieki",
            "退货流程太复杂",
        ],
    ),
    (
        "stock_availability",
        "Stock and availability",
        "Out of stock, limited choice, items unavailable in store.",
        [
            "My size is always out of stock",
            "В магазине не было нужной модели",
            "Brak towaru w sklepie stacjonarnym",
            "المنتج غير متوفر في الفرع",
        ],
    ),
]


def create_topics(apps: Any, schema_editor: Any) -> None:
    Topic = apps.get_model("feedback", "Topic")
    for slug, name, description, examples in DEFAULT_TOPICS:
        if not Topic.objects.filter(slug=slug).exists() and not (
            Topic.objects.filter(name=name).exists()
        ):
            Topic.objects.create(slug=slug, name=name, description=description, examples=examples)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0024_dispatch_claims_and_message_ids")]

    operations = [migrations.RunPython(create_topics, migrations.RunPython.noop)]
