"""Reference data for the demo: touchpoints, survey texts in five languages, comments, names.

The texts are real Cyrillic, Chinese and Arabic, not look-alike characters."""

from __future__ import annotations

import random
import unicodedata
from datetime import timedelta

from feedback.surveys.scoring import SurveyKind
from touchpoints.models import Channel, JourneyStage, Ownership  # noqa: F401

# --- Reference data ---------------------------------------------------------------------------

STAFF = (("alice", "Alice", "Martin"), ("bob", "Bob", "Novak"), ("chen", "Chen", "Wei"))

# slug, name, stage, channel, ownership, owner team, owner (a demo agent) or "".
TOUCHPOINTS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("search-ads", "Search ads", "discovery", "advertising", "partner", "Marketing", ""),
    ("social-media", "Social media", "discovery", "social", "social", "Marketing", ""),
    ("review-sites", "Review sites", "discovery", "social", "social", "Marketing", ""),
    ("product-page", "Product page", "engagement", "web", "brand", "E-commerce", ""),
    ("newsletter", "Newsletter", "engagement", "email", "brand", "CRM", ""),
    ("store-visit", "Store visit", "engagement", "store", "brand", "Retail", ""),
    ("checkout", "Checkout", "order", "web", "brand", "E-commerce", "chen"),
    ("store-checkout", "Store checkout", "order", "store", "brand", "Retail", ""),
    ("card-payment", "Card payment", "payment", "web", "partner", "Finance", ""),
    ("invoice-billing", "Invoice & billing", "payment", "email", "brand", "Finance", ""),
    ("home-delivery", "Home delivery", "usage", "delivery", "partner", "Logistics", "alice"),
    ("packaging", "Packaging", "usage", "packaging", "brand", "Logistics", ""),
    ("mobile-app", "Mobile app", "usage", "mobile_app", "brand", "Digital", ""),
    ("click-collect", "Click & collect", "usage", "store", "brand", "Retail", ""),
    ("support-call", "Support call", "support", "phone", "brand", "Customer care", "bob"),
    ("live-chat", "Live chat", "support", "chat", "brand", "Customer care", "bob"),
    ("returns", "Returns & refunds", "support", "web", "brand", "Customer care", ""),
    ("help-center", "Help center", "support", "web", "customer", "Customer care", ""),
)

# name, kind, trigger stage, trigger touchpoints, delay after the interaction, contact
# frequency days. NPS asks a customer at most every two weeks; CSAT and CES are transactional
# (every delivery, every support contact) and so waive the frequency rule.
SURVEYS: tuple[tuple[str, str, str, tuple[str, ...], timedelta, int], ...] = (
    ("NPS after purchase", SurveyKind.NPS, JourneyStage.ORDER, (), timedelta(days=3), 14),
    (
        "CSAT after delivery",
        SurveyKind.CSAT,
        "",
        ("home-delivery", "packaging", "mobile-app", "click-collect"),
        timedelta(hours=2),
        0,
    ),
    ("CES after support", SurveyKind.CES, JourneyStage.SUPPORT, (), timedelta(hours=1), 0),
)

# name: (description, the agent's internal note, the resolution).
ROOT_CAUSES: dict[str, tuple[str, str, str]] = {
    "Late delivery": (
        "The order arrived after the promised date.",
        "Carrier confirms the parcel sat at the regional depot for two days.",
        "Apologised, refunded the delivery fee and raised the depot delay with the carrier.",
    ),
    "Damaged item": (
        "The item or its box arrived broken or damaged.",
        "Photos confirm transit damage; the outer box was too thin for glassware.",
        "Sent a replacement by express and filed a damage claim with the carrier.",
    ),
    "Rude staff": (
        "A courier, store or support colleague was impolite.",
        "Listened to the call recording: the tone was not acceptable.",
        "Apologised personally; shared the case with the team lead for coaching.",
    ),
    "Billing error": (
        "Wrong amount, double charge or a wrong invoice.",
        "Payment provider shows a duplicate authorisation for the order.",
        "Refunded the duplicate charge and sent a corrected invoice.",
    ),
    "Website bug": (
        "The website or the app did not work as it should.",
        "Reproduced on the current app version: the known session time-out issue.",
        "Explained the workaround; the app team shipped the fix in the next release.",
    ),
    "Product quality": (
        "The product did not meet expectations.",
        "Quality issue logged against the supplier batch.",
        "Issued a full refund and a 15% voucher for the next order.",
    ),
    "Long wait time": (
        "The customer waited too long for an answer or a service.",
        "The queue peaked after the promotion email; the average wait was 35 minutes.",
        "Apologised and added a voucher; staffing for promotion days is being reviewed.",
    ),
}

