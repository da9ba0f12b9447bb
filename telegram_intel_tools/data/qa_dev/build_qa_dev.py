"""Builds corpus/result.json and questions.jsonl of the ask-the-archive dev set, and validates them.

Written by hand (see README.md); stand-alone, standard library only: python3 build_qa_dev.py
Messages carry labels; questions reference labels, resolved here to message ids.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
TZ_OFFSET_H = 3  # the exporting machine's local time: Europe/Istanbul, UTC+3, no DST
PHOTO = "(File not included. Change data exporting settings to download.)"

OWNER = ("Nikita Orlov", 5110000001)
P = {
    "nikita": OWNER,
    # RU renovation chat
    "pavel": ("Pavel Smirnov", 5110000102),
    "vladimir": ("Vladimir Nikolaev", 5110000103),
    "olga": ("Olga Belova", 5110000104),
    "artem": ("Artem Zaitsev", 5110000105),
    "marina": ("Marina Lebedeva", 5110000106),
    "igor": ("Igor Petrenko", 5110000107),
    "sergey": ("Sergey Kuznetsov", 5110000108),
    "elena": ("Elena Vasilieva", 5110000109),
    "kirill": ("Kirill Fedorov", 5110000110),
    "denis": ("Denis Morozov", 5110000111),
    "timur": ("Timur Aliev", 5110000112),
    "yulia": ("Yulia Romanova", 5110000113),
    "anastasia": ("Anastasia Gromova", 5110000114),
    "tatiana": ("Tatiana Sokolova", 5110000115),
    # EN expats chat
    "emily": ("Emily Carter", 5110000201),
    "daniel": ("Daniel Kim", 5110000202),
    "tom": ("Tom Walsh", 5110000203),
    "priya": ("Priya Nair", 5110000204),
    "mark": ("Mark Jensen", 5110000205),
    "hannah": ("Hannah Schultz", 5110000206),
    "james": ("James O'Brien", 5110000207),
    "ahmet": ("Ahmet Yılmaz", 5110000208),
    "lukas": ("Lukas Becker", 5110000209),
    "sofia": ("Sofia Márquez", 5110000210),
    "chloe": ("Chloe Dubois", 5110000211),
    "ravi": ("Ravi Patel", 5110000212),
    "yuki": ("Yuki Tanaka", 5110000213),
    # TR parents chat
    "ayse": ("Ayşe Demir", 5110000301),
    "emine": ("Emine Kurt", 5110000302),
    "sophie": ("Sophie Laurent", 5110000303),
    "zeynep": ("Zeynep Arslan", 5110000304),
    "hakan": ("Hakan Polat", 5110000305),
    "gul": ("Gül Erdem", 5110000306),
    "murat": ("Murat Koç", 5110000307),
    "elif": ("Elif Çelik", 5110000308),
    "mehmet": ("Mehmet Kaya", 5110000309),
    "deniz": ("Deniz Aktaş", 5110000310),
    "oguz": ("Oğuz Aksoy", 5110000311),
    "selin": ("Selin Aydın", 5110000312),
    "burak": ("Burak Şahin", 5110000313),
}

# Message rows: (label|None, "MM-DD HH:MM", sender, text, extras)
#   text: str, or list of str / (entity_type, text[, href])
#   extras: dict with optional reply (label, or int k = the k-th previous row), photo, edited ("MM-DD HH:MM"),
#           service (action dict: the row is a service message from sender)
RU = "Ремонт квартир — Стамбул (RU)"
EN = "Istanbul Remote Workers & Expats"
TR = "Moda İlkokulu 2-B Veliler"

RU_ROWS = [
    (None, "09-01 10:12", "pavel", "Всем привет! Напоминаю правила чата: без политики, мастера — представляйтесь и пишите, чем занимаетесь. Новички — расскажите, что ремонтируете 🙂", {}),
    (None, "09-01 10:40", "vladimir", "Привет. Опять правила, а реклама как висела так и висит", {}),
    (None, "09-01 10:44", "pavel", "Владимир, разберёмся, обещаю", {"reply": 1}),
    ("N_JOIN", "09-02 18:58", "nikita", None, {"service": {"action": "join_group_by_link", "inviter": "Group"}}),
    ("N_INTRO", "09-02 19:05", "nikita", "Всем привет! Купили квартиру в Кадыкёе, 2+1, дом 90-х. Начинаем с ванной, потом кухня. Буду задавать много глупых вопросов 😅", {}),
    (None, "09-02 19:11", "olga", "Добро пожаловать! Кадыкёй — отличный выбор. Ванная в домах 90-х обычно с сюрпризами под плиткой, готовьтесь", {"reply": "N_INTRO"}),
    (None, "09-02 19:20", "artem", "И проводка там часто алюминиевая. Проверьте сразу", {"reply": "N_INTRO"}),
    (None, "09-02 19:31", "nikita", "Спасибо, уже страшно", {}),
    ("MARINA_ASK", "09-03 09:15", "marina", "Ребята, срочно нужен сантехник! Течёт под раковиной, Аташехир. Кто может сегодня-завтра?", {}),
    (None, "09-03 09:22", "denis", "Марина, перекройте пока воду под раковиной, там обычно есть вентиль", {"reply": "MARINA_ASK"}),
    ("IGOR_SELF", "09-03 09:40", "igor", "Марина, я сантехник, восемь лет работаю в Стамбуле. Сегодня весь день на объекте, могу завтра после шести вечера. Напишу в личку", {"reply": "MARINA_ASK"}),
    (None, "09-03 09:42", "marina", "Игорь, спасибо огромное, жду!", {"reply": 1}),
    (None, "09-04 21:03", "marina", "Игорь всё починил за полчаса, рекомендую 👍", {}),
    ("SERGEY_SELF", "09-05 12:30", "sergey", "Всем привет, я плиточник, кладу плитку с 2014 года, последние три года в Стамбуле. Ванные, кухонные фартуки, керамогранит крупного формата. Пишите, если нужно", {}),
    (None, "09-05 12:34", "vladimir", "Ну вот, опять реклама 🙄", {"reply": 1}),
    (None, "09-05 12:36", "pavel", "Владимир, представиться мастеру можно, это по правилам", {"reply": 1}),
    (None, "09-05 12:50", "nikita", "Сергей, а какие у вас сейчас сроки? Мне ванную делать, скорее всего в конце октября или в ноябре", {"reply": "SERGEY_SELF"}),
    (None, "09-05 13:02", "sergey", "Никита, октябрь почти занят, с ноября свободнее. Давайте ближе к делу спишемся", {"reply": 1}),
    ("ELENA_ASK", "09-06 11:20", "elena", "Ищу дизайнера интерьера для небольшой студии в Бешикташе. Нужен проект и подбор мебели. Кто может посоветовать?", {}),
    ("OLGA_SELF", "09-06 11:35", "olga", "Елена, я как раз занимаюсь дизайном интерьеров — делаю проекты квартир под ключ, от обмеров до комплектации. Напишите в личку, скину портфолио", {"reply": "ELENA_ASK"}),
    (None, "09-06 11:37", "elena", "Ольга, написала!", {"reply": 1}),
    ("ARTEM_SELF", "09-07 18:45", "artem", "Как электрик скажу по опыту: в половине квартир, которые я тут вскрываю, проводка без заземления. Перед покупкой зовите электрика посмотреть щиток", {}),
    (None, "09-07 18:52", "tatiana", "Артём, а сколько стоит такой осмотр?", {"reply": 1}),
    (None, "09-07 19:01", "artem", "По Кадыкёю и Ускюдару — бесплатно, если потом меня же берёте на работу 😄", {"reply": 1}),
    (None, "09-08 08:30", "vladimir", "Доброе утро. Кто знает, можно ли в Турции сверлить в воскресенье? Сосед грозится полицией", {}),
    (None, "09-08 08:41", "yulia", "Владимир, общего запрета по дням нет, но часы тишины обычно прописаны в правилах дома (yönetim planı). Посмотрите свой yönetim planı", {"reply": 1}),
    (None, "09-08 08:44", "vladimir", "Спасибо, не знал, что такое вообще есть", {}),
    ("KIRILL_SELF", "09-09 14:10", "kirill", "Привет всем. Я маляр — шпаклёвка, покраска, декоративная штукатурка. Плитку не кладу, сразу говорю, только стены и потолки 🙂", {}),
    (None, "09-09 14:15", "nikita", "Кирилл, отлично, после ванной как раз нужно будет красить всю квартиру", {"reply": 1}),
    ("GROUP_BUY", "09-10 20:20", "pavel", ["📢 ", ("bold", "Совместная закупка плитки!"), " Договорился с магазином Seramik Dünyası в Ümraniye: скидка 18% на всю плитку Kale и Vitra при общем заказе от 300 м². Заявки до 10 октября через форму: ", ("link", "https://forms.example.org/plitka-zakupka"), ". Доставка по азиатской стороне бесплатная"], {}),
    (None, "09-10 20:21", "pavel", None, {"service": {"action": "pin_message", "message_id": "GROUP_BUY"}}),
    (None, "09-10 20:25", "marina", "Ура, я в деле!", {"reply": "GROUP_BUY"}),
    (None, "09-10 20:31", "vladimir", "А Çanakkale Seramik там есть?", {"reply": "GROUP_BUY"}),
    (None, "09-10 20:40", "pavel", "Владимир, только Kale и Vitra", {"reply": 1}),
    (None, "09-10 20:42", "nikita", "Записываюсь, мне на ванную", {"reply": "GROUP_BUY"}),
    ("DENIS_PAINT", "09-11 10:05", "denis", "Кстати, кто будет красить — я работаю в Koçtaş в Аташехире, у нас по четвергам скидка 10% на всю краску. Заходите, подскажу по цветам", {}),
    (None, "09-11 10:09", "kirill", "Денис, подтверждаю, сам там беру Marshall и Filli Boya", {"reply": 1}),
    ("TIMUR_SELF", "09-12 16:30", "timur", "Добрый день. Делаю кухни на заказ — МДФ-фасады, столешницы из кварца, фурнитура Blum. Срок изготовления — 4 недели с момента утверждения проекта. Своё производство в Дудуллу", {}),
    (None, "09-12 16:44", "elena", "Тимур, а шкафы-купе тоже делаете?", {"reply": 1}),
    (None, "09-12 16:50", "timur", "Елена, да, любую корпусную мебель", {"reply": 1}),
    (None, "09-13 12:00", "tatiana", "Кто-нибудь заказывал натяжные потолки в Стамбуле? Тут их вообще делают?", {}),
    (None, "09-13 12:18", "olga", "Делают, но турки чаще ставят гипсокартон (alçıpan) с подсветкой. Натяжные — скорее русские бригады", {"reply": 1}),
    (None, "09-13 12:20", "tatiana", "Понятно, спасибо", {}),
    ("RUSTAM_WARN", "09-14 22:10", "vladimir", "⚠️ Внимание всем! Бригада Рустама (ремонт под ключ, объявление на sahibinden) взяла у меня предоплату 30 000 лир и пропала. Телефон не отвечает уже две недели. Не связывайтесь!", {}),
    (None, "09-14 22:15", "marina", "Ужас какой 😱", {"reply": 1}),
    ("YULIA_SELF", "09-14 22:31", "yulia", "Владимир, сочувствую. Я юрист, в основном недвижимость и споры с подрядчиками. Если был хоть какой-то договор или переписка с суммой — можно начать взыскание (icra takibi). Напишите, подскажу бесплатно", {"reply": "RUSTAM_WARN"}),
    (None, "09-14 22:40", "vladimir", "Юлия, спасибо, договор был на коленке, но переписка есть", {"reply": 1}),
    (None, "09-15 09:00", "pavel", "Добавил предупреждение в закреп", {}),
    ("ANASTASIA_SELF", "09-16 13:13", "anastasia", "Всем добрый день! Я присяжный переводчик (yeminli tercüman) турецкого и русского. Перевод документов для ТАПУ, ikamet, банков — 600 лир за страницу, заверение у нотариуса оплачивается отдельно", {}),
    (None, "09-16 13:20", "nikita", "Анастасия, сохранил, скоро понадобится", {"reply": 1}),
    ("CABLE", "09-17 10:30", "artem", "По многочисленным вопросам в личке: на розетки тяните кабель сечением 2,5 мм², на освещение — 1,5 мм². Только медь, с маркировкой TSE. Экономить на кабеле — плохая идея", {}),
    (None, "09-17 10:35", "vladimir", "А алюминий совсем никак?", {"reply": 1}),
    (None, "09-17 10:37", "artem", "Совсем никак, это пожароопасно", {"reply": 1}),
    (None, "09-18 19:40", "marina", "Подскажите, где в Стамбуле купить нормальные межкомнатные двери? Всё какое-то картонное", {}),
    (None, "09-18 19:55", "timur", "Марина, в Masko есть всё, но цены кусаются. Могу сделать на заказ", {"reply": 1}),
    (None, "09-18 20:02", "marina", "Тимур, спишемся", {}),
    ("N_PLASTER", "09-20 11:11", "nikita", "Вопрос знатокам: в ванной штукатурка — алчи (гипс) или цементная?", {}),
    (None, "09-20 11:20", "kirill", "Только цементная в мокрой зоне. Гипс набухнет", {"reply": "N_PLASTER"}),
    (None, "09-20 11:25", "sergey", "Плюс обмазочная гидроизоляция под плитку, минимум два слоя, на стенах — на высоту душа", {"reply": "N_PLASTER"}),
    (None, "09-20 11:40", "vladimir", "Да ладно, у меня гипс пять лет стоит и ничего", {"reply": 2}),
    (None, "09-20 11:44", "kirill", "Владимир, повезло 🙂", {"reply": 1}),
    (None, "09-20 11:46", "nikita", "Понял, цементная плюс гидроизоляция. Спасибо!", {}),
    (None, "09-22 17:00", "tatiana", "Кто-нибудь знает, отопление в новостройках тут всегда kombi или бывает центральное?", {}),
    (None, "09-22 17:12", "denis", "Чаще всего kombi в каждой квартире. Центральное бывает в больших комплексах", {"reply": 1}),
    ("CHLOE_RU", "09-23 12:40", "chloe", "Sorry for writing in English! Does anyone know a good upholsterer (перетяжка мебели?) on the Asian side? Olga sent me here 🙂", {}),
    (None, "09-23 12:55", "olga", "Chloe, hi! Try the small shops in Yeldeğirmeni, most of them do upholstery. Девочки, может кто-то знает конкретного мастера?", {"reply": 1}),
    (None, "09-23 13:10", "marina", "Chloe, мне перетягивали диван на Söğütlüçeşme, но названия не помню, извините", {"reply": "CHLOE_RU"}),
    ("ISKAN", "09-24 09:50", "yulia", "Частый вопрос, отвечу всем сразу: чтобы оформить постоянный договор на воду и электричество на своё имя, у квартиры должен быть iskan (разрешение на заселение). Без iskan дадут только временное строительное подключение по повышенному тарифу. Проверяйте iskan до покупки!", {}),
    (None, "09-24 10:02", "elena", "Юлия, а как это проверить?", {"reply": 1}),
    (None, "09-24 10:10", "yulia", "Елена, через e-Devlet или в belediye по адресу", {"reply": 1}),
    (None, "09-25 21:30", "vladimir", "Какая же тут у мастеров пунктуальность... сказал в 10 приду, пришёл в 15", {}),
    (None, "09-25 21:33", "kirill", "Владимир, не все такие 😅", {"reply": 1}),
    (None, "09-25 21:40", "marina", "Игорь пришёл минута в минуту, кстати", {}),
    ("EXPO", "09-27 15:20", "tatiana", "Друзья, 14–17 октября в TÜYAP (Бейликдюзю) будет строительная выставка Yapı Fuarı. Предлагаю поехать группой в четверг 15 октября, сбор в 9:30 у выхода метро Yenikapı, оттуда на автобусе. Кто со мной?", {}),
    (None, "09-27 15:25", "olga", "Я с вами!", {"reply": "EXPO"}),
    (None, "09-27 15:31", "nikita", "+1", {"reply": "EXPO"}),
    (None, "09-27 15:40", "denis", "Я на работе, к сожалению", {"reply": "EXPO"}),
    (None, "09-27 16:02", "sergey", "Поеду, посмотрю новинки по керамограниту", {"reply": "EXPO"}),
    ("IGOR_PRICE", "09-29 10:00", "igor", "Раз уж спрашивают в личке — мои расценки: замена смесителя 1500 лир, унитаз с инсталляцией от 6000 лир, выезд по азиатской стороне бесплатно. Работаю и по субботам", {}),
    (None, "09-29 10:10", "marina", "Игорь, подтверждаю, недорого и чисто", {"reply": 1}),
    ("ELENA_LAMINATE", "10-01 12:30", "elena", "Может кто-то посоветовать хорошего мастера по ламинату? В Бешикташе", {}),
    (None, "10-01 12:45", "kirill", "Елена, с ламинатом не помогу, я только стены", {"reply": 1}),
    (None, "10-02 18:00", "nikita", "Ребята, а кто-нибудь менял окна? ПВХ или алюминий?", {}),
    (None, "10-02 18:20", "vladimir", "ПВХ, однозначно. Алюминий зимой холодный", {"reply": 1}),
    (None, "10-02 18:25", "artem", "Зависит от профиля. Алюминий с терморазрывом нормальный, но дорогой", {"reply": 2}),
    (None, "10-02 18:30", "vladimir", "Артём, да ну, ерунда этот терморазрыв", {"reply": 1}),
    (None, "10-02 18:45", "olga", "В Стамбуле зимы мягкие, честно, разница небольшая. Берите то, что по бюджету", {}),
    ("SERGEY_PRICE", "10-04 11:00", "sergey", "Ответ на частый вопрос по ценам: укладка плитки у меня 450 лир за м², керамогранит 60×120 и крупнее — 600 лир за м². Материал и клей отдельно, затирка входит", {"edited": "10-04 11:03"}),
    (None, "10-04 11:10", "tatiana", "Сергей, вполне по-божески", {"reply": 1}),
    (None, "10-06 20:00", "pavel", "Напоминаю: заявки на совместную закупку плитки принимаются до 10 октября. Осталось 4 дня!", {"reply": "GROUP_BUY"}),
    (None, "10-08 09:40", "marina", "Отправила заявку 🙌", {}),
    ("N_AREA", "10-09 13:00", "nikita", "Посчитал свою ванную: под плитку выходит 24 м² (пол и стены до потолка). Плитку беру по закупке, Kale 30×60", {}),
    (None, "10-09 13:05", "olga", "Никита, 30×60 хороший формат для небольшой ванной", {"reply": 1}),
    ("BUY_CLOSED", "10-11 10:00", "pavel", "Закупка плитки закрыта, спасибо всем! Итого 23 участника. Сроки доставки сообщу отдельно", {}),
    (None, "10-13 19:30", "vladimir", "Кто-нибудь заказывал кухню в IKEA здесь? Стоит того?", {}),
    (None, "10-13 19:42", "timur", "Владимир, IKEA нормально, если стены ровные. Но ждать сборщиков долго", {"reply": 1}),
    (None, "10-13 19:50", "vladimir", "Понятно, значит не стоит", {}),
    (None, "10-15 17:40", "tatiana", "Вернулись с выставки, столько всего! Сергей, спасибо за экскурсию по керамограниту 😄", {}),
    (None, "10-15 17:45", "sergey", "Всегда пожалуйста 🙂", {"reply": 1}),
    (None, "10-16 11:00", "olga", "Вот что понравилось на выставке — смесители и подвесные раковины", {"photo": True}),
    (None, "10-18 14:30", "marina", "А кто знает, где заказать стекло для душевой? Акриловую кабину не хочу", {}),
    (None, "10-18 14:40", "sergey", "Марина, в Дудуллу есть цех Cam Dünyası, делали клиенту, нормально", {"reply": 1}),
    ("DELIVERY", "10-20 16:00", "pavel", "Плитка по закупке: доставка 28 октября с 10:00 до 18:00. Водитель позвонит за час. Будьте дома или оставьте ключи соседу", {}),
    (None, "10-20 16:05", "nikita", "Отлично, как раз к ремонту", {"reply": 1}),
    (None, "10-22 21:00", "vladimir", "Опять в чате три рекламы за день. Павел, сделайте уже что-нибудь", {}),
    (None, "10-22 21:05", "kirill", "Я за то, чтобы реклама была в один день недели", {"reply": 1}),
    (None, "10-22 21:08", "marina", "Поддерживаю, а то важное теряется", {"reply": 2}),
    (None, "10-22 21:15", "yulia", "Можно как в других чатах — один день в неделю, например пятница", {"reply": 3}),
    ("ADS_RULE", "10-23 10:00", "pavel", "Итак, решили: с 1 ноября рекламу мастеров и магазинов публикуем только по пятницам. В остальные дни — только ответы на прямые вопросы. Нарушителей удаляю", {}),
    (None, "10-23 10:05", "vladimir", "Наконец-то 👏", {"reply": 1}),
    ("N_CHOOSE", "10-24 12:00", "nikita", "Итак, определился с ванной: плитку кладёт Сергей, сантехнику делает Игорь. Сергей, спишемся про дату", {}),
    (None, "10-24 12:20", "igor", "Никита, договорились, сантехнику начну после демонтажа", {"reply": "N_CHOOSE"}),
    ("SERGEY_DATE", "10-26 18:00", "sergey", "Никита, подтверждаю: начинаем 3 ноября, буду у вас в 9 утра, первым делом демонтаж", {"reply": "N_CHOOSE"}),
    (None, "10-28 19:00", "marina", "Плитку привезли, всё целое 🙏 Павел, спасибо!", {}),
    (None, "10-28 19:30", "nikita", "И мне привезли", {}),
    (None, "11-03 20:00", "nikita", "Первый день ремонта: демонтаж закончен, под старой плиткой... ну вы поняли 😅", {}),
    (None, "11-03 20:10", "olga", "Классика", {"reply": 1}),
    (None, "11-03 20:15", "artem", "Проводку в ванной проверили?", {"reply": 2}),
    (None, "11-03 20:30", "nikita", "Артём, а можете зайти на этой неделе посмотреть?", {"reply": 1}),
    (None, "11-03 20:32", "artem", "В четверг вечером могу", {"reply": 1}),
    (None, "11-06 10:00", "kirill", "Пятничная реклама 🙂 Свободен с 16 ноября, покраска квартир под ключ, азиатская сторона", {}),
    (None, "11-06 10:30", "timur", "Пятница 🙂 Осталось два слота на кухни до Нового года", {}),
    (None, "11-07 12:00", "vladimir", "Как в Турции вызвать газовщика проверить kombi?", {}),
    (None, "11-07 12:20", "denis", "Через İGDAŞ, заявка на сайте", {"reply": 1}),
    (None, "11-10 18:00", "nikita", "Плитка уложена! Сергей — огонь 🔥", {}),
    (None, "11-10 18:05", "sergey", "Спасибо, Никита! Затирку двое суток не мочите", {"reply": 1}),
    (None, "11-12 09:30", "elena", "Ольга сделала мне проект студии, очень довольна, всем рекомендую", {}),
    (None, "11-14 16:00", "tatiana", "Как утилизировать старую чугунную ванну?", {}),
    (None, "11-14 16:20", "igor", "Татьяна, металлолом заберут бесплатно, hurdacı ходят по районам", {"reply": 1}),
    (None, "11-14 16:25", "tatiana", "Точно, они же каждый день кричат во дворах 😄", {"reply": 1}),
    (None, "11-17 19:00", "yulia", "Напоминание тем, кто покупает: смотрите не только ТАПУ, но и долги по aidat у управляющей компании", {}),
    (None, "11-20 10:00", "kirill", "Пятничная реклама: декоративная штукатурка, есть свободные даты в декабре", {}),
    (None, "11-20 10:15", "sergey", "Пятница: свободен с 1 декабря, ванные под ключ", {}),
    (None, "11-22 21:00", "nikita", "Ванная готова! Всем спасибо за советы, чат — лучший 🙏", {}),
    (None, "11-22 21:05", "marina", "Покажете фото?", {"reply": 1}),
    (None, "11-22 21:10", "nikita", "Вот 🙂", {"photo": True, "reply": 1}),
    (None, "11-22 21:14", "olga", "Очень аккуратно! Затирка в тон — отличный выбор", {"reply": 1}),
    (None, "11-25 14:00", "vladimir", "Слышали, цемент опять дорожает с декабря?", {}),
    (None, "11-25 14:10", "denis", "Да, у нас тоже поставщики предупредили", {"reply": 1}),
    (None, "11-28 11:00", "pavel", "Думаю о второй закупке — сантехника (смесители, инсталляции). Кому интересно — ставьте +", {}),
    (None, "11-28 11:05", "marina", "+", {"reply": 1}),
    (None, "11-28 11:07", "nikita", "+", {"reply": 2}),
    (None, "11-29 18:00", "anastasia", "Напоминаю, делаю переводы для ikamet и ТАПУ, пишите в личку", {}),
    (None, "11-29 18:10", "pavel", "Анастасия, сегодня суббота, реклама только по пятницам 😉", {"reply": 1}),
    (None, "11-29 18:12", "anastasia", "Ой, простите 🙈", {"reply": 1}),
    (None, "11-30 08:45", "vladimir", "Всем хорошей недели. Кто-нибудь знает, когда у Koçtaş новогодняя распродажа?", {}),
    (None, "11-30 09:02", "denis", "Владимир, скорее всего с середины декабря, точных дат пока нет", {"reply": 1}),
]

EN_ROWS = [
    (None, "09-01 09:00", "emily", "Welcome to all the new folks who joined this summer! Quick reminder: this group is for remote workers & expats in Istanbul. Be kind, no spam, and introduce yourselves 👋", {}),
    (None, "09-01 09:20", "daniel", None, {"service": {"action": "join_group_by_link", "inviter": "Group"}}),
    (None, "09-01 09:30", "daniel", "Hi all! Daniel here, just moved from Seoul, staying in Cihangir for now. Any tips for the first month welcome", {}),
    (None, "09-01 09:45", "tom", "Welcome Daniel! Tip #1: get an Istanbulkart on day one", {"reply": 1}),
    (None, "09-01 09:50", "priya", "Tip #2: don't sign a rental contract without a Turkish-speaking friend reading it", {"reply": 2}),
    (None, "09-01 10:02", "daniel", "Noted both 😄", {}),
    ("N_EN_INTRO", "09-02 14:00", "nikita", "Hey everyone, Nikita here — backend developer, working remotely for a company in Berlin, living in Kadıköy with my wife and son. Happy to grab coffee", {}),
    (None, "09-02 14:10", "emily", "Welcome Nikita! Come to the next meetup", {"reply": 1}),
    ("MEETUP_OCT", "09-03 11:00", "emily", ["📅 ", ("bold", "Next remote workers meetup:"), " Thursday 8 October, 7pm at Cafe Lodos, Moda Caddesi 41. We meet on the second Thursday of every month. Bring a friend!"], {}),
    (None, "09-03 11:05", "lukas", "I'll be there 📸", {"reply": 1}),
    ("MARK_ASK", "09-04 16:20", "mark", "Does anyone know a good accountant who works with foreigners? I need to set up a şahıs şirketi and have no idea about taxes here", {}),
    ("HANNAH_SELF", "09-04 16:45", "hannah", "Hi Mark, I'm an accountant (mali müşavir) — I do the books for about 15 freelancers with a şahıs şirketi. My fee is 2,500 TL a month, that covers the monthly declarations and the quarterly geçici vergi. DM me", {"reply": "MARK_ASK"}),
    (None, "09-04 16:50", "mark", "Hannah, perfect, DMing you", {"reply": 1}),
    ("JAMES_ASK", "09-05 10:00", "james", "My short-term residence permit expires in December. Does anyone know a lawyer who can help? The online system keeps rejecting my documents", {}),
    ("AHMET_SELF", "09-05 10:30", "ahmet", "Hi James, I'm a lawyer — mostly residence permits, work permits and company setup for foreigners. Feel free to message me.", {"reply": "JAMES_ASK"}),
    ("IKAMET_60", "09-05 10:35", "ahmet", "General tip for everyone: you can apply to renew your ikamet up to 60 days before the current permit expires, and you must apply before it expires, not after. Don't leave it to the last week, appointments fill up", {}),
    (None, "09-05 10:40", "james", "Thanks Ahmet, will DM", {"reply": 2}),
    ("TOM_ISP", "09-06 19:00", "tom", "PSA on home internet: go with Türk Telekom fiber if your building has it. Most stable in my experience, 3 years with zero outages", {}),
    (None, "09-06 19:10", "priya", "Hard disagree, that was a nightmare for me. Superonline has been much better in Kadıköy", {"reply": 1}),
    (None, "09-06 19:15", "tom", "Priya, depends on the building I guess", {"reply": 1}),
    (None, "09-06 19:20", "yuki", "Türknet here, cheap and fine. Never had issues on calls", {"reply": "TOM_ISP"}),
    (None, "09-06 19:25", "tom", "Everyone's got a favourite 😂", {}),
    ("LUKAS_SELF", "09-08 12:00", "lukas", ["Shameless plug: I'm a photographer — portraits, events, and apartment photos for Airbnb hosts. Portfolio: ", ("link", "https://lukasbecker-photo.example.com"), ""], {}),
    (None, "09-08 12:15", "emily", "Lukas took our meetup photos last time, they're great", {"reply": 1}),
    ("HEALTH_ASK", "09-09 15:00", "daniel", "What do people do for health insurance? Is the state one (SGK) worth it for foreigners?", {}),
    ("INSURANCE", "09-09 15:30", "priya", "I went private: Allianz, I'm 30 and pay about 14,000 TL a year. You need private insurance for the residence permit anyway", {"reply": "HEALTH_ASK"}),
    (None, "09-09 15:40", "ahmet", "Correct, for most first-time ikamet applications private health insurance is required", {"reply": 1}),
    ("SOFIA_SELF", "09-10 18:00", "sofia", "Hola! I teach Spanish — small group classes (max 8 people) on Tuesday evenings in Moda, 7–8:30pm. Beginners welcome. Private lessons online too", {}),
    (None, "09-10 18:10", "yuki", "Sofia, is there an intermediate group?", {"reply": 1}),
    (None, "09-10 18:15", "sofia", "Yuki, not yet, maybe from January", {"reply": 1}),
    ("CHLOE_SELF", "09-12 11:00", "chloe", "Hi all, I'm an interior designer (mostly small apartments and rentals you can't drill into 😅). If anyone's redecorating, happy to give advice", {}),
    (None, "09-12 11:10", "daniel", "Chloe, how do you decorate without drilling?", {"reply": 1}),
    (None, "09-12 11:20", "chloe", "Daniel, adhesive strips, leaning mirrors, lots of plants 🌿", {"reply": 1}),
    ("RAVI_YOGA", "09-14 20:00", "ravi", "Anyone up for yoga in Moda park on Saturday mornings? I run a free community session at 9am, bring a mat", {}),
    (None, "09-14 20:10", "sofia", "I'll come!", {"reply": 1}),
    ("MARK_COWORK", "09-15 13:00", "mark", "Where do you work from when home gets boring? Looking for a coworking with good internet on the European side", {}),
    ("COWORK", "09-15 13:20", "yuki", "Atölye Cowork in Karaköy — day pass is 350 TL, fiber is fast and they have phone booths. I go twice a week", {"reply": "MARK_COWORK"}),
    (None, "09-15 13:25", "mark", "Yuki, thanks!", {"reply": 1}),
    (None, "09-15 13:30", "tom", "Also plenty of cafés in Kadıköy are fine until they kick you out at 6 😄", {"reply": "MARK_COWORK"}),
    ("OLGA_EN", "09-17 10:00", "olga", "Hi everyone, Olga here — I'm an interior designer too, mostly full renovations (I work in Russian, English and some Turkish). Nice to meet you Chloe!", {"reply": "CHLOE_SELF"}),
    (None, "09-17 10:10", "chloe", "Hi Olga! Let's grab a coffee sometime", {"reply": 1}),
    (None, "09-17 10:30", "nikita", "Ольга, привет! Не знал, что ты и тут есть 😄", {"reply": 2}),
    (None, "09-17 10:32", "olga", "Никита, я везде 😄", {"reply": 1}),
    ("YUKI_SELF", "09-19 17:00", "yuki", "Random question: anyone else here an illustrator? I freelance for children's book publishers and would love to meet other artists in town", {}),
    (None, "09-19 17:20", "lukas", "Not an illustrator, but happy to collab on a shoot", {"reply": 1}),
    ("RENT_ASK", "09-21 09:00", "daniel", "How much should I expect to pay for a 2+1 in Moda these days? Landlords quote me crazy numbers", {}),
    (None, "09-21 09:10", "tom", "Daniel, crazy numbers are the normal numbers now 😬", {"reply": 1}),
    (None, "09-21 09:15", "priya", "Depends a lot on the building and whether it's furnished. Use a local agent and don't pay the first quote", {"reply": 2}),
    (None, "09-23 22:00", "james", "Did anyone feel the quake last night? Small shaking in Beşiktaş", {}),
    (None, "09-23 22:05", "priya", "Yes! Scary", {"reply": 1}),
    ("AFAD", "09-23 22:15", "tom", "Good reminder: install the AFAD Acil Çağrı app — one tap sends your location to emergency services. And keep a go-bag with water and copies of your documents", {}),
    (None, "09-23 22:20", "daniel", "Installing now", {"reply": 1}),
    ("VET", "09-25 12:00", "ravi", "Pet owners: my cat needed surgery last month and Dr. Selim at Patiler Veteriner Kliniği in Fenerbahçe was amazing. Honest prices and he speaks English", {}),
    (None, "09-25 12:10", "chloe", "Saving this!", {"reply": 1}),
    ("ANASTASIA_EN", "09-28 16:00", "anastasia", "Hi! I'm a sworn translator (Turkish–Russian, also English). If you need translations for ikamet, diplomas or bank documents — message me", {}),
    (None, "09-28 16:10", "james", "Good to know!", {"reply": 1}),
    (None, "10-01 13:00", "hannah", "Reminder to freelancers: keep all your receipts for Q3, I'll need them by mid-October", {}),
    (None, "10-05 19:00", "emily", "Reminder: meetup this Thursday! 🍻", {"reply": "MEETUP_OCT"}),
    (None, "10-08 23:30", "emily", "Thanks everyone for coming tonight, 27 people! Photos from Lukas soon", {}),
    (None, "10-09 10:00", "lukas", ["Photos from last night: ", ("link", "https://lukasbecker-photo.example.com/meetup-oct"), ""], {}),
    ("N_TRANSL", "10-12 14:00", "nikita", "Question for those who did ikamet with family: I need sworn translations of my son's birth certificate and our marriage certificate — 3 pages in total. Anastasia, are you still doing these?", {}),
    (None, "10-12 14:30", "anastasia", "Nikita, yes, write me in DM 🙂", {"reply": 1}),
    (None, "10-13 09:30", "daniel", "Where do people buy decent coffee beans around here?", {}),
    (None, "10-13 09:45", "yuki", "Kronotrop or Petra, both roast their own", {"reply": 1}),
    (None, "10-13 09:50", "priya", "+1 for Petra", {"reply": 1}),
    (None, "10-14 18:00", "tom", "Is it just me or did Istanbulkart fares go up again?", {}),
    (None, "10-14 18:05", "yuki", "They did, this month", {"reply": 1}),
    (None, "10-17 11:00", "mark", "Hannah set up my şahıs şirketi in 2 weeks, highly recommend 🙏", {}),
    (None, "10-20 20:00", "daniel", "Any recommendations for a barber in Kadıköy who doesn't give everyone the same fade? 😂", {}),
    (None, "10-20 20:15", "ravi", "Berber Hüseyin on Bahariye, ask for 'not too short'", {"reply": 1}),
    ("BOAT", "10-26 09:00", "emily", "🚢 Bosphorus boat trip! Sunday 22 November, we meet at 11:00 at Kadıköy pier (the main ferry terminal). 600 TL per person including lunch on board. Sign up by replying here", {}),
    (None, "10-26 09:10", "sofia", "+1 (and +1 for my partner)", {"reply": "BOAT"}),
    (None, "10-26 09:12", "daniel", "In!", {"reply": "BOAT"}),
    (None, "10-26 09:20", "nikita", "+3, coming with family", {"reply": "BOAT"}),
    (None, "10-27 21:00", "chloe", "Does anyone know if the ferries run late on weekdays? Stuck in Beşiktaş after a dinner once 😅", {}),
    (None, "10-27 21:10", "tom", "Last ferry is around midnight, but check the Şehir Hatları app", {"reply": 1}),
    (None, "10-28 12:00", "priya", "Is anyone else getting Wise transfers to Turkish banks randomly blocked?", {}),
    (None, "10-28 12:30", "mark", "Yes, last week. Had to call support", {"reply": 1}),
    ("MEETUP_NOV", "11-02 18:00", "emily", "📅 November meetup: Thursday 12 November, 7pm as usual. Details soon", {}),
    (None, "11-02 18:10", "lukas", "👍", {"reply": 1}),
    ("MOVE", "11-09 10:00", "emily", "Update for this Thursday's meetup: Cafe Lodos is closed for renovation, so we're moving to Nook Bar, Bahariye Caddesi 12. Same time!", {"reply": "MEETUP_NOV"}),
    (None, "11-09 10:20", "tom", "Nook has good burgers, nice", {"reply": 1}),
    (None, "11-13 09:00", "emily", "Great meetup last night, thanks all 🙌", {}),
    (None, "11-15 15:00", "james", "Update: got my ikamet renewed thanks to Ahmet 🎉", {}),
    (None, "11-16 12:00", "daniel", "Do the ferries run normally on Sundays? Asking for the boat trip", {}),
    (None, "11-16 12:10", "emily", "Daniel, it's a private boat, no worries 🙂", {"reply": 1}),
    (None, "11-22 20:00", "emily", "What a day on the Bosphorus! Thanks everyone 🚢", {}),
    (None, "11-22 20:10", "nikita", "My son loved it!", {"reply": 1}),
    (None, "11-24 11:00", "yuki", "Heads up: Atölye Cowork is closed this Thursday for a private event", {}),
    (None, "11-26 17:00", "priya", "Thanksgiving potluck at my place on Saturday, a few spots left — DM me", {}),
    (None, "11-27 09:00", "mark", "Has anyone tried paying taxes through the e-Devlet app?", {}),
    (None, "11-27 09:10", "hannah", "Mark, it works, but I'll do it for you anyway 😉", {"reply": 1}),
    (None, "11-29 21:00", "daniel", "3 months in Istanbul today. Thanks for all the help, this group is gold", {}),
    (None, "11-29 21:10", "emily", "Glad to have you Daniel 💛", {"reply": 1}),
    (None, "11-30 09:00", "emily", "📅 December meetup: Thursday 10 December, 7pm. Venue TBA, stay tuned", {}),
    (None, "11-30 09:20", "lukas", "Count me in", {"reply": 1}),
]

TR_ROWS = [
    (None, "09-07 20:00", "ayse", "Merhaba sevgili veliler! 2-B sınıf annesi olarak bu grubu kurdum. Okulla ilgili duyuruları buradan paylaşacağım 🌸", {}),
    (None, "09-07 20:05", "emine", "Hoş geldiniz, hepimize hayırlı olsun 🙏", {}),
    (None, "09-07 20:10", "nikita", "Merhaba, ben Nikita, Misha'nın babasıyım. Türkçem biraz zayıf, kusura bakmayın 🙂", {}),
    (None, "09-07 20:12", "ayse", "Hoş geldiniz Nikita Bey, hiç sorun değil!", {"reply": 1}),
    (None, "09-07 20:30", "sophie", "Hello everyone, I'm Sophie, Léa's mum. Sorry, my Turkish is very basic, I hope English is ok!", {}),
    (None, "09-07 20:32", "zeynep", "Of course Sophie, welcome! 😊", {"reply": 1}),
    ("SERVIS_ASK", "09-09 19:00", "hakan", "Arkadaşlar servis konusu ne oldu? Geçen yılki firma fiyatı çok artırmış", {}),
    (None, "09-09 19:15", "ayse", "Hakan Bey, iki teklif var: Yıldız Servis ve Moda Tur. Perşembeye kadar oylama yapalım", {"reply": 1}),
    (None, "09-09 19:20", "gul", "Moda Tur'un şoförü geçen yıl çok hızlı gidiyordu, ben Yıldız'dan yanayım", {"reply": 1}),
    (None, "09-09 19:40", "hakan", "Yıldız da ucuz değil ama", {"reply": 1}),
    (None, "09-10 08:00", "murat", "Oyum Yıldız Servis", {}),
    (None, "09-10 08:05", "elif", "Yıldız", {}),
    (None, "09-10 08:30", "sophie", "Yıldız for us too 👍", {}),
    ("SERVIS_DEC", "09-11 21:00", "ayse", "Oylama sonucu: Yıldız Servis ile devam ediyoruz. Aylık ücret 4.200 TL, ödemeler her ayın 5'ine kadar firmaya yapılacak", {"reply": "SERVIS_ASK"}),
    (None, "09-11 21:05", "hakan", "Tamam, pahalı ama tamam", {"reply": 1}),
    ("MEHMET_SELF", "09-14 10:00", "mehmet", "Merhaba, ben Mehmet, Ali'nin babası. Çocuk doktoruyum, sorusu olan olursa çekinmeden yazabilir. Bir de hatırlatma: grip aşısını Ekim sonuna kadar yaptırmanızı öneririm, okullar açılınca vakalar artıyor", {}),
    (None, "09-14 10:10", "emine", "Çok teşekkürler Mehmet Bey, torunuma yaptıracağım", {"reply": 1}),
    ("ELIF_ASK", "09-16 18:00", "elif", "Oğlum İngilizce'de zorlanıyor, hafta sonu özel ders veren bir öğretmen bilen var mı?", {}),
    ("ZEYNEP_SELF", "09-16 18:20", "zeynep", "Elif Hanım, ben İngilizce öğretmeniyim, Kadıköy'de bir dil kursunda çalışıyorum. Hafta sonları özel ders veriyorum, saati 800 TL. Mesaj atabilirsiniz", {"reply": "ELIF_ASK"}),
    (None, "09-16 18:25", "elif", "Çok sevindim, yazıyorum!", {"reply": 1}),
    (None, "09-18 07:45", "gul", "Günaydın, bugün beden eğitimi var, eşofman unutmayın 🏃", {}),
    (None, "09-18 08:00", "emine", "Teşekkürler Gül Hanım", {"reply": 1}),
    (None, "09-21 20:00", "ayse", "Veliler, sınıfta bit vakası varmış 😔 Lütfen çocukların saçlarını kontrol edin", {}),
    (None, "09-21 20:05", "mehmet", "Panik yapmayın, eczanedeki bit şampuanları etkili. Sık dişli tarakla taramak şart", {"reply": 1}),
    (None, "09-21 20:10", "hakan", "Yine mi ya", {"reply": 2}),
    ("SWIM", "09-23 21:00", "deniz", "Merhaba, ben Deniz, Arda'nın annesi ve yüzme antrenörüyüm. Fenerbahçe'deki havuzda 6-10 yaş çocuk yüzme kursu açıyoruz: Salı ve Perşembe 17:00, aylık 3.000 TL. Kontenjan 10 kişi", {}),
    (None, "09-23 21:10", "sophie", "Deniz, is it only in Turkish? Léa understands a little", {"reply": 1}),
    (None, "09-23 21:15", "deniz", "Sophie, I speak English too, no problem 🙂", {"reply": 1}),
    (None, "09-23 21:20", "nikita", "Misha'yı da yazdırmak istiyoruz", {"reply": "SWIM"}),
    ("HAKAN_ASK", "09-25 19:00", "hakan", "Acil tesisatçı lazım! Kombinin altından su damlıyor, Moda'da bilen var mı?", {}),
    ("OGUZ_SELF", "09-25 19:20", "oguz", "Hakan Bey, ben tesisatçıyım, dükkanım Moda Caddesi'nin arka sokağında. Akşam 8'den sonra gelebilirim", {"reply": "HAKAN_ASK"}),
    (None, "09-25 19:22", "hakan", "Süper, adresi özelden atıyorum", {"reply": 1}),
    (None, "09-25 22:00", "hakan", "Oğuz Usta halletti, teşekkürler 🙏", {}),
    ("SELIN_SELF", "09-28 17:00", "selin", "Merhaba, ben Selin, Defne'nin annesi. Çocuk psikoloğuyum; okula uyum süreciyle ilgili sorusu olan olursa yardımcı olmaya çalışırım", {}),
    (None, "09-28 17:10", "ayse", "Çok değerli Selin Hanım 🙏", {"reply": 1}),
    ("BURAK_SELF", "10-01 20:00", "burak", "Herkese iyi akşamlar. Ben Burak, Efe'nin babası. Marangozum, atölyem Yeldeğirmeni'nde — mutfak dolabı, gardırop, kitaplık, ne lazımsa yapıyoruz. Sınıfa da bir kitaplık yapabilirim, hediyemiz olsun 🙂", {}),
    (None, "10-01 20:10", "ayse", "Burak Bey çok teşekkürler! Öğretmenimizle konuşuyorum", {"reply": 1}),
    (None, "10-03 11:00", "hakan", "Okulun önünde park yeri bulmak imkansız. Sabahları trafik felç", {}),
    (None, "10-03 11:10", "gul", "Hakan Bey, yürüyerek gelin 😄", {"reply": 1}),
    (None, "10-03 11:12", "hakan", "Gül Hanım, 2 km 😅", {"reply": 1}),
    (None, "10-03 11:20", "murat", "Belediyeye dilekçe verelim mi? Okul önüne yaya geçidi de lazım", {}),
    (None, "10-03 11:30", "ayse", "Müdür Bey'le konuşacağım, sonucu yazarım", {"reply": 1}),
    (None, "10-06 19:00", "ayse", "Yarın veli toplantısı saat 18:30'da, sınıfta. Katılımınız önemli 🙏", {}),
    (None, "10-07 21:30", "ayse", "Toplantı notları: 1) hafta sonu ödev verilmeyecek 2) her gün 15 dakika kitap okuma saati 3) kermes için gönüllü aranıyor", {}),
    (None, "10-08 09:00", "gul", "Kermes için gönüllüyüm!", {"reply": 1}),
    (None, "10-08 09:05", "murat", "Ben de", {"reply": 2}),
    ("AHMET_TR", "10-10 11:00", "ahmet", "Merhaba, ben Ahmet, Can'ın babası. Avukatım; yabancı velilerimizin oturum izni (ikamet) konusunda sorusu olursa yardımcı olabilirim", {}),
    (None, "10-10 11:05", "sophie", "Thank you Ahmet, very kind!", {"reply": 1}),
    ("BREAK_ASK", "10-12 15:00", "sophie", "Quick question: when is the mid-term break? We want to visit family in France", {}),
    ("BREAK", "10-12 15:10", "ayse", "Sophie, ara tatil 9–13 Kasım. Okul 16 Kasım Pazartesi tekrar başlıyor", {"reply": "BREAK_ASK"}),
    (None, "10-12 15:12", "sophie", "Merci, teşekkürler! 🙏", {"reply": 1}),
    ("WATER", "10-20 18:00", "emine", "Komşular, İSKİ duyurusu: 24 Ekim Cumartesi 09:00–17:00 arası Moda'da su kesintisi olacak. Su biriktirin!", {}),
    (None, "10-20 18:05", "hakan", "Yine mi 😩", {"reply": 1}),
    ("KERMES", "10-22 20:00", "gul", "Sevgili veliler, okul kermesi 21 Kasım Cumartesi 11:00–16:00 arası okul bahçesinde! Her sınıf bir stant açacak, 2-B ev yapımı kek ve limonata satıyor 🍋", {}),
    (None, "10-22 20:10", "elif", "Ben kek yaparım", {"reply": "KERMES"}),
    (None, "10-22 20:15", "selin", "Ben de limonata", {"reply": "KERMES"}),
    ("MURAT_SELF", "10-22 20:30", "murat", "Fırınımızdan simit ve poğaça getiririm — Moda Caddesi'ndeki Koç Fırını bizim 🙂 Kermese hediyemiz", {"reply": "KERMES"}),
    (None, "10-22 20:32", "gul", "Murat Bey harikasınız!", {"reply": 1}),
    ("TICKET_ASK", "10-23 09:00", "hakan", "Kermeste giriş bileti satılacak mı?", {"reply": "KERMES"}),
    (None, "10-23 09:20", "gul", "Hakan Bey, onu okul idaresi açıklayacak", {"reply": 1}),
    ("GEZI", "10-27 20:00", "ayse", ["📢 ", ("bold", "Gezi duyurusu:"), " 20 Kasım Cuma, Rahmi M. Koç Müzesi gezisi. Servis + rehber ücreti kişi başı 450 TL. Ödemeleri 13 Kasım'a kadar bana yapabilirsiniz. İzin formları çantalarda"], {}),
    (None, "10-28 08:30", "emine", "Torunum çok heyecanlı", {"reply": 1}),
    (None, "10-29 19:00", "nikita", "Ayşe Hanım, ödemeyi havale mi yapalım, elden mi?", {"reply": "GEZI"}),
    (None, "10-29 19:10", "ayse", "Nikita Bey, ikisi de olur 🙂", {"reply": 1}),
    ("GEZI_ADD", "11-02 18:00", "ayse", "Gezi için güncelleme: müze giriş ücreti için kişi başı 100 TL daha eklendi. Lütfen toplam tutarı ödeyin 🙏", {"reply": "GEZI"}),
    (None, "11-02 18:10", "hakan", "Her şey pahalandı", {"reply": 1}),
    (None, "11-04 20:00", "mehmet", "Sınıfta üç çocuk ateşli, grip sezonu başladı. Aşısı olmayanlar lütfen yaptırsın", {}),
    (None, "11-06 09:00", "nikita", "Sorry for English — is the trip form due before the break or after?", {"reply": "GEZI"}),
    (None, "11-06 09:15", "ayse", "Nikita Bey, before the break please 🙂", {"reply": 1}),
    (None, "11-16 08:00", "ayse", "Tatil bitti, hoş geldik 🙂 Bugünden itibaren normal ders saatleri", {}),
    (None, "11-20 19:00", "ayse", "Gezi harikaydı! Fotoğraflar 👇", {"photo": True}),
    (None, "11-20 19:10", "emine", "Ne güzel olmuş 😍", {"reply": 1}),
    (None, "11-21 17:30", "gul", "Kermes çok güzel geçti, 2-B standı 3.450 TL topladı! Hepinize teşekkürler 💛", {}),
    (None, "11-21 17:40", "murat", "Simitler 10 dakikada bitti 😄", {"reply": 1}),
    ("NY_ASK", "11-23 20:00", "ayse", "Yılbaşı partisi için fikirler? Okulda mı yapalım, kafede mi?", {}),
    (None, "11-23 20:10", "hakan", "Kafe pahalı olur", {"reply": "NY_ASK"}),
    (None, "11-23 20:20", "selin", "Okulun spor salonu müsaitse orada yapalım", {"reply": "NY_ASK"}),
    (None, "11-23 20:25", "murat", "Yiyecekleri herkes getirsin, potluck gibi", {"reply": "NY_ASK"}),
    (None, "11-23 20:40", "sophie", "Potluck sounds great!", {"reply": 1}),
    ("NY_DEC", "11-25 21:00", "ayse", "Karar: Yılbaşı partisi 26 Aralık Cumartesi 14:00'te okulun spor salonunda. Her aile bir yemek ya da tatlı getirecek, hediyeleşme 200 TL limitli", {"reply": "NY_ASK"}),
    (None, "11-25 21:05", "sophie", "Perfect, we'll bring crêpes 🥞", {"reply": 1}),
    (None, "11-29 20:00", "elif", "Zeynep Hanım sayesinde oğlumun İngilizcesi çok gelişti, teşekkürler 🙏", {}),
    (None, "11-29 20:05", "zeynep", "Ne güzel, asıl emek onun 😊", {"reply": 1}),
    (None, "11-30 07:50", "ayse", "Günaydın! Bu hafta veli toplantısı yok, iyi haftalar 🌸", {}),
]

CHATS = [
    # name, type, id, rows, first message id, max random gap (private basic groups use the account-wide message counter)
    (RU, "private_supergroup", 1780000001, RU_ROWS, 20417, 2),
    (EN, "public_supergroup", 1790000002, EN_ROWS, 88120, 2),
    (TR, "private_group", 1800000003, TR_ROWS, 731002, 40),
]


def local(md: str) -> dt.datetime:
    return dt.datetime.strptime(f"2026-{md}", "%Y-%m-%d %H:%M")


def unix(t: dt.datetime) -> str:
    return str(calendar.timegm((t - dt.timedelta(hours=TZ_OFFSET_H)).timetuple()))


def render_text(text):
    if isinstance(text, str):
        return text, [{"type": "plain", "text": text}]
    out, ents = [], []
    for part in text:
        if isinstance(part, str):
            out.append(part)
            ents.append({"type": "plain", "text": part})
        else:
            e = {"type": part[0], "text": part[1]}
            if len(part) > 2:
                e["href"] = part[2]
            out.append(e)
            ents.append(e)
    return out, ents


def plain(text) -> str:
    if isinstance(text, str):
        return text
    return "".join(p if isinstance(p, str) else p[1] for p in text)


def build():
    rnd = random.Random(20261130)
    chats, index = [], {}  # index[(chat, label)] = (message_id, plain text, sender name)
    for name, ctype, cid, rows, first_id, gap in CHATS:
        mid = first_id
        ids = []
        for i, row in enumerate(rows):
            ids.append(mid)
            mid += 1 + (rnd.randint(0, gap) if rnd.random() < 0.35 else 0)
        labels = {row[0]: ids[i] for i, row in enumerate(rows) if row[0]}
        msgs = []
        for i, (label, when, who, text, ex) in enumerate(rows):
            t = local(when)
            pname, pid = P[who]
            m = {"id": ids[i]}
            if "service" in ex:
                act = dict(ex["service"])
                m.update({"type": "service", "date": t.isoformat(), "date_unixtime": unix(t),
                          "actor": pname, "actor_id": f"user{pid}"})
                if "message_id" in act:
                    act["message_id"] = labels[act["message_id"]]
                m.update(act)
                m.update({"text": "", "text_entities": []})
                msgs.append(m)
                continue
            m.update({"type": "message", "date": t.isoformat(), "date_unixtime": unix(t)})
            if "edited" in ex:
                e = local(ex["edited"])
                m.update({"edited": e.isoformat(), "edited_unixtime": unix(e)})
            m.update({"from": pname, "from_id": f"user{pid}"})
            r = ex.get("reply")
            if r is not None:
                m["reply_to_message_id"] = labels[r] if isinstance(r, str) else ids[i - r]
            if ex.get("photo"):
                m.update({"photo": PHOTO, "photo_file_size": 181234 + 17 * i, "width": 1280, "height": 960})
            txt, ents = render_text(text)
            m["text"] = txt
            m["text_entities"] = ents
            msgs.append(m)
            if label:
                index[(name, label)] = (ids[i], plain(text), pname)
        chats.append({"name": name, "type": ctype, "id": cid, "messages": msgs})
    export = {
        "about": "Here is the data you requested. Remember: Telegram is ad free, it doesn't use your data for ad targeting and doesn't sell it to others. Telegram only keeps the information it needs to function as a secure and feature-rich cloud service.\n\nCheck out Settings > Privacy & Security on Telegram's mobile apps for the relevant settings.",
        "personal_information": {"user_id": OWNER[1], "first_name": "Nikita", "last_name": "Orlov",
                                 "username": "@nikita_orlov_dev", "bio": ""},
        "profile_pictures": [],
        "contacts": {"about": "", "list": []},
        "frequent_contacts": {"about": "", "list": []},
        "chats": {"about": "This page lists all chats from this export.", "list": chats},
    }
    return export, index


# Questions: (kind, lang, question, answer, must_include, supporting [(chat, label)], evidence per label, people, not_people)
# evidence: substrings that must occur in the supporting message (validated), to keep the references honest.
Q = [
    # ---- fact (24)
    ("fact", "ru", "Какая скидка на плитку в совместной закупке, которую организовал Павел?",
     "18% на всю плитку Kale и Vitra в магазине Seramik Dünyası (Ümraniye) при общем заказе от 300 м².",
     ["18"], [(RU, "GROUP_BUY", ["18%", "Kale"])]),
    ("fact", "en", "How much does Sergey charge per square metre to lay tiles?",
     "450 TL per m² (large-format porcelain 60×120 and up: 600 TL per m²); materials and adhesive extra, grouting included.",
     ["450"], [(RU, "SERGEY_PRICE", ["450 лир за м²"])]),
    ("fact", "ru", "Сколько Игорь-сантехник берёт за замену смесителя?",
     "1500 лир.", ["1500|1 500|1.500|1,500"], [(RU, "IGOR_PRICE", ["замена смесителя 1500"])]),
    ("fact", "ru", "Кабель какого сечения советовали тянуть на розетки?",
     "2,5 мм² (медь с маркировкой TSE); на освещение — 1,5 мм².", ["2,5|2.5"], [(RU, "CABLE", ["2,5 мм²"])]),
    ("fact", "ru", "В какой день в Koçtaş скидка на краску и какая?",
     "По четвергам, 10% на всю краску (Koçtaş в Аташехире, по словам Дениса).",
     ["четверг|thursday|perşembe", "10"], [(RU, "DENIS_PAINT", ["по четвергам скидка 10%"])]),
    ("fact", "en", "Which renovation crew took a prepayment and disappeared, and how much did they take?",
     "Rustam's crew (бригада Рустама, advertised on sahibinden) took a 30,000 TL prepayment from Vladimir and vanished.",
     ["Rustam|Рустам", "30 000|30,000|30000|30.000"], [(RU, "RUSTAM_WARN", ["Бригада Рустама", "30 000 лир"])]),
    ("fact", "tr", "Timur bir mutfağı kaç haftada yapıyor?",
     "Proje onaylandıktan sonra 4 hafta.", ["4 hafta|dört hafta|4 week|four week|4 недел"],
     [(RU, "TIMUR_SELF", ["4 недели"])]),
    ("fact", "ru", "Сколько стоит присяжный перевод документов у Анастасии?",
     "600 лир за страницу; заверение у нотариуса оплачивается отдельно.", ["600"],
     [(RU, "ANASTASIA_SELF", ["600 лир за страницу"])]),
    ("fact", "ru", "Что должно быть у квартиры, чтобы оформить постоянный договор на воду и электричество на своё имя?",
     "iskan (разрешение на заселение); без него только временное строительное подключение по повышенному тарифу.",
     ["iskan|искан"], [(RU, "ISKAN", ["iskan (разрешение на заселение)"])]),
    ("fact", "en", "How much is a day pass at the coworking space Yuki recommended?",
     "350 TL at Atölye Cowork in Karaköy.", ["350"], [(EN, "COWORK", ["day pass is 350 TL"])]),
    ("fact", "en", "How early can I apply to renew my ikamet?",
     "Up to 60 days before the current permit expires (and it must be before it expires, not after).",
     ["60"], [(EN, "IKAMET_60", ["60 days before"])]),
    ("fact", "ru", "Сколько в месяц берёт бухгалтер Ханна?",
     "2 500 лир в месяц (ежемесячные декларации и квартальный geçici vergi).",
     ["2,500|2 500|2500|2.500"], [(EN, "HANNAH_SELF", ["2,500 TL a month"])]),
    ("fact", "en", "Which health insurance does Priya have and how much does she pay?",
     "Private insurance with Allianz, about 14,000 TL a year (she is 30).",
     ["Allianz", "14,000|14 000|14000|14.000"], [(EN, "INSURANCE", ["Allianz", "14,000 TL a year"])]),
    ("fact", "en", "Which vet was recommended in my groups?",
     "Dr. Selim at Patiler Veteriner Kliniği in Fenerbahçe (recommended by Ravi).",
     ["Selim|Patiler"], [(EN, "VET", ["Dr. Selim", "Patiler"])]),
    ("fact", "tr", "Sofia'nın İspanyolca grup dersleri hangi gün?",
     "Salı akşamları, 19:00–20:30, Moda'da (en fazla 8 kişi).", ["salı|tuesday|вторник"],
     [(EN, "SOFIA_SELF", ["Tuesday evenings"])]),
    ("fact", "ru", "Какое приложение советовали установить на случай землетрясения?",
     "AFAD Acil Çağrı (одно нажатие отправляет местоположение экстренным службам).", ["AFAD"],
     [(EN, "AFAD", ["AFAD Acil Çağrı"])]),
    ("fact", "tr", "Çocuk yüzme kursu hangi günler ve aylık ne kadar?",
     "Salı ve Perşembe 17:00, aylık 3.000 TL (Fenerbahçe'deki havuz, 6-10 yaş).",
     ["salı|tuesday|вторник", "perşembe|thursday|четверг", "3.000|3000|3,000|3 000"],
     [(TR, "SWIM", ["Salı ve Perşembe 17:00", "3.000 TL"])]),
    ("fact", "tr", "Mehmet Bey grip aşısını ne zamana kadar yaptırmamızı önerdi?",
     "Ekim sonuna kadar.", ["ekim|october|октябр"], [(TR, "MEHMET_SELF", ["Ekim sonuna kadar"])]),
    ("fact", "tr", "Zeynep Hanım'ın özel ders saat ücreti ne kadar?",
     "Saati 800 TL (hafta sonları İngilizce özel ders).", ["800"], [(TR, "ZEYNEP_SELF", ["saati 800 TL"])]),
    ("fact", "ru", "Когда у детей в школе ноябрьские каникулы (ara tatil)?",
     "С 9 по 13 ноября; школа снова с понедельника 16 ноября.",
     ["9–13|9-13|9 по 13|9 до 13|9 — 13|9 – 13|9th"], [(TR, "BREAK", ["ara tatil 9–13 Kasım"])]),
    ("fact", "tr", "Kermese simit ve poğaçayı kim getiriyor?",
     "Murat Koç, Moda Caddesi'ndeki Koç Fırını'ndan (hediye olarak).", ["Murat|Koç Fırını"],
     [(TR, "MURAT_SELF", ["simit ve poğaça", "Koç Fırını"])]),
    ("fact", "ru", "Когда и где пройдёт школьная ярмарка (kermes)?",
     "21 ноября (суббота), 11:00–16:00, в школьном дворе.", ["21", "двор|bahçe|yard|garden|playground"],
     [(TR, "KERMES", ["21 Kasım", "okul bahçesinde"])]),
    ("fact", "en", "What rule about advertising did the renovation chat adopt?",
     "From 1 November, ads by tradespeople and shops are allowed only on Fridays; other days only answers to direct questions.",
     ["friday|пятниц|cuma"], [(RU, "ADS_RULE", ["только по пятницам"])]),
    ("fact", "tr", "Tom hangi internet sağlayıcısını önerdi?",
     "Türk Telekom fiber.", ["Türk Telekom|Turk Telekom"], [(EN, "TOM_ISP", ["Türk Telekom fiber"])]),
    # ---- people (8)
    ("people", "en", "Who in my groups does interior design?",
     "Olga Belova (renovation chat and expat chat) and Chloe Dubois (expat chat). Elena only asked for a designer.",
     ["Olga|Ольга", "Chloe"], [(RU, "OLGA_SELF", ["занимаюсь дизайном интерьеров"]), (EN, "OLGA_EN", ["interior designer"]),
                                (EN, "CHLOE_SELF", ["interior designer"])],
     ["Olga Belova", "Chloe Dubois"], ["Elena Vasilieva"]),
    ("people", "ru", "Кто в моих группах сантехник?",
     "Игорь Петренко (чат ремонта) и Oğuz Aksoy (родительский чат, tesisatçı). Марина и Хакан сантехника только искали.",
     ["Игорь|Igor", "Oğuz|Oguz|Огуз"], [(RU, "IGOR_SELF", ["я сантехник"]), (TR, "OGUZ_SELF", ["tesisatçıyım"])],
     ["Igor Petrenko", "Oğuz Aksoy"], ["Marina Lebedeva", "Hakan Polat"]),
    ("people", "tr", "Gruplarımda avukat olan var mı?",
     "Ahmet Yılmaz (oturum izni, çalışma izni, şirket kuruluşu) ve Yulia Romanova (gayrimenkul ve müteahhit uyuşmazlıkları). James sadece avukat arıyordu.",
     ["Ahmet", "Yulia|Юлия"], [(EN, "AHMET_SELF", ["I'm a lawyer"]), (TR, "AHMET_TR", ["Avukatım"]), (RU, "YULIA_SELF", ["Я юрист"])],
     ["Ahmet Yılmaz", "Yulia Romanova"], ["James O'Brien"]),
    ("people", "en", "Who can do sworn translations of documents?",
     "Anastasia Gromova, a sworn translator (Turkish–Russian, also English).", ["Anastasia|Анастасия"],
     [(RU, "ANASTASIA_SELF", ["присяжный переводчик"]), (EN, "ANASTASIA_EN", ["sworn translator"])],
     ["Anastasia Gromova"], []),
    ("people", "ru", "Кто в чатах кладёт плитку?",
     "Сергей Кузнецов, плиточник. (Кирилл — маляр и прямо говорит, что плитку не кладёт.)", ["Сергей|Sergey"],
     [(RU, "SERGEY_SELF", ["я плиточник"])], ["Sergey Kuznetsov"], ["Kirill Fedorov", "Nikita Orlov"]),
    ("people", "tr", "Gruplarda çocuk doktoru var mı?",
     "Mehmet Kaya (Ali'nin babası) çocuk doktoru. (Selin Aydın çocuk psikoloğu, doktor değil.)", ["Mehmet"],
     [(TR, "MEHMET_SELF", ["Çocuk doktoruyum"])], ["Mehmet Kaya"], ["Selin Aydın"]),
    ("people", "en", "Is there an accountant in my groups?",
     "Hannah Schultz, an accountant (mali müşavir) who does the books for freelancers. Mark only asked for one.", ["Hannah"],
     [(EN, "HANNAH_SELF", ["I'm an accountant"])], ["Hannah Schultz"], ["Mark Jensen"]),
    ("people", "tr", "Mutfak dolabı ya da mobilya yapan biri var mı?",
     "Timur Aliev (ısmarlama mutfaklar, her türlü dolap) ve Burak Şahin (marangoz, Yeldeğirmeni'nde atölye).",
     ["Timur|Тимур", "Burak"], [(RU, "TIMUR_SELF", ["Делаю кухни на заказ"]), (TR, "BURAK_SELF", ["Marangozum"])],
     ["Timur Aliev", "Burak Şahin"], []),
    # ---- unanswerable (6)
    ("unanswerable", "ru", "Сколько стоит укладка ламината за квадратный метр?",
     "Не знаю: в архиве нет цены на укладку ламината (Елена спрашивала мастера, ответа с ценой не было).", [], []),
    ("unanswerable", "en", "Who recommended a good dentist in Kadıköy?",
     "I don't know: nobody in these chats recommended a dentist.", [], []),
    ("unanswerable", "tr", "Okul müdürünün adı ne?",
     "Bilmiyorum: müdürün adı arşivde geçmiyor.", [], []),
    ("unanswerable", "en", "What's the typical monthly rent for a 2+1 in Moda according to the group?",
     "I don't know: Daniel asked, but nobody gave a figure.", [], []),
    ("unanswerable", "ru", "Какой номер телефона у сантехника Игоря?",
     "Не знаю: номер в чатах не публиковался (Игорь писал в личку).", [], []),
    ("unanswerable", "tr", "Kermeste giriş bileti ne kadar?",
     "Bilmiyorum: Hakan sordu, ama fiyat açıklanmadı (okul idaresi açıklayacakmış).", [], []),
    # ---- multi_hop (5)
    ("multi_hop", "ru", "Сколько Никите обойдётся укладка плитки в ванной у Сергея (только работа)?",
     "24 м² × 450 лир/м² = 10 800 лир (плитка Kale 30×60, не крупный формат; материал и клей отдельно).",
     ["10 800|10800|10,800|10.800"], [(RU, "N_AREA", ["24 м²", "30×60"]), (RU, "SERGEY_PRICE", ["450 лир за м²"])]),
    ("multi_hop", "en", "Where and when is the November remote-workers meetup?",
     "Thursday 12 November, 7pm, at Nook Bar, Bahariye Caddesi 12 (moved from Cafe Lodos, which is closed for renovation).",
     ["12 nov|nov 12|november 12|12th|12.11", "Nook"],
     [(EN, "MEETUP_NOV", ["Thursday 12 November, 7pm"]), (EN, "MOVE", ["Nook Bar"])]),
    ("multi_hop", "tr", "Müze gezisi için kişi başı toplam ne kadar ödememiz gerekiyor?",
     "550 TL: servis + rehber 450 TL, sonradan eklenen müze girişi 100 TL.", ["550"],
     [(TR, "GEZI", ["450 TL"]), (TR, "GEZI_ADD", ["100 TL"])]),
    ("multi_hop", "tr", "Nikita'nın banyo tadilatı ne zaman başladı ve fayansı kim döşedi?",
     "3 Kasım'da başladı; fayansı Sergey (Kuznetsov) döşedi, tesisatı Igor yaptı.",
     ["3 kasım|3 november|november 3|3 ноября|3 nov|3rd", "Sergey|Сергей"],
     [(RU, "N_CHOOSE", ["плитку кладёт Сергей"]), (RU, "SERGEY_DATE", ["начинаем 3 ноября"])]),
    ("multi_hop", "en", "How much will the sworn translations I asked about for our ikamet cost with Anastasia?",
     "3 pages × 600 TL = 1,800 TL, plus notary certification paid separately.", ["1,800|1800|1 800|1.800"],
     [(EN, "N_TRANSL", ["3 pages"]), (RU, "ANASTASIA_SELF", ["600 лир за страницу"])]),
    # ---- time (5)
    ("time", "ru", "Когда и где сбор, чтобы ехать группой на строительную выставку?",
     "В четверг 15 октября в 9:30 у выхода метро Yenikapı (выставка Yapı Fuarı в TÜYAP, 14–17 октября).",
     ["15", "9:30|9.30|09:30", "Yenikap|Еникап"], [(RU, "EXPO", ["15 октября", "9:30", "Yenikapı"])]),
    ("time", "en", "What was decided about the school bus in the parents' chat?",
     "After a vote they stay with Yıldız Servis, 4,200 TL a month, paid to the company by the 5th of each month.",
     ["Yıldız|Yildiz", "4.200|4,200|4200|4 200"], [(TR, "SERVIS_DEC", ["Yıldız Servis", "4.200 TL"])]),
    ("time", "tr", "Moda'daki su kesintisi ne zaman?",
     "24 Ekim Cumartesi, 09:00–17:00 arası (İSKİ duyurusu).", ["24 ekim|24 october|october 24|24 окт", "09:00|9:00|09.00"],
     [(TR, "WATER", ["24 Ekim", "09:00–17:00"])]),
    ("time", "en", "When is the Bosphorus boat trip and where do we meet?",
     "Sunday 22 November, meeting at 11:00 at Kadıköy pier; 600 TL per person including lunch.",
     ["22", "11:00|11 am|11am|11.00", "Kadık|Kadik"], [(EN, "BOAT", ["Sunday 22 November", "11:00", "Kadıköy pier"])]),
    ("time", "tr", "Geçen hafta yılbaşı partisi için ne karar verildi?",
     "26 Aralık Cumartesi 14:00'te okulun spor salonunda; her aile bir yemek ya da tatlı getirecek, hediyeleşme 200 TL limitli. (Karar 25 Kasım'da.)",
     ["26", "spor salon|gym|sports hall|спортзал|спортивн"], [(TR, "NY_DEC", ["26 Aralık", "spor salonunda"])]),
]


def main():
    export, index = build()
    out = HERE / "corpus" / "result.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(export, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    # split: within each kind, shuffle with a fixed seed; first ceil(n/2) are visible
    rnd = random.Random(4242)
    split = {}
    for kind in ["fact", "people", "unanswerable", "multi_hop", "time"]:
        idx = [i for i, q in enumerate(Q) if q[0] == kind]
        rnd.shuffle(idx)
        for j, i in enumerate(idx):
            split[i] = "visible" if j < (len(idx) + 1) // 2 else "unseen"

    senders = {m.get("from") for c in export["chats"]["list"] for m in c["messages"] if m["type"] == "message"}
    lines = []
    for i, q in enumerate(Q):
        kind, lang, question, answer, must, sup = q[:6]
        people = q[6] if len(q) > 6 else []
        not_people = q[7] if len(q) > 7 else []
        supporting = []
        for chat, label, evidence in sup:
            mid, text, _ = index[(chat, label)]
            for ev in evidence:
                assert ev in text, (i, label, ev)
            supporting.append({"chat": chat, "message_id": mid})
        for name in people + not_people:
            assert name in senders, name
        if kind == "unanswerable":
            assert not sup and not must
        else:
            assert sup and must
        rec = {"id": f"q{i + 1:02d}", "lang": lang, "question": question, "kind": kind, "answer": answer,
               "must_include": must, "supporting": supporting, "people": people}
        if kind == "people":
            rec["not_people"] = not_people
        rec["split"] = split[i]
        lines.append(json.dumps(rec, ensure_ascii=False))
    (HERE / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} and {len(lines)} questions")


if __name__ == "__main__":
    main()
