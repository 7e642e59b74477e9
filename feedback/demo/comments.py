"""The demo's comment bank beyond data.COMMENTS: the delivery wave of the last SURGE_DAYS at
home delivery (a new courier partner whose depot jams), complaints about themes the root
causes do not name (wrong or missing items, stock, returns), and the customers' replies on
their tickets. Written for the demo in each language (not the labelled set: that is the
bench's, and the demo must not teach the model its own test)."""

from __future__ import annotations

from feedback.demo.data import _blocks

# The wave: where, for how long, and how much worse the answers get meanwhile.
SURGE_TOUCHPOINT = "home-delivery"
SURGE_DAYS = 10
SURGE_WORSE = 4.0  # the weight of bad scores is multiplied by this during the wave
SURGE_EXTRA_VISITS = 3.0  # a promotion: four times the online orders during the wave

EXTRA = _blocks("""
Delivery surge
  en Third time this month the courier "couldn't find the address". It's a house, with a number!
  en The parcel has been stuck at the depot since Monday and tracking hasn't moved.
  en New delivery company is a disaster. Slot 8-12, came at 7pm without calling.
  en Still waiting. Order said 2 days, it's been 9 and no one answers at the depot.
  en Tracking says delivered, nothing at my door, neighbours have nothing either.
  en The courier left a card and didn't even ring the bell. I was home all day.
  ru Уже третий раз курьер «не нашёл адрес». Это частный дом с номером на заборе!
  ru Посылка с понедельника лежит на складе, трек-номер не обновляется.
  ru Новая служба доставки — просто кошмар. Окно с 8 до 12, приехали в семь вечера без звонка.
  ru Обещали за 2 дня, прошло уже 9, на складе трубку никто не берёт.
  ru В отслеживании написано «вручено», а у двери ничего нет, у соседей тоже.
  ru Курьер оставил извещение и даже не позвонил в дверь, хотя я весь день был дома.
  pl Trzeci raz w tym miesiącu kurier „nie mógł znaleźć adresu”. To dom z numerem na bramie!
  pl Paczka od poniedziałku stoi w sortowni, a śledzenie ani drgnie.
  pl Nowa firma kurierska to porażka. Okno 8-12, przyjechali o 19 bez telefonu.
  pl Miało być w 2 dni, minęło 9, w magazynie nikt nie odbiera.
  pl Status „doręczono”, a pod drzwiami nic nie ma, sąsiedzi też nic nie dostali.
  pl Kurier zostawił awizo i nawet nie zadzwonił domofonem. Cały dzień byłam w domu.
  zh-hans 这个月第三次了，快递员说“找不到地址”，门牌号明明写得清清楚楚！
  zh-hans 包裹从周一起就一直卡在分拣中心，物流信息一点没更新。
  zh-hans 换的新快递公司太差了，约好8点到12点，结果晚上7点才来，也没打电话。
  zh-hans 说好2天到，已经9天了，网点电话根本打不通。
  zh-hans 物流显示“已签收”，可门口什么都没有，邻居也没收到。
  zh-hans 快递员只留了张通知单，门铃都没按，我一整天都在家。
  ar للمرة الثالثة هذا الشهر يقول المندوب إنه "لم يجد العنوان"، والبيت عليه رقم واضح!
  ar الطرد عالق في المستودع منذ يوم الاثنين والتتبع لا يتحرك.
  ar شركة التوصيل الجديدة كارثة. الموعد من 8 إلى 12 ووصلوا الساعة 7 مساءً بدون اتصال.
  ar قالوا يومين وصار لي 9 أيام، ولا أحد يرد في المستودع.
  ar التتبع يقول "تم التسليم" ولا يوجد شيء عند الباب، والجيران لم يستلموا شيئًا.
  ar المندوب ترك ورقة ولم يرن الجرس حتى، وأنا في البيت طوال اليوم.
Delivery surge reply
  en Still no parcel. Please just tell me where it is.
  en The courier missed me again today. Can I pick it up somewhere instead?
  ru Посылки до сих пор нет. Просто скажите, где она.
  ru Курьер опять не приехал. Можно я сам заберу её где-нибудь?
  pl Paczki dalej nie ma. Proszę po prostu powiedzieć, gdzie jest.
  pl Kurier znowu mnie nie zastał. Mogę ją gdzieś odebrać sama?
  zh-hans 包裹还是没到，麻烦告诉我到底在哪里。
  zh-hans 快递员今天又没送来，我能不能自己去哪里取？
  ar ما زال الطرد لم يصل. فقط أخبروني أين هو.
  ar المندوب لم يأتِ اليوم أيضًا. هل يمكنني استلامه بنفسي من مكان ما؟
Wrong item
  en Ordered the blue one in M, got a black XL.
  en The charger was missing from the box.
  ru Заказывала синюю в размере M, пришла чёрная XL.
  ru В коробке не оказалось зарядки.
  pl Zamówiłam niebieską w rozmiarze M, przyszła czarna XL.
  pl W pudełku brakowało ładowarki.
  zh-hans 我买的是蓝色M码，寄来的却是黑色XL。
  zh-hans 盒子里没有充电器。
  ar طلبت اللون الأزرق مقاس M فوصلني أسود مقاس XL.
  ar الشاحن لم يكن موجودًا في العلبة.
Out of stock
  en Half the things on my list were out of stock in the store.
  en It said "in stock" online, then they cancelled my order a day later.
  ru Половины того, что я хотел купить, в магазине не было.
  ru На сайте было «в наличии», а через день заказ отменили.
  pl Połowy rzeczy z mojej listy nie było w sklepie.
  pl Na stronie było „dostępny”, a dzień później anulowali zamówienie.
  zh-hans 我要买的东西一半在店里都缺货。
  zh-hans 网上显示“有货”，第二天却把我的订单取消了。
  ar نصف ما كنت أريده لم يكن متوفرًا في المتجر.
  ar الموقع قال "متوفر" ثم ألغوا طلبي بعد يوم.
Return
  en Sent it back two weeks ago, still no refund.
  en The return label in the app doesn't work, had to pay postage myself.
  ru Отправил товар обратно две недели назад, деньги так и не вернули.
  ru Этикетка для возврата в приложении не работает, пришлось платить за пересылку самому.
  pl Odesłałem dwa tygodnie temu i nadal nie ma zwrotu pieniędzy.
  pl Etykieta zwrotna w aplikacji nie działa, za przesyłkę zapłaciłem sam.
  zh-hans 两周前就寄回去了，还是没退款。
  zh-hans 应用里的退货面单用不了，只好自己付了邮费。
  ar أرجعته قبل أسبوعين وما زلت أنتظر استرداد المبلغ.
  ar ملصق الإرجاع في التطبيق لا يعمل، فدفعت الشحن من جيبي.
""")

# Themes a bad answer may be about besides its root cause, by touchpoint (probability).
SIDE_THEMES: dict[str, tuple[str, float]] = {
    "checkout": ("Out of stock", 0.25),
    "store-checkout": ("Out of stock", 0.3),
    "click-collect": ("Wrong item", 0.3),
    "packaging": ("Wrong item", 0.3),
    "returns": ("Return", 0.6),
}