# The likely root causes of an unhappy answer at a touchpoint, with weights.
CAUSES_BY_TOUCHPOINT: dict[str, tuple[tuple[str, int], ...]] = {
    "home-delivery": (("Late delivery", 6), ("Damaged item", 3), ("Rude staff", 1)),
    "packaging": (("Damaged item", 7), ("Product quality", 3)),
    "mobile-app": (("Website bug", 8), ("Long wait time", 2)),
    "click-collect": (("Long wait time", 6), ("Rude staff", 3), ("Product quality", 1)),
    "store-checkout": (("Long wait time", 5), ("Rude staff", 3), ("Product quality", 2)),
    "checkout": (
        ("Late delivery", 3),
        ("Product quality", 3),
        ("Website bug", 2),
        ("Billing error", 2),
        ("Damaged item", 2),
    ),
    "support-call": (("Long wait time", 5), ("Rude staff", 3), ("Billing error", 2)),
    "live-chat": (("Long wait time", 5), ("Website bug", 2), ("Rude staff", 1)),
    "returns": (("Billing error", 5), ("Long wait time", 3)),
    "help-center": (("Website bug", 5), ("Long wait time", 3)),
}


def _blocks(text: str) -> dict[str, dict[str, list[str]]]:
    """Parse ``section`` lines followed by indented ``lang text`` lines (one string a line)."""
    table: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for line in text.strip().splitlines():
        if not line.startswith(" "):
            section = table.setdefault(line.strip(), {})
        elif line.strip():
            language, _, value = line.strip().partition(" ")
            section.setdefault(language, []).append(value)
    return table


# Survey texts: subject, question, then the follow-up of each category from unhappy to happy.
SURVEY_TEXT_BLOCKS = _blocks("""
nps
  en A quick question about your order
  en How likely are you to recommend us to a friend or colleague?
  en We're sorry to hear that. What went wrong?
  en Thank you! What would make it a 10 for you?
  en Thank you! What did you like most?
  ru Короткий вопрос о вашем заказе
  ru Насколько вероятно, что вы порекомендуете нас другу или коллеге?
  ru Нам жаль это слышать. Что пошло не так?
  ru Спасибо! Что нам сделать, чтобы заслужить от вас 10?
  ru Спасибо! Что вам понравилось больше всего?
  pl Krótkie pytanie o Twoje zamówienie
  pl Jak bardzo prawdopodobne jest, że polecisz nas znajomemu lub współpracownikowi?
  pl Przykro nam to słyszeć. Co poszło nie tak?
  pl Dziękujemy! Co moglibyśmy zrobić, aby zasłużyć na 10?
  pl Dziękujemy! Co podobało Ci się najbardziej?
  zh-hans 关于您订单的一个小问题
  zh-hans 您有多大可能向朋友或同事推荐我们？
  zh-hans 很抱歉给您带来不好的体验。请问哪里出了问题？
  zh-hans 谢谢！我们怎样做才能让您打10分？
  zh-hans 谢谢！您最喜欢哪一点？
  ar سؤال سريع عن طلبك
  ar ما مدى احتمال أن توصي بنا لصديق أو زميل؟
  ar يؤسفنا سماع ذلك. ما الذي لم يسر على ما يرام؟
  ar شكرًا لك! ما الذي يمكننا فعله لنستحق منك 10؟
  ar شكرًا لك! ما الذي أعجبك أكثر؟
csat
  en How was your delivery?
  en How satisfied are you with your recent delivery and experience with us?
  en We're sorry. What should we have done better?
  en Thank you. What could we improve?
  en Great to hear! What did we get right?
  ru Как прошла доставка?
  ru Насколько вы довольны недавней доставкой и обслуживанием?
  ru Нам очень жаль. Что нам следовало сделать лучше?
  ru Спасибо. Что мы могли бы улучшить?
  ru Рады это слышать! Что вам особенно понравилось?
  pl Jak przebiegła dostawa?
  pl Jak oceniasz ostatnią dostawę i obsługę?
  pl Przepraszamy. Co powinniśmy byli zrobić lepiej?
  pl Dziękujemy. Co moglibyśmy poprawić?
  pl Miło nam to słyszeć! Co szczególnie Ci się spodobało?
  zh-hans 您对这次配送满意吗？
  zh-hans 您对最近一次的配送和服务有多满意？
  zh-hans 非常抱歉。我们哪里应该做得更好？
  zh-hans 谢谢。我们还可以改进哪些方面？
  zh-hans 很高兴听到这个！您最满意的是哪一点？
  ar كيف كانت تجربة التوصيل؟
  ar ما مدى رضاك عن التوصيل الأخير وتجربتك معنا؟
  ar نعتذر عن ذلك. ما الذي كان ينبغي أن نفعله بشكل أفضل؟
  ar شكرًا لك. ما الذي يمكننا تحسينه؟
  ar يسعدنا سماع ذلك! ما الذي أعجبك تحديدًا؟
ces
  en Did we make it easy for you?
  en How easy was it to get the help you needed?
  en Sorry it was hard work. What got in the way?
  en Thank you. What would have made it easier?
  en Glad it was easy! What helped most?
  ru Легко ли было получить помощь?
  ru Насколько легко вам было получить нужную помощь?
  ru Жаль, что это оказалось непросто. Что вам помешало?
  ru Спасибо. Что сделало бы это проще?
  ru Рады, что всё было просто! Что помогло больше всего?
  pl Czy łatwo było uzyskać pomoc?
  pl Jak łatwo było uzyskać potrzebną pomoc?
  pl Przykro nam, że było trudno. Co stanęło na przeszkodzie?
  pl Dziękujemy. Co ułatwiłoby sprawę?
  pl Cieszymy się, że poszło łatwo! Co pomogło najbardziej?
  zh-hans 获得帮助容易吗？
  zh-hans 获得您所需的帮助有多容易？
  zh-hans 很抱歉让您费心了。是什么造成了困难？
  zh-hans 谢谢。怎样能让过程更简单？
  zh-hans 很高兴一切顺利！哪一点对您帮助最大？
  ar هل كان الحصول على المساعدة سهلًا؟
  ar ما مدى سهولة حصولك على المساعدة التي احتجتها؟
  ar نأسف لأن الأمر كان صعبًا. ما الذي أعاقك؟
  ar شكرًا لك. ما الذي كان سيجعل الأمر أسهل؟
  ar يسعدنا أن الأمر كان سهلًا! ما الذي ساعدك أكثر؟
""")

# Comments, in the customer's language: unhappy ones by root cause, the others by
# "sentiment topic" (topic: purchase for NPS, delivery or app for CSAT, support for CES).
COMMENTS = _blocks("""
Late delivery
  en The parcel arrived four days late and nobody told me why.
  en Delivery was promised for Tuesday and came on Friday. I stayed home twice for nothing.
  ru Посылка пришла на четыре дня позже, и никто не объяснил почему.
  ru Доставку обещали во вторник, а привезли только в пятницу. Дважды ждали дома зря.
  pl Paczka dotarła cztery dni później i nikt nie wyjaśnił dlaczego.
  pl Dostawa miała być we wtorek, a przyszła dopiero w piątek. Dwa razy czekaliśmy na próżno.
  zh-hans 包裹晚到了四天，也没有人解释原因。
  zh-hans 说好周二送到，结果周五才到，我白白在家等了两次。
  ar وصل الطرد متأخرًا أربعة أيام ولم يشرح لي أحد السبب.
  ar وعدوني بالتوصيل يوم الثلاثاء لكنه وصل يوم الجمعة، وانتظرت في البيت مرتين بلا فائدة.
  en Tracking said "out for delivery" for three days straight. Still waiting.
  en Paid for next-day shipping and it took a week. Want my delivery fee back.
  ru Трек-номер три дня показывал «передано курьеру», а посылки всё нет.
  ru Заплатил за доставку на следующий день, а ждал неделю. Верните деньги за доставку.
  pl Śledzenie przez trzy dni pokazywało „w doręczeniu”, a paczki dalej nie ma.
  pl Zapłaciłem za dostawę na następny dzień, a czekałem tydzień. Proszę o zwrot za przesyłkę.
  zh-hans 物流显示“派送中”整整三天，到现在还没收到。
  zh-hans 付了次日达的运费，结果等了一个星期，运费应该退给我。
  ar التتبع يقول "خرج للتوصيل" منذ ثلاثة أيام وما زلت أنتظر.
  ar دفعت رسوم التوصيل في اليوم التالي ووصل بعد أسبوع، أريد استرجاع رسوم الشحن.
Damaged item
  en The box was crushed and the item inside was broken.
  en One of the glasses arrived cracked. The packaging was far too thin.
  ru Коробка была смята, а товар внутри сломан.
  ru Один из бокалов пришёл треснутым. Упаковка слишком тонкая.
  pl Karton był zgnieciony, a produkt w środku uszkodzony.
  pl Jedna ze szklanek przyszła pęknięta. Opakowanie było zdecydowanie za cienkie.
  zh-hans 箱子被压扁了，里面的商品也坏了。
  zh-hans 其中一个杯子到货时已经裂了，包装太薄了。
  ar كانت العلبة مهروسة والمنتج بداخلها مكسورًا.
  ar وصل أحد الأكواب مشروخًا، والتغليف كان رقيقًا جدًا.
  en The screen had a scratch right out of the box, clearly not new.
  en Half the bottles leaked all over the rest of the order.
  ru На экране царапина прямо из коробки — явно не новый.
  ru Половина бутылок протекла и залила весь остальной заказ.
  pl Ekran był porysowany od razu po wyjęciu z pudełka, na pewno nie nowy.
  pl Połowa butelek się wylała i zalała resztę zamówienia.
  zh-hans 一开箱屏幕上就有划痕，明显不是新品。
  zh-hans 一半的瓶子漏了，把订单里别的东西都弄湿了。
  ar الشاشة فيها خدش من أول ما فتحت العلبة، واضح أنها ليست جديدة.
  ar نصف الزجاجات تسربت وأغرقت بقية الطلب.
Rude staff
  en The courier was rude and just dropped the parcel at my door.
  en The person on the phone was dismissive and hung up on me.
  ru Курьер нагрубил и просто бросил посылку у двери.
  ru Оператор разговаривал пренебрежительно и бросил трубку.
  pl Kurier był niemiły i po prostu rzucił paczkę pod drzwi.
  pl Konsultant przez telefon mnie zbył i się rozłączył.
  zh-hans 快递员态度很差，直接把包裹扔在门口。
  zh-hans 电话客服态度敷衍，还直接挂了我的电话。
  ar كان المندوب فظًا ورمى الطرد أمام الباب.
  ar كان موظف خدمة العملاء غير مبالٍ وأغلق الخط في وجهي.
  en The cashier rolled her eyes when I asked about the discount.
  en Your chat agent told me it was "not their problem". Unbelievable.
  ru Кассир закатила глаза, когда я спросила про скидку.
  ru Оператор в чате ответил, что это «не их проблема». Просто нет слов.
  pl Kasjerka przewróciła oczami, kiedy zapytałam o rabat.
  pl Konsultant na czacie napisał, że to „nie jego problem”. Szok.
  zh-hans 我问了一句折扣，收银员就翻白眼。
  zh-hans 在线客服居然说“这不是我们的问题”，太离谱了。
  ar الكاشيرة تأففت عندما سألتها عن الخصم.
  ar موظف المحادثة قال لي "هذه ليست مشكلتنا". شيء لا يصدق.
Billing error
  en I was charged twice for the same order.
  en The invoice shows a different price from the one at checkout.
  ru С меня дважды списали деньги за один и тот же заказ.
  ru В счёте указана другая цена, чем при оформлении заказа.
  pl Za to samo zamówienie pobrano ode mnie opłatę dwa razy.
  pl Na fakturze jest inna cena niż przy składaniu zamówienia.
  zh-hans 同一个订单被扣了两次款。
  zh-hans 发票上的价格和下单时显示的不一样。
  ar تم خصم المبلغ مرتين على نفس الطلب.
  ar الفاتورة تُظهر سعرًا مختلفًا عن السعر عند إتمام الطلب.
  en Returned the item three weeks ago and the refund still hasn't arrived.
  en The promo code was accepted but the discount never showed up on my card.
  ru Вернул товар три недели назад, а деньги до сих пор не пришли.
  ru Промокод приняли, но скидка так и не списалась с карты.
  pl Zwróciłam towar trzy tygodnie temu, a pieniędzy wciąż nie ma.
  pl Kod rabatowy przeszedł, ale na karcie pobrano pełną kwotę.
  zh-hans 三周前就退货了，退款到现在还没到账。
  zh-hans 优惠码显示用上了，可信用卡上扣的还是原价。
  ar أرجعت المنتج قبل ثلاثة أسابيع وحتى الآن لم يصلني المبلغ.
  ar قُبل كود الخصم لكن البطاقة خُصم منها المبلغ كاملًا.
Website bug
  en The payment page kept freezing; it took three attempts.
  en The app logs me out every time I open order tracking.
  ru Страница оплаты постоянно зависала, получилось только с третьей попытки.
  ru Приложение выкидывает из аккаунта каждый раз, когда я открываю отслеживание заказа.
  pl Strona płatności ciągle się zawieszała, udało się dopiero za trzecim razem.
  pl Aplikacja wylogowuje mnie za każdym razem, gdy otwieram śledzenie zamówienia.
  zh-hans 支付页面一直卡住，试了三次才成功。
  zh-hans 每次打开订单跟踪，应用都会把我退出登录。
  ar صفحة الدفع كانت تتجمد باستمرار، ولم تنجح العملية إلا في المحاولة الثالثة.
  ar التطبيق يسجّل خروجي في كل مرة أفتح فيها تتبع الطلب.
  en The app crashes as soon as I tap "Pay". Tried twice, same thing.
  en Couldn't add anything to the basket on Safari, had to switch to my laptop.
  ru Приложение вылетает, как только нажимаю «Оплатить». Пробовал дважды.
  ru В Safari товары не добавлялись в корзину, пришлось садиться за ноутбук.
  pl Aplikacja się wysypuje, gdy tylko kliknę „Zapłać”. Dwa razy to samo.
  pl W Safari nie dało się nic dodać do koszyka, musiałem przejść na laptopa.
  zh-hans 一点“支付”应用就闪退，试了两次都一样。
  zh-hans 用Safari怎么都加不进购物车，只好换电脑下单。
  ar التطبيق يتوقف فجأة بمجرد الضغط على "ادفع"، جربت مرتين ونفس الشيء.
  ar لم أستطع إضافة أي شيء إلى السلة من سفاري واضطررت لاستخدام الحاسوب.
Product quality
  en The jacket started falling apart after two washes.
  en Looks nothing like the photos and feels cheap.
  ru Куртка начала расползаться после двух стирок.
  ru Совсем не похоже на фото, выглядит дёшево.
  pl Kurtka zaczęła się rozpadać po dwóch praniach.
  pl Zupełnie nie przypomina zdjęć i wygląda tandetnie.
  zh-hans 夹克洗了两次就开始开线了。
  zh-hans 和图片完全不一样，质感很廉价。
  ar بدأت السترة تتلف بعد غسلتين فقط.
  ar لا يشبه الصور إطلاقًا ويبدو رخيصًا.
  en For this price I expected much better. The zip broke in a week.
  en Twice as expensive as last year and the quality has gone down.
  ru За такие деньги ожидала гораздо лучшего. Молния сломалась через неделю.
  ru В два раза дороже, чем в прошлом году, а качество стало хуже.
  pl Za tę cenę spodziewałam się czegoś lepszego. Zamek zepsuł się po tygodniu.
  pl Dwa razy drożej niż rok temu, a jakość wyraźnie gorsza.
  zh-hans 这个价格本以为质量会好很多，结果拉链一周就坏了。
  zh-hans 比去年贵了一倍，质量反而下降了。
  ar توقعت جودة أفضل بكثير بهذا السعر، السحّاب انكسر بعد أسبوع.
  ar السعر ضعف العام الماضي والجودة صارت أسوأ.
Long wait time
  en I waited 40 minutes on hold before anyone answered.
  en Three days to get a reply in the chat. Far too slow.
  ru Пришлось ждать на линии 40 минут, прежде чем кто-то ответил.
  ru Ответа в чате пришлось ждать три дня. Слишком долго.
  pl Na połączenie z konsultantem trzeba było czekać 40 minut.
  pl Na odpowiedź na czacie trzeba było czekać trzy dni. Zdecydowanie za długo.
  zh-hans 我在电话里等了40分钟才有人接听。
  zh-hans 在线客服三天后才回复，太慢了。
  ar انتظرت على الخط 40 دقيقة قبل أن يرد أحد.
  ar استغرق الرد في المحادثة ثلاثة أيام. هذا بطيء جدًا.
  en Queued for 25 minutes at click & collect with only one person serving.
  en Sent two emails about my return and heard nothing for a week.
  ru Простоял 25 минут в пункте выдачи, а работал всего один сотрудник.
  ru Написал два письма по поводу возврата — неделю тишина.
  pl Stałem 25 minut w kolejce po odbiór, a obsługiwała tylko jedna osoba.
  pl Wysłałem dwa maile w sprawie zwrotu i przez tydzień cisza.
  zh-hans 到店自提排了25分钟的队，只有一个店员在忙。
  zh-hans 关于退货发了两封邮件，一个星期都没人回。
  ar انتظرت 25 دقيقة في طابور الاستلام ولم يكن هناك إلا موظف واحد.
  ar أرسلت رسالتين بخصوص الإرجاع ولم يرد أحد طوال أسبوع.
good purchase
  en Great selection and a really smooth checkout.
  en Always reliable, I recommend you to all my friends.
  en Good prices and quick delivery, very happy.
  ru Отличный выбор и очень удобное оформление заказа.
  ru Всегда надёжно, советую вас всем друзьям.
  ru Хорошие цены и быстрая доставка, всё понравилось.
  pl Świetny wybór i bardzo wygodne zamawianie.
  pl Zawsze niezawodnie, polecam was wszystkim znajomym.
  pl Dobre ceny i szybka dostawa, wszystko super.
  zh-hans 商品种类丰富，结账流程也很顺畅。
  zh-hans 一直很靠谱，已经推荐给所有朋友了。
  zh-hans 价格实惠，发货又快，非常满意。
  ar تشكيلة رائعة وعملية شراء سلسة جدًا.
  ar موثوقون دائمًا، أنصح بكم جميع أصدقائي.
  ar أسعار جيدة وتوصيل سريع، تجربة ممتازة.
good delivery
  en Arrived a day early and perfectly packed.
  en The courier called ahead, very friendly.
  en Nice packaging, everything intact.
  ru Пришло на день раньше и было отлично упаковано.
  ru Курьер заранее позвонил, очень вежливый.
  ru Красивая упаковка, всё целое.
  pl Przyszło dzień wcześniej i było świetnie zapakowane.
  pl Kurier zadzwonił wcześniej, bardzo miły.
  pl Ładne opakowanie, wszystko w całości.
  zh-hans 提前一天到货，包装得很好。
  zh-hans 快递员提前打了电话，态度很好。
  zh-hans 包装很精美，东西完好无损。
  ar وصل قبل موعده بيوم وكان مغلفًا بإتقان.
  ar اتصل المندوب مسبقًا وكان لطيفًا جدًا.
  ar تغليف جميل وكل شيء سليم.
good app
  en The app is fast and tracking works perfectly.
  en Love the new app, reordering takes seconds.
  en Clear notifications at every step.
  ru Приложение быстрое, отслеживание работает идеально.
  ru Новое приложение отличное, повторный заказ за пару секунд.
  ru Понятные уведомления на каждом этапе.
  pl Aplikacja jest szybka, a śledzenie działa bez zarzutu.
  pl Nowa aplikacja jest świetna, ponowne zamówienie zajmuje sekundy.
  pl Jasne powiadomienia na każdym etapie.
  zh-hans 应用很流畅，物流跟踪也很准确。
  zh-hans 新版应用很好用，再次下单几秒就搞定。
  zh-hans 每一步都有清晰的通知。
  ar التطبيق سريع وتتبع الطلب يعمل بشكل ممتاز.
  ar التطبيق الجديد رائع، إعادة الطلب تستغرق ثواني.
  ar إشعارات واضحة في كل خطوة.
good support
  en Sorted in one call, thank you!
  en The chat agent fixed my problem in five minutes.
  en The refund came through the next day, very easy.
  ru Всё решили за один звонок, спасибо!
  ru Оператор в чате решил мою проблему за пять минут.
  ru Деньги вернули на следующий день, очень просто.
  pl Załatwione w jednej rozmowie, dziękuję!
  pl Konsultant na czacie rozwiązał mój problem w pięć minut.
  pl Zwrot pieniędzy dotarł następnego dnia, bardzo prosto.
  zh-hans 一个电话就解决了，谢谢！
  zh-hans 在线客服五分钟就解决了我的问题。
  zh-hans 第二天就收到了退款，非常方便。
  ar تم حل المشكلة في مكالمة واحدة، شكرًا!
  ar حلّ موظف المحادثة مشكلتي في خمس دقائق.
  ar وصل المبلغ المسترد في اليوم التالي، كان الأمر سهلًا جدًا.
neutral purchase
  en Fine overall, but the delivery options could be better.
  en Decent, though I found it cheaper elsewhere.
  ru В целом нормально, но вариантов доставки могло бы быть больше.
  ru Неплохо, хотя в другом месте нашлось дешевле.
  pl Ogólnie w porządku, ale opcje dostawy mogłyby być lepsze.
  pl Nieźle, choć gdzie indziej było taniej.
  zh-hans 总体还行，但配送选项可以更多一些。
  zh-hans 还不错，不过别家更便宜。
  ar جيد بشكل عام، لكن خيارات التوصيل يمكن أن تكون أفضل.
  ar لا بأس، مع أنني وجدته أرخص في مكان آخر.
neutral delivery
  en Arrived on time, nothing special.
  en OK, but the delivery window was very wide.
  ru Доставили вовремя, ничего особенного.
  ru Нормально, но интервал доставки слишком широкий.
  pl Dotarło na czas, nic szczególnego.
  pl OK, ale okno dostawy było bardzo szerokie.
  zh-hans 按时送到，没什么特别的。
  zh-hans 还行，就是配送时间段太宽了。
  ar وصل في الموعد، لا شيء مميز.
  ar لا بأس، لكن نافذة التوصيل كانت واسعة جدًا.
neutral app
  en Works, but the search could be smarter.
  en Fine, a bit slow on my older phone.
  ru Работает, но поиск мог бы быть умнее.
  ru Нормально, но на старом телефоне немного тормозит.
  pl Działa, ale wyszukiwarka mogłaby być lepsza.
  pl W porządku, trochę wolno działa na starszym telefonie.
  zh-hans 能用，但搜索功能可以更智能。
  zh-hans 还行，在我的旧手机上有点卡。
  ar يعمل، لكن البحث يمكن أن يكون أذكى.
  ar جيد، لكنه بطيء قليلًا على هاتفي القديم.
neutral support
  en Got there in the end, but I had to explain it twice.
  en The help article was OK, I still had to call.
  ru В итоге помогли, но пришлось объяснять дважды.
  ru Статья в справке немного помогла, но всё равно пришлось звонить.
  pl W końcu się udało, ale trzeba było wszystko tłumaczyć dwa razy.
  pl Artykuł pomocy był w porządku, ale i tak trzeba było zadzwonić.
  zh-hans 最后解决了，但我得把问题说两遍。
  zh-hans 帮助文章还可以，但最后还是得打电话。
  ar تم الحل في النهاية، لكن اضطررت لشرح المشكلة مرتين.
  ar مقالة المساعدة كانت مقبولة، لكنني اضطررت للاتصال مع ذلك.
""")

# Ticket messages by language; {name} the customer, {agent} the staff member, {order} the order.
STAFF_ASK = {
    "en": "Hello {name},\n\nThank you for your feedback, and I'm sorry we let you down. I'd "
    "like to put this right: could you send me your order number and, if possible, a photo?"
    "\n\nBest regards,\n{agent}\nCustomer Care",
    "ru": "Здравствуйте, {name}!\n\nСпасибо за отзыв, и простите, что подвели вас. Я хочу всё "
    "исправить: пришлите, пожалуйста, номер заказа и, если можно, фото.\n\nС уважением,\n"
    "{agent}\nСлужба поддержки",
    "pl": "Dzień dobry,\n\ndziękuję za opinię i przepraszam za kłopot. Chcę to naprawić: proszę "
    "przesłać numer zamówienia i, jeśli to możliwe, zdjęcie.\n\nPozdrawiam,\n{agent}\n"
    "Obsługa Klienta",
    "zh-hans": "{name}您好：\n\n感谢您的反馈，很抱歉让您失望了。我们希望尽快为您解决："
    "请提供您的订单号，如果方便的话再附上一张照片。\n\n此致\n{agent}\n客户服务部",
    "ar": "مرحبًا {name}،\n\nشكرًا على ملاحظاتك، ونعتذر عن هذه التجربة. نود إصلاح الأمر: "
    "هل يمكنك إرسال رقم الطلب وصورة إن أمكن؟\n\nمع أطيب التحيات،\n{agent}\nخدمة العملاء",
}
STAFF_RESOLVED = {
    "en": "Hello {name},\n\nThank you for your patience. We have looked into it and put things "
    "right; you will find the details in your account. If anything is still not right, just "
    "reply to this email.\n\nBest regards,\n{agent}",
    "ru": "Здравствуйте, {name}!\n\nСпасибо за терпение. Мы во всём разобрались и исправили "
    "ситуацию, подробности — в вашем личном кабинете. Если что-то всё ещё не так, просто "
    "ответьте на это письмо.\n\nС уважением,\n{agent}",
    "pl": "Dzień dobry,\n\ndziękuję za cierpliwość. Sprawdziliśmy sprawę i wszystko "
    "naprawiliśmy; szczegóły są na koncie klienta. Jeśli coś nadal jest nie tak, wystarczy "
    "odpowiedzieć na tę wiadomość.\n\nPozdrawiam,\n{agent}",
    "zh-hans": "{name}您好：\n\n感谢您的耐心等待。我们已经查明情况并妥善处理，详情请查看您的"
    "账户。如仍有问题，请直接回复此邮件。\n\n此致\n{agent}",
    "ar": "مرحبًا {name}،\n\nشكرًا على صبرك. لقد راجعنا الأمر وقمنا بتصحيحه، وستجد التفاصيل "
    "في حسابك. إذا كان هناك أي شيء لا يزال غير صحيح، فما عليك سوى الرد على هذه الرسالة."
    "\n\nمع أطيب التحيات،\n{agent}",
}
CUSTOMER_REPLY = {
    "en": "The order number is {order}. Photo attached.",
    "ru": "Номер заказа {order}, фото во вложении.",
    "pl": "Numer zamówienia to {order}, zdjęcie w załączniku.",
    "zh-hans": "订单号是{order}，照片已附上。",
    "ar": "رقم الطلب {order}، والصورة مرفقة.",
}
CALL_NOTE = "Called the customer: apologised and explained the next steps."
SEND_ERRORS = (
    "421 4.7.0 Try again later, closing connection.",
    "451 4.3.0 Mail server temporarily rejected message.",
    "SMTPServerDisconnected: Connection unexpectedly closed",
    "TimeoutError: timed out",
)

# --- People -------------------------------------------------------------------------------------
# Names as written in the language; "native/latin" where the script is not Latin; surnames
# "male/female(/latin)" where they inflect. Latin spellings make the e-mail addresses.
NAMES = _blocks("""
en
  en male Oliver Jack Harry George Noah James William Thomas Daniel Samuel Michael David
  en female Amelia Olivia Isla Ava Emily Sophie Grace Chloe Megan Lucy Emma Sarah
  en last Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Evans Clarke
ru
  ru male Александр/Aleksandr Дмитрий/Dmitry Максим/Maksim Сергей/Sergey Андрей/Andrey
  ru male Алексей/Aleksey Иван/Ivan Михаил/Mikhail Николай/Nikolay Павел/Pavel
  ru female Анна/Anna Мария/Maria Елена/Elena Ольга/Olga Наталья/Natalya Татьяна/Tatyana
  ru female Екатерина/Ekaterina Ирина/Irina Светлана/Svetlana Юлия/Yulia
  ru last Иванов/Иванова/Ivanov Смирнов/Смирнова/Smirnov Кузнецов/Кузнецова/Kuznetsov
  ru last Попов/Попова/Popov Волков/Волкова/Volkov Соколов/Соколова/Sokolov
  ru last Лебедев/Лебедева/Lebedev Козлов/Козлова/Kozlov Новиков/Новикова/Novikov
  ru last Морозов/Морозова/Morozov Петров/Петрова/Petrov Орлов/Орлова/Orlov
pl
  pl male Jan Piotr Krzysztof Andrzej Tomasz Paweł Michał Marcin Łukasz Jakub
  pl female Anna Katarzyna Małgorzata Agnieszka Barbara Ewa Magdalena Joanna Zofia Aleksandra
  pl last Nowak/Nowak Kowalski/Kowalska Wiśniewski/Wiśniewska Wójcik/Wójcik Mazur/Mazur
  pl last Kowalczyk/Kowalczyk Kamiński/Kamińska Lewandowski/Lewandowska Woźniak/Woźniak
  pl last Zieliński/Zielińska Szymański/Szymańska Dąbrowski/Dąbrowska
zh-hans
  zh-hans last 王/Wang 李/Li 张/Zhang 刘/Liu 陈/Chen 杨/Yang 黄/Huang 赵/Zhao 吴/Wu 周/Zhou
  zh-hans given 伟/Wei 芳/Fang 娜/Na 敏/Min 静/Jing 强/Qiang 磊/Lei 军/Jun 洋/Yang 艳/Yan
  zh-hans given 杰/Jie 涛/Tao 秀英/Xiuying 建华/Jianhua 晓明/Xiaoming 子涵/Zihan 雨桐/Yutong
ar
  ar male محمد/Mohammed أحمد/Ahmed علي/Ali عمر/Omar خالد/Khalid يوسف/Youssef حسن/Hassan
  ar male إبراهيم/Ibrahim طارق/Tariq سعيد/Saeed
  ar female فاطمة/Fatima مريم/Mariam نور/Nour سارة/Sara ليلى/Layla هدى/Huda آمنة/Amina
  ar female ريم/Reem سلمى/Salma ياسمين/Yasmin
  ar last العلي/Al-Ali الحسن/Al-Hassan المنصوري/Al-Mansouri الشمري/Al-Shammari حداد/Haddad
  ar last خوري/Khoury النجار/Al-Najjar السيد/El-Sayed القحطاني/Al-Qahtani منصور/Mansour
""")
# Per language: (country, currency, currency units per USD, weight).
PLACES: dict[str, tuple[tuple[str, str, float, int], ...]] = {
    "en": (("GB", "GBP", 0.79, 45), ("US", "USD", 1.0, 35), ("IE", "EUR", 0.92, 10),
           ("AU", "AUD", 1.5, 10)),
    "ru": (("RU", "RUB", 90.0, 60), ("KZ", "KZT", 480.0, 25), ("AM", "AMD", 390.0, 15)),
    "pl": (("PL", "PLN", 4.0, 100),),
    "zh-hans": (("CN", "CNY", 7.2, 70), ("SG", "SGD", 1.35, 30)),
    "ar": (("AE", "AED", 3.67, 40), ("SA", "SAR", 3.75, 30), ("EG", "EGP", 48.0, 15),
           ("JO", "JOD", 0.71, 15)),
}  # fmt: skip
LANGUAGE_WEIGHTS = (40, 15, 15, 15, 15)
SEGMENTS = (("consumer", 62), ("smb", 20), ("enterprise", 8), ("vip", 10))
# A basket in USD by segment: lognormal (mu, sigma); e^4 is about 55 dollars.
BASKETS = {"consumer": (4.0, 0.7), "smb": (5.8, 0.6), "enterprise": (7.3, 0.6), "vip": (5.3, 0.5)}
COMPANIES = (
    "Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Adventure Works",
    "Wingtip Toys", "Litware", "Proseware", "Coho Winery", "Lucerne Publishing",
)  # fmt: skip
MAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")


def _words(language: str, key: str) -> list[str]:
    return " ".join(
        v.partition(" ")[2] for v in NAMES[language][language] if v.startswith(key + " ")
    ).split()


def _ascii(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum())


def _person(rng: random.Random, language: str) -> tuple[str, str, str]:
    """A plausible (name as written in the language, latin given name, latin surname)."""
    if language == "zh-hans":
        family, family_latin = rng.choice(_words(language, "last")).split("/")
        given, given_latin = rng.choice(_words(language, "given")).split("/")
        return family + given, given_latin, family_latin
    female = rng.random() < 0.5
    first = rng.choice(_words(language, "female" if female else "male")).split("/")
    last = rng.choice(_words(language, "last")).split("/")
    if language == "en":
        return f"{first[0]} {last[0]}", first[0], last[0]
    if language == "pl":
        surname = last[1 if female else 0]
        return f"{first[0]} {surname}", first[0], surname
    if language == "ru":
        latin = last[2] + ("a" if female else "")
        return f"{first[0]} {last[1 if female else 0]}", first[1], latin
    return f"{first[0]} {last[0]}", first[1], last[1]  # ar
