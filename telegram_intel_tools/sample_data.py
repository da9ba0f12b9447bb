"""Synthetic Telegram Desktop export with ground truth, for demos, ML tests and benchmarks.

``write_sample_export(out_dir, ...)`` writes, under ``out_dir``:

* ``result.json`` -- a Telegram Desktop export in the newest (2025) format: ``date_unixtime``,
  ``text_entities`` on every message, ``from_id`` as ``"user123"`` / ``"channel123"``,
  ``forwarded_from_id``, ``edited_unixtime``, ``reactions``, service messages. ``kind="full_account"``
  gives the "export all data" shape (``personal_information`` + ``chats.list``),
  ``kind="single_chat"`` the "export chat history" shape (one chat object at the top level).
  It is streamed: one ``json`` line per message, memory stays flat at millions of messages.
* ``photos/``, ``files/``, ``voice_messages/`` -- small real files (JPEG, PDF/TXT/PNG, WAV) on ~2% of the
  messages; identical bytes are reused on purpose so sha256 dedup matters. A voice message speaks its
  ground-truth transcript in its language (ru/en/tr) when ``espeak-ng`` is installed (``speech=None``, the
  default, uses it when present; scripts/setup.sh installs it), else it is a 250 Hz tone of the same length;
  ``ground_truth.json`` says which (``voice_audio``).
  (Real full-account exports nest these under ``chats/chat_NNN/``; here they sit at the top of
  ``out_dir`` and the export names them relative to it, like a single-chat export does.)
* ``ground_truth.json`` -- owner, users (language, ``job_label``, ``sector``, ``rare`` = too few
  messages to infer anything, ``opt_out``), chats, counts, voice messages with their transcripts.
* ``ground_truth_messages.jsonl`` -- one line per export message (service ones included), in
  export order: ``chat_id, id, kind, from_id, intent, lang, topic, reply_to, forwarded, edited,
  media, pii``. ``pii`` lists ``{type, value, start, end}`` where ``start:end`` indexes the
  *flattened* text (concatenation of all ``text`` parts, see :func:`flatten_text`) as Python ``str``
  offsets (code points, not UTF-16). Every phone/email/url/card/iban in a text is listed.
  ``topic``: ``work`` (profession vocabulary), ``smalltalk``, ``reply``, ``pii``, ``forward``,
  ``voice``, ``media`` (no text: ``intent``/``lang`` null), null for service messages. Voice
  messages have empty export text; their row carries the intent/lang of the transcript.
  Helpers: :func:`load_ground_truth`, :func:`iter_message_truth`, :func:`load_labeled_messages`.

Content: users are Russian, English or Turkish speakers with a profession each (12 professions
plus the owner's), writing work messages with profession vocabulary mixed with small talk,
greetings, questions, commands, feedback and discussion; the owner replies a lot (~15% of all
messages are owner replies, in the language of the message replied to) for persona training.

Timestamps: ``date_unixtime`` spread over the SPAN_DAYS (90) days before ``end`` (default END_UNIXTIME,
2025-06-30 18:00 UTC; ``telegram-intel demo`` passes the current time so the demo's data ends yesterday), in
waking hours, non-decreasing per chat; ``date`` is that instant in UTC.

Everything derives from ``random.Random(seed)``; the same arguments give the same bytes
(media files are written by a few threads, but their names and bytes are fixed in advance).
Stdlib only. ``python -m telegram_intel_tools.sample_data OUT_DIR --messages N`` runs it from a shell.
"""

from __future__ import annotations

import base64
import calendar
import json
import math
import os
import random
import shutil
import string
import struct
import subprocess
import tempfile
import time
import zlib
from bisect import bisect_right
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from json.encoder import encode_basestring as jstr
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

GENERATOR_VERSION = 1

#: The export ends here (2025-06-30 18:00:00 UTC); messages spread over the SPAN_DAYS before it.
END_UNIXTIME = calendar.timegm((2025, 6, 30, 18, 0, 0))
SPAN_DAYS = 90

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"

INTENTS = ("question", "statement", "command", "discussion", "greeting", "feedback")
LANGS = ("ru", "en", "tr")
PII_TYPES = ("phone", "email", "url", "card", "iban")

RESULT_JSON = "result.json"
GROUND_TRUTH_JSON = "ground_truth.json"
GROUND_TRUTH_MESSAGES = "ground_truth_messages.jsonl"

ProgressFn = Callable[[int, int], Any]


# =============================================================================================
# Content: professions and their vocabulary per language
# =============================================================================================
# ru: objs in the accusative (they follow verbs), acts as perfective infinitives, probs as clauses.
# en: objs with article, acts as bare verb phrases, probs as clauses.
# tr: objs as nominative noun phrases, acts as -mak/-mek infinitives, probs as clauses.

_PROFESSIONS: list[dict[str, Any]] = [
    {
        "key": "interior_architect", "job_label": "interior architect", "sector": "architecture",
        "tools": "AutoCAD|SketchUp|3ds Max|Revit|ArchiCAD|V-Ray",
        "tags": {"ru": "#интерьер", "en": "#interiordesign", "tr": "#içmimari"},
        "files": "plan_kuhni.pdf|floor_plan_v2.png|finishing_spec.pdf",
        "ru": {
            "objs": "планировку кухни|чертёж фасада|визуализацию гостиной|развёртку стен|проект ванной|мудборд для спальни|ведомость отделки|план освещения",
            "acts": "согласовать планировку с заказчиком|выехать на замер|сделать рендеры гостиной|подобрать плитку для санузла|обновить спецификацию мебели|проверить узлы примыканий",
            "probs": "подрядчик сдвинул перегородку на 20 см|заказчик снова поменял цвет стен|выбранную плитку сняли с производства|на объекте не совпали высоты потолков",
        },
        "en": {
            "objs": "the kitchen layout|the facade drawing|the living room render|the bathroom design|the bedroom mood board|the finishing schedule|the lighting plan|the wall elevations",
            "acts": "sign off the floor plan with the client|go on site for measurements|render the living room|pick tiles for the bathroom|update the furniture spec|check the joinery details",
            "probs": "the contractor moved the partition by 20 cm|the client changed the wall color again|the tile we picked got discontinued|the ceiling heights on site don't match the drawings",
        },
        "tr": {
            "objs": "mutfak planı|cephe çizimi|salon görselleştirmesi|banyo projesi|yatak odası mood board'u|malzeme listesi|aydınlatma planı|duvar açılımları",
            "acts": "kat planını müşteriyle onaylatmak|ölçü almak için şantiyeye gitmek|salonun render'ını almak|banyo için seramik seçmek|mobilya listesini güncellemek|detay çizimlerini kontrol etmek",
            "probs": "müteahhit bölme duvarı 20 cm kaydırmış|müşteri duvar rengini yine değiştirdi|seçtiğimiz seramiğin üretimi durmuş|sahadaki tavan yükseklikleri çizimle uyuşmuyor",
        },
    },
    {
        "key": "fullstack_developer", "job_label": "full-stack developer", "sector": "software",
        "tools": "React|Django|PostgreSQL|Docker|Kubernetes|TypeScript|FastAPI|Next.js",
        "tags": {"ru": "#разработка", "en": "#webdev", "tr": "#yazılım"},
        "files": "api_spec.pdf|error_log.txt|db_schema.png",
        "ru": {
            "objs": "пулл-реквест с авторизацией|миграцию базы|API для заказов|фронтенд личного кабинета|docker-compose для стенда|фикс бага с оплатой|CI-пайплайн|эндпоинт выгрузки отчётов",
            "acts": "задеплоить на прод|поднять тестовый стенд|покрыть сервис тестами|отревьюить пулл-реквест|починить падающий билд|обновить зависимости",
            "probs": "прод упал сразу после релиза|миграция висит уже час|тесты падают только на CI|фронт не видит новые поля из API",
        },
        "en": {
            "objs": "the auth pull request|the database migration|the orders API|the dashboard frontend|the staging docker-compose|the payment bug fix|the CI pipeline|the reports export endpoint",
            "acts": "deploy to production|spin up a staging environment|cover the service with tests|review the pull request|fix the failing build|bump the dependencies",
            "probs": "prod went down right after the release|the migration has been hanging for an hour|tests fail only on CI|the frontend doesn't see the new API fields",
        },
        "tr": {
            "objs": "yetkilendirme pull request'i|veritabanı migrasyonu|sipariş API'si|panel arayüzü|test ortamının docker-compose dosyası|ödeme hatası düzeltmesi|CI hattı|rapor dışa aktarma endpoint'i",
            "acts": "canlıya deploy etmek|test ortamını ayağa kaldırmak|servisi testlerle kapsamak|pull request'i incelemek|kırılan build'i düzeltmek|bağımlılıkları güncellemek",
            "probs": "sürümden hemen sonra canlı ortam çöktü|migrasyon bir saattir takılı|testler sadece CI'da patlıyor|arayüz API'deki yeni alanları görmüyor",
        },
    },
    {
        "key": "dentist", "job_label": "dentist", "sector": "healthcare",
        "tools": "CEREC|iTero|3Shape|Planmeca Romexis|Dentrix",
        "tags": {"ru": "#стоматология", "en": "#dentistry", "tr": "#diş"},
        "files": "treatment_plan.pdf|xray_notes.txt|implant_protocol.pdf",
        "ru": {
            "objs": "снимок пациента|план лечения|коронку на шестёрку|слепок для брекетов|запись на чистку|карту пациента|протокол имплантации",
            "acts": "поставить пломбу|сделать КТ пациенту|провести профгигиену|установить имплант|перенести приём|согласовать план лечения с пациентом",
            "probs": "у пациента аллергия на анестетик|коронка не села с первого раза|лаборатория задерживает виниры|пациент не пришёл на приём уже второй раз",
        },
        "en": {
            "objs": "the patient's X-ray|the treatment plan|the crown for the lower molar|the impression for braces|the cleaning appointment|the patient chart|the implant protocol",
            "acts": "place a filling|order a CT scan for the patient|do a hygiene cleaning|place an implant|reschedule the appointment|go through the treatment plan with the patient",
            "probs": "the patient is allergic to the anesthetic|the crown didn't fit on the first try|the lab is late with the veneers|the patient missed the appointment for the second time",
        },
        "tr": {
            "objs": "hastanın röntgeni|tedavi planı|alt azı dişi kuronu|diş teli ölçüsü|diş taşı temizliği randevusu|hasta dosyası|implant protokolü",
            "acts": "dolgu yapmak|hastaya tomografi çektirmek|diş taşı temizliği yapmak|implant yerleştirmek|randevuyu ertelemek|tedavi planını hastayla konuşmak",
            "probs": "hastanın anesteziye alerjisi çıktı|kuron ilk denemede oturmadı|laboratuvar laminaları geciktirdi|hasta randevuya ikinci kez gelmedi",
        },
    },
    {
        "key": "accountant", "job_label": "accountant", "sector": "finance",
        "tools": "1С|Excel|QuickBooks|Xero|Logo Tiger|SAP",
        "tags": {"ru": "#бухгалтерия", "en": "#accounting", "tr": "#muhasebe"},
        "files": "balance_q2.pdf|reconciliation.txt|payroll_june.pdf",
        "ru": {
            "objs": "квартальный отчёт|декларацию по НДС|акт сверки|авансовый отчёт|платёжку поставщику|баланс за полугодие|расчёт зарплаты",
            "acts": "закрыть месяц|сдать отчётность в налоговую|провести инвентаризацию|сверить остатки по счетам|начислить амортизацию|подготовить документы для аудита",
            "probs": "налоговая прислала требование|банк заблокировал платёж|не сходится сальдо по 60 счёту|поставщик потерял оригиналы счетов",
        },
        "en": {
            "objs": "the quarterly report|the VAT return|the reconciliation statement|the expense report|the supplier payment|the half-year balance sheet|the payroll calculation",
            "acts": "close the month|file the tax return|run the inventory count|reconcile the bank accounts|post the depreciation|prepare the documents for the audit",
            "probs": "the tax office sent a request for documents|the bank blocked the payment|the payables balance doesn't reconcile|the supplier lost the original invoices",
        },
        "tr": {
            "objs": "çeyrek dönem raporu|KDV beyannamesi|mutabakat tutanağı|masraf raporu|tedarikçi ödemesi|altı aylık bilanço|bordro hesabı",
            "acts": "ayı kapatmak|beyannameyi vergi dairesine vermek|stok sayımı yapmak|banka hesaplarını mutabık etmek|amortisman kaydı atmak|denetim için evrakları hazırlamak",
            "probs": "vergi dairesi ek evrak istedi|banka ödemeyi bloke etti|cari hesap bakiyesi tutmuyor|tedarikçi asıl faturaları kaybetmiş",
        },
    },
    {
        "key": "lawyer", "job_label": "lawyer", "sector": "legal",
        "tools": "КонсультантПлюс|Гарант|LexisNexis|Westlaw|Kazancı|UYAP",
        "tags": {"ru": "#право", "en": "#law", "tr": "#hukuk"},
        "files": "supply_agreement.pdf|claim_draft.txt|nda_template.pdf",
        "ru": {
            "objs": "исковое заявление|договор поставки|претензию контрагенту|доверенность|апелляционную жалобу|NDA для клиента|устав ООО",
            "acts": "подать иск в суд|согласовать договор с контрагентом|подготовить позицию к заседанию|зарегистрировать изменения в ЕГРЮЛ|ознакомиться с материалами дела|направить претензию",
            "probs": "заседание перенесли на месяц|контрагент не подписывает допсоглашение|суд оставил иск без движения|клиент пропустил срок обжалования",
        },
        "en": {
            "objs": "the statement of claim|the supply agreement|the demand letter|the power of attorney|the appeal|the client's NDA|the articles of association",
            "acts": "file the claim with the court|negotiate the contract with the counterparty|prepare our position for the hearing|register the changes with the company registry|review the case file|send the formal notice",
            "probs": "the hearing got postponed by a month|the counterparty won't sign the amendment|the court returned the claim for corrections|the client missed the appeal deadline",
        },
        "tr": {
            "objs": "dava dilekçesi|tedarik sözleşmesi|ihtarname|vekaletname|istinaf dilekçesi|müvekkilin gizlilik sözleşmesi|şirket ana sözleşmesi",
            "acts": "davayı mahkemeye açmak|sözleşmeyi karşı tarafla müzakere etmek|duruşma için savunmayı hazırlamak|değişiklikleri ticaret siciline tescil ettirmek|dosyayı UYAP'tan incelemek|ihtarname göndermek",
            "probs": "duruşma bir ay ertelendi|karşı taraf ek protokolü imzalamıyor|mahkeme dilekçeyi eksiklik nedeniyle iade etti|müvekkil itiraz süresini kaçırmış",
        },
    },
    {
        "key": "electrician", "job_label": "electrician", "sector": "construction",
        "tools": "Fluke|Hilti|DIALux|EPLAN|Bosch GSB",
        "tags": {"ru": "#электрика", "en": "#electrical", "tr": "#elektrik"},
        "files": "wiring_diagram.png|electrical_estimate.pdf|panel_schedule.txt",
        "ru": {
            "objs": "щиток в квартире|схему электропроводки|розетки на кухне|УЗО в ванной|заземление дома|кабель до гаража|смету на электрику",
            "acts": "протянуть кабель до щитка|заменить автоматы|прозвонить линию|поставить УЗО|сделать штробы под проводку|подключить варочную панель",
            "probs": "выбивает автомат при включении духовки|в старом доме алюминиевая проводка|заказчик хочет перенести розетки после штукатурки|на объекте нет заземления",
        },
        "en": {
            "objs": "the apartment breaker panel|the wiring diagram|the kitchen outlets|the bathroom GFCI|the house grounding|the cable run to the garage|the electrical estimate",
            "acts": "pull the cable to the panel|replace the breakers|test the circuit|install a GFCI|cut chases for the wiring|hook up the cooktop",
            "probs": "the breaker trips when the oven turns on|the old house has aluminum wiring|the client wants to move outlets after plastering|there's no grounding on site",
        },
        "tr": {
            "objs": "daire sigorta panosu|elektrik tesisat şeması|mutfak prizleri|banyo kaçak akım rölesi|evin topraklaması|garaja giden kablo|elektrik keşif bedeli",
            "acts": "kabloyu panoya kadar çekmek|sigortaları değiştirmek|hattı ölçmek|kaçak akım rölesi takmak|tesisat için kanal açmak|ocağın bağlantısını yapmak",
            "probs": "fırın açılınca sigorta atıyor|eski binada alüminyum tesisat var|müşteri sıvadan sonra prizlerin yerini değiştirmek istiyor|şantiyede topraklama yok",
        },
    },
    {
        "key": "teacher", "job_label": "teacher", "sector": "education",
        "tools": "Google Classroom|Moodle|Kahoot|Quizlet|Miro|Zoom",
        "tags": {"ru": "#школа", "en": "#teaching", "tr": "#eğitim"},
        "files": "lesson_plan.pdf|grammar_quiz.txt|grades_7b.png",
        "ru": {
            "objs": "контрольную для седьмого класса|план урока|презентацию по истории|домашнее задание|итоговые оценки|сценарий открытого урока|тест по грамматике",
            "acts": "проверить тетради|провести родительское собрание|подготовить детей к олимпиаде|выставить оценки в журнал|составить расписание консультаций|провести пробный экзамен",
            "probs": "полкласса не сдали домашку|родители жалуются на нагрузку|проектор в кабинете опять не работает|урок сократили до 30 минут",
        },
        "en": {
            "objs": "the 7th grade test|the lesson plan|the history presentation|the homework assignment|the final grades|the open lesson script|the grammar quiz",
            "acts": "grade the notebooks|run the parent-teacher meeting|prepare the kids for the olympiad|enter the grades into the gradebook|set up the office hours schedule|run a mock exam",
            "probs": "half the class didn't hand in the homework|parents complain about the workload|the classroom projector is broken again|the lesson got cut to 30 minutes",
        },
        "tr": {
            "objs": "7. sınıf sınavı|ders planı|tarih sunumu|hafta sonu ödevi|dönem sonu notları|açık ders senaryosu|dil bilgisi testi",
            "acts": "defterleri kontrol etmek|veli toplantısı yapmak|öğrencileri olimpiyata hazırlamak|notları e-Okul'a girmek|etüt programını hazırlamak|deneme sınavı yapmak",
            "probs": "sınıfın yarısı ödevi getirmedi|veliler ders yükünden şikayet ediyor|sınıftaki projektör yine bozuldu|ders 30 dakikaya indirildi",
        },
    },
    {
        "key": "marketing_manager", "job_label": "marketing manager", "sector": "marketing",
        "tools": "Google Ads|Meta Ads|HubSpot|Google Analytics|Mailchimp|Semrush",
        "tags": {"ru": "#маркетинг", "en": "#marketing", "tr": "#pazarlama"},
        "files": "media_plan_q3.pdf|campaign_report.png|brief.txt",
        "ru": {
            "objs": "медиаплан на квартал|рекламную кампанию|контент-план|лендинг акции|отчёт по конверсиям|бриф для агентства|email-рассылку",
            "acts": "запустить таргет|снизить стоимость лида|провести A/B-тест баннеров|согласовать бюджет на рекламу|настроить UTM-метки|собрать семантику",
            "probs": "CTR упал в два раза|модерация отклонила объявления|стоимость лида выросла на 40%|клиент урезал бюджет посреди кампании",
        },
        "en": {
            "objs": "the quarterly media plan|the ad campaign|the content plan|the promo landing page|the conversion report|the agency brief|the newsletter",
            "acts": "launch the targeted ads|bring down the cost per lead|A/B test the banners|get the ad budget approved|set up UTM tags|do the keyword research",
            "probs": "CTR dropped by half|the ads got rejected in moderation|the cost per lead went up 40%|the client cut the budget mid-campaign",
        },
        "tr": {
            "objs": "çeyreklik medya planı|reklam kampanyası|içerik planı|kampanya landing sayfası|dönüşüm raporu|ajans brifi|e-bülten",
            "acts": "hedefli reklamları başlatmak|lead maliyetini düşürmek|banner'larla A/B testi yapmak|reklam bütçesini onaylatmak|UTM etiketlerini kurmak|anahtar kelime araştırması yapmak",
            "probs": "tıklama oranı yarıya düştü|reklamlar onaydan geçmedi|lead maliyeti yüzde 40 arttı|müşteri kampanyanın ortasında bütçeyi kıstı",
        },
    },
    {
        "key": "photographer", "job_label": "photographer", "sector": "media",
        "tools": "Lightroom|Photoshop|Capture One|Canon R6|Sony A7 IV|Profoto",
        "tags": {"ru": "#фотография", "en": "#photography", "tr": "#fotoğraf"},
        "files": "shot_list.txt|contact_sheet.png|price_list.pdf",
        "ru": {
            "objs": "съёмку свадьбы|ретушь портретов|фотосессию в студии|предметку для каталога|портфолио|цветокоррекцию серии|репортаж с конференции",
            "acts": "отобрать кадры для клиента|арендовать студию|откалибровать монитор|сдать фото заказчику|выставить свет|обработать RAW-файлы",
            "probs": "карта памяти сломалась прямо на съёмке|клиент просит исходники|в студии сгорел импульсный свет|модель опоздала на два часа",
        },
        "en": {
            "objs": "the wedding shoot|the portrait retouching|the studio session|the catalog product shots|the portfolio|the color grading for the series|the conference coverage",
            "acts": "cull the shots for the client|book the studio|calibrate the monitor|deliver the photos to the client|set up the lighting|process the RAW files",
            "probs": "the memory card died in the middle of the shoot|the client is asking for the raw files|a studio strobe burned out|the model was two hours late",
        },
        "tr": {
            "objs": "düğün çekimi|portre rötuşu|stüdyo çekimi|katalog ürün fotoğrafları|portfolyo|serinin renk düzenlemesi|konferans çekimi",
            "acts": "müşteri için kareleri seçmek|stüdyo kiralamak|monitörü kalibre etmek|fotoğrafları müşteriye teslim etmek|ışığı kurmak|RAW dosyalarını işlemek",
            "probs": "hafıza kartı çekimin ortasında bozuldu|müşteri ham dosyaları istiyor|stüdyodaki flaş yandı|model iki saat geç geldi",
        },
    },
    {
        "key": "chef", "job_label": "chef", "sector": "hospitality",
        "tools": "Rational|iiko|Thermomix|Josper|Pacojet",
        "tags": {"ru": "#кухня", "en": "#chefslife", "tr": "#mutfak"},
        "files": "menu_summer.pdf|food_cost.txt|banquet_menu.pdf",
        "ru": {
            "objs": "новое меню|техкарту на борщ|заготовки на банкет|сезонное предложение|заказ у поставщика рыбы|дегустационный сет|калькуляцию блюд",
            "acts": "пересчитать фудкост|принять поставку овощей|обучить нового повара|подготовить банкет на 60 человек|провести инвентаризацию склада|отработать новое блюдо",
            "probs": "поставщик привёз несвежую рыбу|сломался пароконвектомат|на кухне не хватает двух поваров|банкет перенесли на сегодня",
        },
        "en": {
            "objs": "the new menu|the recipe card for the risotto|the prep for the banquet|the seasonal special|the fish supplier order|the tasting menu|the dish costing",
            "acts": "recalculate the food cost|receive the vegetable delivery|train the new line cook|prep a banquet for 60 guests|do the stock count|test the new dish",
            "probs": "the supplier delivered fish that wasn't fresh|the combi oven broke down|we're two cooks short in the kitchen|the banquet got moved to today",
        },
        "tr": {
            "objs": "yeni menü|mercimek çorbası reçete kartı|ziyafet hazırlığı|sezon menüsü|balık tedarikçisi siparişi|tadım menüsü|yemek maliyet hesabı",
            "acts": "gıda maliyetini yeniden hesaplamak|sebze teslimatını teslim almak|yeni aşçıyı eğitmek|60 kişilik ziyafet hazırlamak|depo sayımı yapmak|yeni tabağı denemek",
            "probs": "tedarikçi taze olmayan balık getirdi|konveksiyonlu fırın bozuldu|mutfakta iki aşçı eksik|ziyafet bugüne alındı",
        },
    },
    {
        "key": "realtor", "job_label": "real-estate agent", "sector": "real estate",
        "tools": "Циан|Авито|Zillow|Rightmove|Sahibinden|Emlakjet",
        "tags": {"ru": "#недвижимость", "en": "#realestate", "tr": "#emlak"},
        "files": "listing_2br.pdf|valuation.pdf|floorplan_flat.png",
        "ru": {
            "objs": "двушку на Таганке|договор задатка|объявление о продаже|выписку из ЕГРН|показ квартиры|ипотечную заявку|оценку квартиры",
            "acts": "провести показ|проверить юридическую чистоту|снизить цену на объект|согласовать ипотеку в банке|сделать фото объекта|подписать договор у нотариуса",
            "probs": "покупатель отказался за день до сделки|банк не одобрил ипотеку|собственник поднял цену|в квартире нашлась незаконная перепланировка",
        },
        "en": {
            "objs": "the two-bedroom listing|the deposit agreement|the sale listing|the title report|the apartment viewing|the mortgage application|the property valuation",
            "acts": "host a viewing|run the title check|lower the asking price|get the mortgage approved|get photos of the property|sign the contract at the notary",
            "probs": "the buyer pulled out a day before closing|the bank didn't approve the mortgage|the owner raised the price|the apartment has an unapproved remodel",
        },
        "tr": {
            "objs": "Kadıköy'deki 2+1 daire|kaparo sözleşmesi|satış ilanı|tapu kaydı|daire gösterimi|konut kredisi başvurusu|ekspertiz raporu",
            "acts": "daire gösterimi yapmak|tapuyu kontrol etmek|fiyatı düşürmek|krediyi bankaya onaylatmak|dairenin fotoğraflarını çekmek|tapuda satışı yapmak",
            "probs": "alıcı tapudan bir gün önce vazgeçti|banka krediyi onaylamadı|ev sahibi fiyatı yükseltti|dairede kaçak tadilat çıktı",
        },
    },
    {
        "key": "logistics_coordinator", "job_label": "logistics coordinator", "sector": "logistics",
        "tools": "SAP TM|Transporeon|Flexport|Excel|1С:Логистика",
        "tags": {"ru": "#логистика", "en": "#logistics", "tr": "#lojistik"},
        "files": "shipping_schedule.pdf|waybill_0417.txt|route_map.png",
        "ru": {
            "objs": "маршрут на Казань|накладную на партию|таможенную декларацию|график отгрузок|заявку перевозчику|трек-номер контейнера|отчёт по доставкам",
            "acts": "согласовать окно разгрузки|найти машину на 20 тонн|растаможить контейнер|перестроить маршрут|забронировать место на складе|отследить груз",
            "probs": "фура застряла на границе|контейнер задерживается в порту|склад не принял паллеты|водитель потерял документы",
        },
        "en": {
            "objs": "the route to Warsaw|the waybill for the shipment|the customs declaration|the shipping schedule|the carrier booking|the container tracking number|the delivery report",
            "acts": "confirm the unloading slot|find a 20-ton truck|clear the container through customs|reroute the delivery|book space at the warehouse|track the shipment",
            "probs": "the truck is stuck at the border|the container is delayed at the port|the warehouse rejected the pallets|the driver lost the paperwork",
        },
        "tr": {
            "objs": "Ankara güzergahı|sevkiyat irsaliyesi|gümrük beyannamesi|sevkiyat takvimi|nakliyeci rezervasyonu|konteyner takip numarası|teslimat raporu",
            "acts": "boşaltma saatini teyit etmek|20 tonluk tır bulmak|konteyneri gümrükten çekmek|güzergahı değiştirmek|depoda yer ayırtmak|yükü takip etmek",
            "probs": "tır sınırda takıldı|konteyner limanda gecikiyor|depo paletleri kabul etmedi|şoför evrakları kaybetmiş",
        },
    },
]

# The owner's own profession (not assigned to other users).
_OWNER_PROFESSION: dict[str, Any] = {
    "key": "product_manager", "job_label": "product manager", "sector": "software",
    "tools": "Jira|Notion|Amplitude|Figma|Miro|Linear",
    "tags": {"ru": "#продукт", "en": "#productmanagement", "tr": "#ürün"},
    "files": "roadmap_q3.pdf|prd_onboarding.txt|funnel.png",
    "ru": {
        "objs": "роадмап на квартал|спеку новой фичи|бэклог|результаты A/B-теста|CJM онбординга|метрики удержания|релизный план",
        "acts": "приоритизировать бэклог|провести интервью с пользователями|согласовать роадмап с командой|выкатить фичу на 10% пользователей|разобрать метрики после релиза|написать PRD",
        "probs": "релиз съехал на неделю|конверсия в оплату просела|дизайн и разработка по-разному поняли задачу|стейкхолдеры хотят всё и сразу",
    },
    "en": {
        "objs": "the quarterly roadmap|the feature spec|the backlog|the A/B test results|the onboarding journey map|the retention metrics|the release plan",
        "acts": "prioritize the backlog|run user interviews|align the roadmap with the team|roll the feature out to 10% of users|go through the metrics after the release|write the PRD",
        "probs": "the release slipped by a week|conversion to paid dropped|design and engineering understood the task differently|stakeholders want everything at once",
    },
    "tr": {
        "objs": "çeyreklik yol haritası|yeni özelliğin spesifikasyonu|backlog|A/B testi sonuçları|onboarding yolculuk haritası|elde tutma metrikleri|sürüm planı",
        "acts": "backlog'u önceliklendirmek|kullanıcı görüşmeleri yapmak|yol haritasını ekiple netleştirmek|özelliği kullanıcıların %10'una açmak|sürümden sonra metrikleri incelemek|PRD yazmak",
        "probs": "sürüm bir hafta kaydı|ücretli dönüşüm düştü|tasarım ve geliştirme işi farklı anlamış|paydaşlar her şeyi aynı anda istiyor",
    },
}

_DAYS = {
    "ru": "завтра|сегодня вечером|в понедельник|во вторник|в среду|в четверг|в пятницу|на следующей неделе".split("|"),
    "en": "tomorrow|tonight|on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|next week".split("|"),
    "tr": "yarın|bu akşam|pazartesi günü|salı günü|çarşamba günü|perşembe günü|cuma günü|haftaya".split("|"),
}
_NUMS = ("2", "3", "4")
_MINUTES = ("10", "15", "20", "30")

# --- templates: work (profession vocabulary) -------------------------------------------------
_WORK = {
    "ru": {
        "question": [
            "Кто-нибудь может посмотреть {obj}?",
            "Коллеги, кто работает в {tool}? Нужен совет.",
            "Как вы обычно поступаете, когда {prob}?",
            "Сколько у вас уходит времени, чтобы {act}?",
            "Есть у кого-нибудь хороший шаблон на {obj}?",
            "Кто сможет {act} {day}?",
            "Подскажите, {tool} или {tool2}? Что сейчас удобнее?",
            "А нормально, что {prob}? Или я что-то упускаю?",
        ],
        "statement": [
            "Сегодня закончил {obj}, завтра отправлю клиенту.",
            "Всю неделю делаю {obj}, ни на что другое времени нет.",
            "{Prob}, придётся переделывать.",
            "Переделал {obj} по замечаниям, вроде стало лучше.",
            "На этой неделе {n} новых заказа, так что я на связи урывками.",
            "Перешёл на {tool}, пока всё устраивает.",
            "Отправлю {obj} {day}, сейчас доделываю.",
            "Утром успел {act}, теперь можно выдохнуть.",
        ],
        "discussion": [
            "Мне кажется, {tool} уже не тот, многие уходят на {tool2}.",
            "Не согласен, {act} всегда лучше заранее.",
            "По опыту, если {prob}, лучше сразу предупредить клиента.",
            "А я считаю, что {act} — это половина успеха.",
            "У нас тоже так было: {prob}. Разобрались за пару дней.",
            "С одной стороны {tool} удобнее, с другой — {tool2} дешевле.",
        ],
        "command": [
            "Скиньте, пожалуйста, {obj} до вечера.",
            "Пожалуйста, проверьте {obj}, там могут быть ошибки.",
            "Нужно {act} {day}, кто-нибудь возьмите на себя.",
            "Отправьте мне {obj} в личку.",
            "pls check {obj}, горит",
            "/remind {day} {act}",
        ],
        "feedback": [
            "Спасибо за {obj}, отличная работа!",
            "Посмотрел {obj} — супер, клиент доволен.",
            "Огромное спасибо, очень помогли разобраться с {tool}.",
            "Всё получилось, спасибо за совет про {tool}!",
        ],
    },
    "en": {
        "question": [
            "Could someone take a look at {obj}?",
            "Anyone here using {tool}? Need some advice.",
            "What do you usually do when {prob}?",
            "How long does it take you to {act}?",
            "Does anyone have a good template for {obj}?",
            "Who can {act} {day}?",
            "{tool} or {tool2}, which one do you prefer these days?",
            "Is it normal that {prob}? Or am I missing something?",
        ],
        "statement": [
            "Finished {obj} today, sending it to the client tomorrow.",
            "Spent the whole week on {obj}, no time for anything else.",
            "Well, {prob}, so I have to redo it.",
            "Reworked {obj} based on the feedback, looks better now.",
            "Got {n} new projects this week, so I'm only online now and then.",
            "Switched to {tool} last month, happy so far.",
            "I'll send {obj} {day}, finishing it now.",
            "Managed to {act} this morning, finally.",
        ],
        "discussion": [
            "Honestly I think {tool} is falling behind, a lot of people are moving to {tool2}.",
            "Disagree, it's always better to {act} early.",
            "In my experience, if {prob}, you should tell the client right away.",
            "I'd say being able to {act} quickly is half the job.",
            "Same thing happened to us: {prob}. Took a couple of days to sort out.",
            "{tool} is more convenient, but {tool2} is cheaper, so it depends.",
        ],
        "command": [
            "Please send me {obj} by tonight.",
            "Pls check {obj}, there might be mistakes.",
            "We need to {act} {day}, someone please take it.",
            "Send {obj} to me in DM.",
            "Please review {obj} before the call.",
            "/remind {day} {act}",
        ],
        "feedback": [
            "Thanks for {obj}, great work!",
            "Checked {obj}, looks amazing, the client is happy.",
            "Thanks a lot, you really helped me with {tool}.",
            "It worked, thanks for the tip about {tool}!",
        ],
    },
    "tr": {
        "question": [
            "{obj} için bakabilecek biri var mı?",
            "{tool} kullanan var mı? Bir konuda fikir lazım.",
            "Şöyle bir durum var: {prob}. Siz olsanız ne yapardınız?",
            "Sizde {act} ne kadar sürüyor?",
            "{obj} için iyi bir şablonu olan var mı?",
            "{day} {act} için müsait olan var mı?",
            "{tool} ya da {tool2}, sizce hangisi daha iyi?",
            "{Prob}, bu normal mi?",
        ],
        "statement": [
            "Bugün {obj} bitti, yarın müşteriye gönderiyorum.",
            "Bütün hafta {obj} ile uğraştım, başka işe vakit kalmadı.",
            "{Prob}, baştan yapmam lazım.",
            "Geri bildirimlere göre {obj} üzerinde değişiklik yaptım.",
            "Bu hafta {n} yeni proje geldi, o yüzden biraz geç cevap veriyorum.",
            "Geçen ay {tool} kullanmaya başladım, şimdilik memnunum.",
            "{obj} {day} hazır olur, şu an bitiriyorum.",
            "Sabah {act} işini hallettim, nihayet.",
        ],
        "discussion": [
            "Bence {tool} artık geride kaldı, çoğu kişi {tool2} tarafına geçiyor.",
            "Katılmıyorum, bence {act} için erken davranmak lazım.",
            "Tecrübeme göre {prob} ise müşteriye hemen söylemek gerekir.",
            "Bana göre işin yarısı {act}.",
            "Bizde de aynısı oldu: {prob}. Birkaç günde çözdük.",
            "{tool} daha pratik ama {tool2} daha ucuz, duruma göre değişir.",
        ],
        "command": [
            "Lütfen {obj} dosyasını akşama kadar gönderin.",
            "{obj} kontrol edin lütfen, hata olabilir.",
            "{day} {act} gerekiyor, biri üstlensin lütfen.",
            "{obj} dosyasını bana özelden atın lütfen.",
            "Toplantıdan önce {obj} üzerinden geçin lütfen.",
            "/remind {day} {act}",
        ],
        "feedback": [
            "{obj} için teşekkürler, harika iş!",
            "{obj} dosyasını inceledim, süper olmuş, müşteri çok memnun.",
            "Çok teşekkürler, {tool} konusunda çok yardımcı oldunuz.",
            "Eline sağlık, {tool} tavsiyesi işe yaradı!",
        ],
    },
}

# --- templates: small talk (no profession vocabulary) ----------------------------------------
_SMALL = {
    "ru": {
        "greeting": ["Привет всем!", "Всем привет 👋", "Доброе утро!", "Добрый вечер, коллеги", "Привет, как дела?",
                     "Всем хорошего дня!", "Здравствуйте!", "Приветствую всех", "Привет-привет", "Доброе утро, чат ☀️"],
        "question": ["Кто идёт в субботу на встречу?", "Не знаете, какая завтра погода?", "Где здесь рядом хороший кофе?",
                     "Кто смотрел вчера матч?", "Во сколько сегодня созвон?", "Что посоветуете посмотреть на выходных?",
                     "Как прошли выходные?", "Кто-нибудь едет в центр после шести?", "Есть тут кто-то из Казани?",
                     "Какой сервис доставки еды сейчас нормальный?"],
        "statement": ["Сегодня весь день дождь.", "Пробки жуткие, опоздаю минут на {m}.", "Купил новый ноутбук, пока нравится.",
                      "На выходных ездили за город, было здорово.", "Сегодня работаю из кафе.", "Я на созвоне, отвечу позже.",
                      "Наконец-то выспался.", "Завтра меня не будет, уезжаю к родителям.",
                      "У нас опять отключили горячую воду.", "Записался в спортзал, посмотрим, надолго ли."],
        "discussion": ["Согласен, это важно.", "Не уверен, что это хорошая идея.", "С одной стороны да, но сроки горят.",
                       "Я бы подождал до понедельника.", "Спорный вопрос, если честно.", "Поддерживаю, давайте так и сделаем.",
                       "Мне кажется, мы усложняем.", "Тут всё зависит от бюджета.", "Хорошая мысль, но есть нюансы."],
        "feedback": ["Спасибо большое!", "Спасибо, отличная работа!", "Супер, спасибо 🙏", "Благодарю, очень помогли.",
                     "Отлично получилось!", "Круто, спасибо за помощь!", "Вы лучшие, спасибо!"],
        "command": ["/start", "/help", "Скиньте, пожалуйста, ссылку на встречу.", "Напомните завтра про созвон.",
                    "Добавьте меня в список, пожалуйста.", "Закрепите, пожалуйста, расписание.",
                    "Пришлите фото с вечеринки, пожалуйста.", "/poll Где встречаемся в субботу"],
    },
    "en": {
        "greeting": ["Hi all!", "Hey everyone 👋", "Good morning!", "Good evening, folks", "Hi, how's it going?",
                     "Have a nice day everyone!", "Hello!", "Morning all ☀️", "Hey there"],
        "question": ["Who's coming to the meetup on Saturday?", "Does anyone know what the weather will be like tomorrow?",
                     "Any good coffee places nearby?", "Did anyone watch the game last night?", "What time is the call today?",
                     "Any recommendations for something to watch this weekend?", "How was your weekend?",
                     "Anyone heading downtown after six?", "Is anyone here from Berlin?",
                     "Which food delivery app is decent these days?"],
        "statement": ["It's been raining all day.", "Traffic is terrible, I'll be about {m} minutes late.",
                      "Got a new laptop, liking it so far.", "We went out of town for the weekend, it was great.",
                      "Working from a cafe today.", "I'm on a call, will reply later.", "Finally got some sleep.",
                      "I'm off tomorrow, visiting my parents.", "The hot water is off again in our building.",
                      "Signed up for the gym, let's see how long it lasts."],
        "discussion": ["Agreed, that's important.", "Not sure it's a good idea.", "On one hand yes, but the deadline is close.",
                       "I'd wait until Monday.", "That's debatable, to be honest.", "I'm in, let's do it that way.",
                       "I think we're overcomplicating this.", "It all depends on the budget.",
                       "Good point, but there are caveats."],
        "feedback": ["Thanks a lot!", "Thanks, great work!", "Awesome, thank you 🙏", "Really appreciate it, that helped.",
                     "Looks great!", "Cool, thanks for the help!", "You're the best, thanks!"],
        "command": ["/start", "/help", "Please send the meeting link.", "Remind me about the call tomorrow.",
                    "Please add me to the list.", "Pls pin the schedule.", "Please share the photos from the party.",
                    "/poll Where do we meet on Saturday"],
    },
    "tr": {
        "greeting": ["Merhaba!", "Herkese selam 👋", "Günaydın!", "İyi akşamlar arkadaşlar", "Selam, nasılsınız?",
                     "Herkese iyi günler!", "Merhabalar", "Günaydın grup ☀️", "Selamlar"],
        "question": ["Cumartesi buluşmaya kim geliyor?", "Yarın hava nasıl olacak, bilen var mı?",
                     "Yakınlarda güzel bir kahveci var mı?", "Dün akşamki maçı izleyen oldu mu?",
                     "Bugünkü toplantı saat kaçta?", "Hafta sonu için film önerisi olan var mı?", "Hafta sonu nasıl geçti?",
                     "Altıdan sonra merkeze giden var mı?", "Aranızda İzmirli var mı?",
                     "Yemek siparişi için hangi uygulama iyi?"],
        "statement": ["Bütün gün yağmur yağdı.", "Trafik berbat, {m} dakika kadar gecikeceğim.",
                      "Yeni laptop aldım, şimdilik memnunum.", "Hafta sonu şehir dışına çıktık, çok güzeldi.",
                      "Bugün kafeden çalışıyorum.", "Toplantıdayım, sonra yazarım.", "Sonunda biraz uyuyabildim.",
                      "Yarın yokum, aileme gidiyorum.", "Bizim binada yine sıcak su kesildi.",
                      "Spor salonuna yazıldım, bakalım ne kadar sürecek."],
        "discussion": ["Katılıyorum, bu önemli.", "Bunun iyi bir fikir olduğundan emin değilim.",
                       "Bir yandan evet ama teslim tarihi yakın.", "Ben pazartesiye kadar beklerdim.",
                       "Açıkçası tartışmalı bir konu.", "Bence de, öyle yapalım.",
                       "Bence işi gereksiz karmaşıklaştırıyoruz.", "Her şey bütçeye bağlı.",
                       "Güzel fikir ama bazı detaylar var."],
        "feedback": ["Çok teşekkürler!", "Teşekkürler, harika iş!", "Süper, teşekkürler 🙏", "Eline sağlık, çok yardımcı oldu.",
                     "Harika olmuş!", "Yardımın için sağ ol!", "Emeğinize sağlık!"],
        "command": ["/start", "/help", "Toplantı linkini gönderin lütfen.", "Yarın toplantıyı hatırlatın lütfen.",
                    "Beni de listeye ekleyin lütfen.", "Programı sabitleyin lütfen.",
                    "Partiden fotoğrafları paylaşın lütfen.", "/poll Cumartesi nerede buluşuyoruz"],
    },
}

# --- templates: replies, keyed by the intent of the message replied to -----------------------
# Each entry: (intent of the reply, template). {name}: first name of the author replied to,
# {obj}: the object the replied-to message talked about (only in _REPLY_OBJ).
_REPLY = {
    "ru": {
        "question": [("statement", "Да, могу помочь, напиши в личку."), ("statement", "Не знаю, но спрошу у знакомых."),
                     ("statement", "Я обычно делаю так: сначала план, потом детали."),
                     ("statement", "Кажется, да. Проверю и отпишусь."), ("statement", "Нет, к сожалению, не сталкивался."),
                     ("statement", "Хороший вопрос. Я бы начал с малого."), ("question", "А в чём именно проблема?"),
                     ("statement", "{name}, посмотри закреп, там всё есть."),
                     ("statement", "Была такая же ситуация, решилось само через пару дней.")],
        "greeting": [("greeting", "Привет!"), ("greeting", "Привет, {name} 👋"), ("greeting", "Доброе утро!"),
                     ("greeting", "Привет, рад видеть!")],
        "feedback": [("feedback", "Спасибо, приятно!"), ("feedback", "Рад, что помогло 🙂"), ("feedback", "Всегда пожалуйста!"),
                     ("feedback", "Спасибо, {name}!")],
        "statement": [("discussion", "Согласен полностью."), ("question", "Интересно, а почему так?"),
                      ("feedback", "Звучит отлично, поздравляю!"), ("discussion", "Понимаю, у меня было так же."),
                      ("question", "А сколько это заняло по времени?"), ("discussion", "Не уверен, но попробовать стоит."),
                      ("discussion", "{name}, тут я бы поспорил."), ("discussion", "Да, это частая история.")],
        "small_question": [("statement", "Я иду!"), ("statement", "Я пас, на этой неделе завал."),
                           ("statement", "Отлично, спасибо, ездили на море."), ("statement", "Кажется, будет дождь."),
                           ("statement", "Посмотри «Шогун», не пожалеешь."), ("statement", "Созвон в три, ссылка в закрепе."),
                           ("question", "А во сколько?"), ("statement", "{name}, я тоже не знаю 🙂")],
        "command": [("statement", "Ок, сделаю."), ("statement", "Отправил."), ("statement", "Принято 👍"),
                    ("statement", "Сейчас гляну."), ("statement", "Хорошо, {name}, до вечера сделаю.")],
    },
    "en": {
        "question": [("statement", "Yes, I can help, DM me."), ("statement", "Not sure, but I'll ask around."),
                     ("statement", "I usually do it like this: plan first, details later."),
                     ("statement", "I think so. Let me check and get back to you."),
                     ("statement", "No, sorry, never dealt with that."),
                     ("statement", "Good question. I'd start small."), ("question", "What exactly is the problem?"),
                     ("statement", "{name}, check the pinned message, it's all there."),
                     ("statement", "Had the same thing, it sorted itself out in a couple of days.")],
        "greeting": [("greeting", "Hi!"), ("greeting", "Hey {name} 👋"), ("greeting", "Good morning!"),
                     ("greeting", "Hi, good to see you!")],
        "feedback": [("feedback", "Thanks, appreciate it!"), ("feedback", "Glad it helped 🙂"), ("feedback", "Anytime!"),
                     ("feedback", "Thank you, {name}!")],
        "statement": [("discussion", "Totally agree."), ("question", "Interesting, why is that?"),
                      ("feedback", "Sounds great, congrats!"), ("discussion", "I get it, same happened to me."),
                      ("question", "How long did that take?"), ("discussion", "Not sure, but worth a try."),
                      ("discussion", "{name}, I'd argue with that."), ("discussion", "Yeah, that happens a lot.")],
        "small_question": [("statement", "I'm in!"), ("statement", "I'll pass, swamped this week."),
                           ("statement", "Great, thanks, we went to the seaside."), ("statement", "Looks like rain."),
                           ("statement", "Watch Shogun, you won't regret it."), ("statement", "The call is at 3, link is pinned."),
                           ("question", "What time?"), ("statement", "No idea either, {name} 🙂")],
        "command": [("statement", "Ok, will do."), ("statement", "Sent."), ("statement", "Got it 👍"),
                    ("statement", "Looking now."), ("statement", "Sure {name}, I'll do it by tonight.")],
    },
    "tr": {
        "question": [("statement", "Evet, yardımcı olabilirim, özelden yaz."), ("statement", "Bilmiyorum ama çevreme sorarım."),
                     ("statement", "Ben genelde önce planı, sonra detayları yapıyorum."),
                     ("statement", "Sanırım evet. Kontrol edip yazarım."), ("statement", "Maalesef, hiç karşılaşmadım."),
                     ("statement", "Güzel soru. Ben küçükten başlardım."), ("question", "Sorun tam olarak ne?"),
                     ("statement", "{name}, sabitlenmiş mesaja bak, her şey orada."),
                     ("statement", "Bende de aynısı olmuştu, birkaç günde kendiliğinden düzeldi.")],
        "greeting": [("greeting", "Merhaba!"), ("greeting", "Selam {name} 👋"), ("greeting", "Günaydın!"),
                     ("greeting", "Selam, görüşmek güzel!")],
        "feedback": [("feedback", "Teşekkürler, çok naziksin!"), ("feedback", "İşine yaradıysa ne mutlu 🙂"),
                     ("feedback", "Rica ederim!"), ("feedback", "Sağ ol {name}!")],
        "statement": [("discussion", "Kesinlikle katılıyorum."), ("question", "İlginç, neden öyle?"),
                      ("feedback", "Harika, tebrikler!"), ("discussion", "Anlıyorum, bende de aynısı oldu."),
                      ("question", "Ne kadar sürdü peki?"), ("discussion", "Emin değilim ama denemeye değer."),
                      ("discussion", "{name}, burada sana katılmıyorum."), ("discussion", "Evet, sık olan bir durum.")],
        "small_question": [("statement", "Ben geliyorum!"), ("statement", "Ben bu sefer yokum, işler yoğun."),
                           ("statement", "Harikaydı, denize gittik."), ("statement", "Yağmur yağacak gibi."),
                           ("statement", "Shogun'u izle, pişman olmazsın."), ("statement", "Toplantı saat üçte, link sabitlendi."),
                           ("question", "Saat kaçta?"), ("statement", "{name}, ben de bilmiyorum 🙂")],
        "command": [("statement", "Tamam, hallederim."), ("statement", "Gönderdim."), ("statement", "Anlaşıldı 👍"),
                    ("statement", "Hemen bakıyorum."), ("statement", "Tamam {name}, akşama kadar yaparım.")],
    },
}
_REPLY_OBJ = {
    "ru": [("statement", "Могу посмотреть {obj} вечером."), ("command", "Скинь {obj}, гляну."),
           ("question", "А {obj} уже согласовали с клиентом?"), ("feedback", "Видел {obj}, очень круто.")],
    "en": [("statement", "I can look at {obj} tonight."), ("command", "Send me {obj}, I'll take a look."),
           ("question", "Has the client approved {obj} yet?"), ("feedback", "Saw {obj}, really nice.")],
    "tr": [("statement", "{obj} için akşam bakabilirim."), ("command", "{obj} dosyasını at, bakayım."),
           ("question", "{obj} müşteriyle netleşti mi?"), ("feedback", "{obj} çok iyi olmuş.")],
}

# --- templates: messages carrying personal data ----------------------------------------------
_PII_TEMPLATES = {
    "ru": [("statement", "Мой номер {phone}, звоните после 10."), ("command", "Пишите на почту {email}, отвечу сегодня."),
           ("statement", "Вот ссылка: {url}"), ("statement", "Реквизиты для оплаты: {iban}"),
           ("statement", "Можно перевести на карту {card}, спасибо!"), ("statement", "Связаться со мной: {phone} или {email}"),
           ("statement", "Портфолио тут {url}, телефон {phone}"), ("statement", "Новый номер {phone}, старый больше не работает."),
           ("statement", "Скинул {obj} сюда: {url}"), ("statement", "Если что, моя почта {email}"),
           ("statement", "Номер карты для предоплаты: {card}"), ("command", "Оплату переведите на IBAN {iban}, пожалуйста.")],
    "en": [("statement", "My number is {phone}, call after 10."), ("command", "Email me at {email}, I'll reply today."),
           ("statement", "Here's the link: {url}"), ("statement", "Payment details: {iban}"),
           ("statement", "You can transfer to my card {card}, thanks!"), ("statement", "Reach me at {phone} or {email}"),
           ("statement", "Portfolio is here {url}, phone {phone}"), ("statement", "New number {phone}, the old one doesn't work anymore."),
           ("statement", "Uploaded {obj} here: {url}"), ("statement", "Just in case, my email is {email}"),
           ("statement", "Card number for the deposit: {card}"), ("command", "Please wire it to IBAN {iban}.")],
    "tr": [("statement", "Numaram {phone}, 10'dan sonra arayın."), ("command", "{email} adresine yazın, bugün dönerim."),
           ("statement", "Link burada: {url}"), ("statement", "Ödeme bilgileri: {iban}"),
           ("statement", "Kartıma gönderebilirsiniz: {card}, teşekkürler!"),
           ("statement", "Bana {phone} ya da {email} üzerinden ulaşabilirsiniz"),
           ("statement", "Portfolyom burada {url}, telefon {phone}"), ("statement", "Yeni numaram {phone}, eskisi artık çalışmıyor."),
           ("statement", "{obj} dosyasını buraya yükledim: {url}"), ("statement", "Bu arada e-postam {email}"),
           ("statement", "Kapora için kart numarası: {card}"), ("command", "Ödemeyi {iban} IBAN'ına gönderin lütfen.")],
}

# --- channel posts (the owner's channel) ------------------------------------------------------
_CHANNEL = {
    "ru": {
        "titles": ["Как приоритизировать бэклог", "Три ошибки в онбординге", "Метрики, которые стоит смотреть каждый день",
                   "Зачем говорить с пользователями", "Роадмап — это не обещание", "Почему релиз съехал и что с этим делать",
                   "Заметки с продуктовой конференции", "Как писать PRD, который прочитают"],
        "bodies": ["Коротко: {act} нужно регулярно, а не раз в квартал.",
                   "Частая ситуация: {prob}. Помогает честный разговор с командой и маленькие шаги.",
                   "Если открыть {obj} раз в неделю, половина сюрпризов исчезает.",
                   "В {tool} это делается за десять минут, проверено.",
                   "Мой чек-лист: цель, метрика, гипотеза, срок. Всё остальное — детали."],
        "tails": ["Пишите в комментариях, как у вас.", "Сохраняйте и делитесь с коллегами.", "Продолжение на неделе.",
                  "Вопросы — в личку."],
        "link": "Подробнее: ",
        "tag": "#продукт",
    },
    "en": {
        "titles": ["How to prioritize a backlog", "Three onboarding mistakes", "Metrics worth checking every day",
                   "Why talk to users", "A roadmap is not a promise", "The release slipped: now what",
                   "Notes from a product conference", "How to write a PRD people actually read"],
        "bodies": ["In short: you need to {act} regularly, not once a quarter.",
                   "A common story: {prob}. What helps is an honest talk with the team and small steps.",
                   "If you open {obj} once a week, half of the surprises go away.",
                   "In {tool} this takes ten minutes, tried and tested.",
                   "My checklist: goal, metric, hypothesis, deadline. Everything else is detail."],
        "tails": ["Tell me in the comments how it works for you.", "Save it and share with your team.",
                  "More later this week.", "Questions go to DM."],
        "link": "More: ",
        "tag": "#productmanagement",
    },
}

# --- forwarded-from channels (fictional) -------------------------------------------------------
_FWD_CHANNELS = {
    "ru": ["Профессия: дайджест", "Рабочие заметки", "Полезное каждый день", "Деловой вестник"],
    "en": ["Industry Digest", "Work Smarter", "Daily Pro Tips", "The Weekly Brief"],
    "tr": ["Sektör Gündemi", "İş Dünyası Notları", "Günün İpuçları", "Haftalık Bülten"],
}
_FWD_PREFIX = {"ru": "📰 ", "en": "📰 ", "tr": "📰 "}

_BOLD_PREFIX = {"ru": "Важно:", "en": "Important:", "tr": "Önemli:"}
_EMOJI_SUFFIX = {"ru": (" 🙂", " 👍", " 🔥", " 😅", " 🙏", ")", "))"),
                 "en": (" 🙂", " 👍", " 🔥", " 😅", " 🙏", " lol"),
                 "tr": (" 🙂", " 👍", " 🔥", " 😅", " 🙏", " :)")}
_REACTION_EMOJI = ("👍", "❤", "🔥", "👏", "😁", "🙏", "🤔", "👌")

# --- people -----------------------------------------------------------------------------------
_NAMES = {
    "ru": {
        "m": [("Алексей", "alexey"), ("Дмитрий", "dmitry"), ("Сергей", "sergey"), ("Иван", "ivan"), ("Михаил", "mikhail"),
              ("Андрей", "andrey"), ("Никита", "nikita"), ("Павел", "pavel")],
        "f": [("Анна", "anna"), ("Мария", "maria"), ("Екатерина", "ekaterina"), ("Ольга", "olga"), ("Наталья", "natalya"),
              ("Юлия", "yulia"), ("Ирина", "irina"), ("Ксения", "ksenia")],
        "last": [("Смирнов", "Смирнова", "smirnov"), ("Иванов", "Иванова", "ivanov"), ("Кузнецов", "Кузнецова", "kuznetsov"),
                 ("Попов", "Попова", "popov"), ("Соколов", "Соколова", "sokolov"), ("Лебедев", "Лебедева", "lebedev"),
                 ("Козлов", "Козлова", "kozlov"), ("Новиков", "Новикова", "novikov"), ("Морозов", "Морозова", "morozov"),
                 ("Орлов", "Орлова", "orlov")],
    },
    "en": {
        "m": [(n, n.lower()) for n in ("John", "Michael", "David", "James", "Daniel", "Chris", "Tom", "Ryan")],
        "f": [(n, n.lower()) for n in ("Emily", "Sarah", "Jessica", "Laura", "Emma", "Olivia", "Kate", "Rachel")],
        "last": [(n, n, n.lower()) for n in ("Miller", "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Walker",
                                              "Harris", "Lewis")],
    },
    "tr": {
        "m": [("Mehmet", "mehmet"), ("Mustafa", "mustafa"), ("Ahmet", "ahmet"), ("Emre", "emre"), ("Burak", "burak"),
              ("Can", "can"), ("Murat", "murat"), ("Kerem", "kerem")],
        "f": [("Ayşe", "ayse"), ("Zeynep", "zeynep"), ("Elif", "elif"), ("Fatma", "fatma"), ("Selin", "selin"),
              ("Deniz", "deniz"), ("Ece", "ece"), ("Büşra", "busra")],
        "last": [("Yılmaz", "Yılmaz", "yilmaz"), ("Kaya", "Kaya", "kaya"), ("Demir", "Demir", "demir"),
                 ("Şahin", "Şahin", "sahin"), ("Çelik", "Çelik", "celik"), ("Yıldız", "Yıldız", "yildiz"),
                 ("Aydın", "Aydın", "aydin"), ("Öztürk", "Öztürk", "ozturk"), ("Arslan", "Arslan", "arslan"),
                 ("Doğan", "Doğan", "dogan")],
    },
}
_EMAIL_DOMAINS = {"ru": ("mail.ru", "yandex.ru", "gmail.com"), "en": ("gmail.com", "outlook.com", "yahoo.com"),
                  "tr": ("gmail.com", "hotmail.com", "outlook.com")}

OWNER = {"first_name": "Dmitry", "last_name": "Volkov", "username": "dvolkov_pm", "phone_number": "+1 555 010 4477",
         "bio": "Product manager. Istanbul / remote.", "languages": ["ru", "en", "tr"]}


# =============================================================================================
# Small valid media files made in code
# =============================================================================================
_JPEGS_B64 = (
    # 160x120, 120x160, 160x90, 128x128 baseline JPEGs (flat shapes), made once with Pillow.
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHz/wAARCAB4AKADASIAAhEBAxEB/8QAGgABAAMBAQEAAAAAAAAAAAAAAAMEBQIBBv/EAC4QAQABAgIHCAEFAAAAAAAAAAABAgMEERQVQVJTkdESEzE0UWFyorEhIjJiof/EABgBAQEBAQEAAAAAAAAAAAAAAAABAwIE/8QAHREBAQACAgMBAAAAAAAAAAAAAAECEQMhEjFBE//aAAwDAQACEQMRAD8A1gGDUAAAAAAAAAAAAAAAAAAAAAAFbT8NxPrJp+G4n1kFkVtPw3E+smn4bifWQWRW0/DcT6yafhuJ9ZBZFeMdh5nKLmcz/WeiSq7uw6xxuXpzbJ7SCvNdU7ZeNZw37XH6RZFV1FdUbZLw35T9FgRU3d6EsTExnDLLG4+3cyl9ADl0AAAA+cARQAAAGlhLPdUdqqP31f57JymYqpiY8JjOB7pJJqPJbbd0AdIAAOqKuzOeza5Es3NUl0tDymMqYj2evE9QAigAPnAEUAAABawuJi1HYrz7Of6T6L8TExnE5xLGd0Xa7f8ACqY9tjbDl8eqzy499xrDu1R3lqivPKaqYmXvdVesNpyY36xuGSMSd1V6w6izG2S8mM+nhkhS27cxOc8klNEU+EPWWfLvqNMePXdAGLUAAAB84AigAAAAAN/DeWtfCPwkR4by1r4R+EioAAAAAAAAAA+cGtqyzvXOcdDVlneuc46C7ZI1tWWd65zjoass71znHQNska2rLO9c5x0NWWd65zjoG2SNbVlneuc46GrLO9c5x0DazhvLWvhH4SOaKYoopojwpiIjN0IAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA//Z",
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHz/wAARCACgAHgDASIAAhEBAxEB/8QAGwABAQADAQEBAAAAAAAAAAAAAAYDBAUCAQf/xAA0EAEAAQMBBAkCAwkAAAAAAAAAAQIDBBESITFBBRMUNFRhc5KxUXEGIvEyU4GRoaKy0fD/xAAYAQEBAQEBAAAAAAAAAAAAAAAAAwIEAf/EAB8RAQACAgIDAQEAAAAAAAAAAAABAgMREhMhMUFhMv/aAAwDAQACEQMRAD8A1QHY5gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAFmza3FqtdowWYx2fjXWjBZtfPy6MHCu5NyNYt066fWeUfxnQ7Pw60dkZVGPEbW+qeFMOZczL1ydduaY+lO58ysi5l5Ny/dnWu5VNU+XlHkwpWyTZuKxAzW8m9amNmuZiN2kzrDCMRMx6a1t18XMpv6Uz+W5pw5T9my4ETMTExOkxwl2sa919mK+E8JjzdGO/LxKN668wygKsAACzRizSyfFMYAkqJv8aXtnFxrGz+3XNe1rw2Y00/u/opE1+NLNVWPi3omNmiuqiY56zETH+MvJ9CRAYAABvdF1aXLlGnGNdft+rRb3RdMzdrq5RTp/P8ARvH/AFDNvTpAOtAAAWaMWaWT4pjAElRqdK4NPSOBdx502pjWiZ5VRw/76TLbAfl923XZu12rkbNdFU01RrwmOLwu+mugLXSc9daqizkRG+rTdXu3RP8Av53InIx7uNdqt3qJoqpmYn7x5sTAxA9UW6rlWzRTNU+TweXZw7HUWdKo/PVvqYsTBi1MXLu+vlHKG46MdNeZSvbfiABZMAAWaMWaWT4pjAElQABJ5vfb/qVfKsSeb32/6lXypj9p3anUWf3VHthkiIiIiI0iOEAtpIAAAAAAWaMWaWT4pjAElQABJ5vfb/qVfKsSeb32/wCpV8qY/ad2ABZIAAAAAAWaMZ+2ZPiL3vli1eTVbaVgk+2ZPiL3vk7Zk+Ive+WOuW+cKwSfbMnxF73ydsyfEXvfJ1yc4ViTze+3/Uq+TtmT4i975YapmqqaqpmZmdZmebda8WbW2+ANsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP/Z",
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHz/wAARCABaAKADASIAAhEBAxEB/8QAGwABAAMBAQEBAAAAAAAAAAAAAAMEBQYBAgf/xAAxEAEAAgADBQYEBgMAAAAAAAAAAQIDBBEFFSFTohIxQWPR4RRRYbEGEzRicpEiI4H/xAAZAQEBAQEBAQAAAAAAAAAAAAAABAEFAwL/xAAgEQEAAgICAgMBAAAAAAAAAAAAAQIDExFRBDESQZEi/9oADAMBAAIRAxEAPwCMB4pwAAAAAAAAAAAAAAAAAAAAAFrd2a5XVHqbuzXK6o9W8Jd1lWmrB3dmuV1R6m7s1yuqPVvBusaasHd2a5XVHqbuzXK6o9W8G6xpqwLZDM0rNr0itaxrMzeIiI/tmY+fwsK1q1/2Wjhwnh/aPbO1L7QzE1rbTL0tPYrHj+6fr9ma62Hxp45yfie3x5/ldttPE1/xpSI+U6yi+OzHM6YVxVGLHH0+Fj47MczphJXaWNGnarSYjv4cZUxs4qT9DUw9pYduGJWafXvhbraLRrWYmJ8YlgJcvj3y+J2q8Ynvj5p8nixMc0a2x5W0WrFqzrExrD1AAAAAOoAQOiAAAA4nbOy77PzE2rXXL3tPYtHh+2fr92a/R7Vres1vEWraNJiY1iYY+c/DeUx5tfBm2XvPhXjXv+XpMOth8+OOMn6mvhn3VyAv4+ycTCxr4dcSloraY1nWNf8AiD4HMcvqhfGbHPqU6uLHwOY5fVCSuzcadO1akRPfx4w2ctI+2KaXL4F8xidmvCI75+S/h7Nw68cS03+ndC3WsVjSsRER4RCfJ5URHFGlaxWsVrGkRGkPQQAAAADqAEDogAAAAAOczX6rG/nb7okua/VY387fdEuj058+wBrAAAAAAAAGpvjyOv2N8eR1+zLHnrr09Nt+2pvjyOv2N8eR1+zLDXXo237am+PI6/Y3x5HX7MsNdejbftqb48jr9jfHkdfsyw116Nt+33i3/Mxb3007VpnT5PgH28wBoAAAAAAAAAAAAAAAAAAAAAAAA//Z",
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHz/wAARCACAAIADASIAAhEBAxEB/8QAGwABAAMBAQEBAAAAAAAAAAAAAAIEBQYBAwf/xAAyEAEAAgECAgcGBQUAAAAAAAAAAQIDBBEzcgUSEyExU5EiQVFhgbEUVHGS0QYjUqHB/8QAGQEBAAMBAQAAAAAAAAAAAAAAAAEDBAIF/8QAHxEBAQEAAQQDAQAAAAAAAAAAAAECMQMEERIhMlEU/9oADAMBAAIRAxEAPwCkAzvXAAAAAAAAAAAAAAAAAAAAAAB7ETa0VrEzM90RHvaum6FtaItqLzT40rtM+qZLXGt5xyyR0+Po/S49+rgpO/8Al7X3T/Cab8vi/ZDv0qj+nP45Ub+fofT5K/2t8VvjE7x/tk6zRZdJb243pM7VvHhP8Obmxbjq538RWAcrQABmZuNfmlpszNxr80rMMvc8RABYxAAOq/p3oyuDBXV5qxObJG9O/fq1mPvP2+rceVrWlYrWIrWI2iIjaIh6AAAjkx0y47UyVi1bd0xKQDl9bpraTUWxz4eNZ38YV2v0/EdbBbaN560TPoyFNnivT6evbEtAHKwZmbjX5pabMzca/NKzDL3PEQAWMQADtehNdXW6Gu8z2uKIpfe28zO3j9f5aL8/0mry6LUVzYLbWjxj3THwn5Os0HTml1lYi89jl796Wnu/XfwDlqAAD5Z9Ri09etmvFI92/jP0Y/SHSk54tiwb1x+E299o/wCQi2RZjp63fh8elNVGp1Xsb9Snsx37xPzUgU2+Xo5zMzxABDoZmbjX5pabMzca/NKzDL3PEQAWMQAAsaLjTyq6xouNPKjXCzpfeNHHmyYt+zyXpv49W0xun+L1P5jL++XxFL0vEoAhIAAAAzM3GvzS02Zm41+aVmGXueIgAsYgABY0XGnlV1jRcaeVGuFnS+8XgFD0wAAAAABGcWOZ3mlZn9EhKLJeUOyx+XX0Oyx+XX0TDyj1n4h2WPy6+h2WPy6+iYeT1n4h2WPy6+j2tKVnetaxPyhIE+IAISAAAAAAAAAAAAAAAAAAAA//2Q==",
)
_JPEG_SIZES = ((160, 120), (120, 160), (160, 90), (128, 128))


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _png(width: int, height: int, tint: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG with a simple gradient."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((tint[0] + x * 2) & 255, (tint[1] + y * 3) & 255, (tint[2] + (x ^ y)) & 255))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


def _pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF 1.4 with some ASCII text (xref offsets computed)."""
    text_ops = ["BT", "/F1 14 Tf", "72 760 Td", "18 TL"]
    for ln in lines:
        esc = ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text_ops.append(f"({esc}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("ascii")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _wav(seconds: int, rate: int = 8000) -> bytes:
    """A valid 8-bit mono PCM WAV: a 250 Hz tone with short fades (the voice message when espeak-ng is absent)."""
    period = bytes(128 + int(90 * math.sin(2 * math.pi * j / 32)) for j in range(32))  # 8000/32 = 250 Hz
    n = seconds * rate
    data = bytearray(period * (n // 32))
    fade = rate // 20
    for i in range(fade):
        k = i / fade
        data[i] = 128 + int((data[i] - 128) * k)
        data[n - 1 - i] = 128 + int((data[n - 1 - i] - 128) * k)
    hdr = b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return hdr + b"data" + struct.pack("<I", n) + bytes(data)


#: espeak-ng voice and pace per language: its Russian is hard to recognize at the normal pace (175 words/min).
_ESPEAK_VOICES = {"ru": ("ru", 140), "en": ("en-us", 160), "tr": ("tr", 150)}


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _speak(text: str, lang: str) -> bytes:
    """``text`` spoken by espeak-ng in ``lang``: a 16-bit mono PCM WAV (22,050 Hz). The same text gives the same
    bytes (espeak-ng is deterministic)."""
    voice, pace = _ESPEAK_VOICES.get(lang, ("en-us", 160))
    with tempfile.TemporaryDirectory(prefix="sample-voice-") as tmp:
        out = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(pace), "-w", out, "--stdin"], input=text.encode("utf-8"),
                       check=True, capture_output=True, timeout=120)
        with open(out, "rb") as f:
            return f.read()


def _wav_seconds(data: bytes) -> float:
    """Duration of a PCM WAV from its header (``fmt`` byte rate, ``data`` size)."""
    pos, byte_rate, size = 12, 0, 0
    while pos + 8 <= len(data):
        tag, n = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if tag == b"fmt ":
            byte_rate = struct.unpack("<I", data[pos + 16:pos + 20])[0]
        elif tag == b"data":
            size = min(n, len(data) - pos - 8)
            break
        pos += 8 + n + (n & 1)
    return size / byte_rate if byte_rate else 0.0


class _MediaPool:
    """Lazily built byte blobs; identical bytes are reused across many files."""

    def __init__(self) -> None:
        self.jpegs = [base64.b64decode(b) for b in _JPEGS_B64]
        self._docs: dict[str, list[bytes]] = {}
        self._wavs: dict[int, bytes] = {}

    def doc(self, ext: str, k: int) -> bytes:
        pool = self._docs.get(ext)
        if pool is None:
            if ext == "pdf":
                pool = [_pdf(["Project document", "Version 2", "Prepared for the client"]),
                        _pdf(["Invoice 2025-0417", "Amount due: 1 250.00 EUR", "Due in 14 days"]),
                        _pdf(["Schedule", "Week 1: survey", "Week 2: drafts", "Week 3: review"])]
            elif ext == "png":
                pool = [_png(64, 48, (30, 60, 90)), _png(48, 64, (120, 20, 200))]
            else:  # txt
                pool = ["Заметки / Notes / Notlar\n- пункт 1\n- item 2\n- madde 3\n".encode(),
                        b"2025-06-01 12:00:01 ERROR timeout after 30s\n2025-06-01 12:00:05 INFO retry ok\n"]
            self._docs[ext] = pool
        return pool[k % len(pool)]

    def wav(self, seconds: int) -> bytes:
        b = self._wavs.get(seconds)
        if b is None:
            b = self._wavs[seconds] = _wav(seconds)
        return b


# =============================================================================================
# PII values
# =============================================================================================

def luhn_ok(number: str) -> bool:
    """True when the digits of ``number`` (spaces/dashes ignored) pass the Luhn check."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _luhn_check_digit(partial: str) -> str:
    total = 0
    for i, c in enumerate(reversed(partial)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _iban_numeric(s: str) -> int:
    return int("".join(str(int(c, 36)) for c in s))


def iban_ok(iban: str) -> bool:
    """True when ``iban`` (spaces ignored) has valid ISO 13616 mod-97 check digits."""
    s = iban.replace(" ", "").upper()
    if len(s) < 15 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    return _iban_numeric(s[4:] + s[:4]) % 97 == 1


def _make_iban(country: str, bban: str) -> str:
    check = 98 - _iban_numeric(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def _digits(R: Callable[[], float], n: int) -> str:
    return "".join("0123456789"[int(R() * 10)] for _ in range(n))


def _pii_phone(R, lang: str) -> str:
    d = _digits
    r = R()
    if lang == "ru":
        a, b, c, e = "9" + d(R, 2), d(R, 3), d(R, 2), d(R, 2)
        if r < 0.35:
            return f"+7 {a} {b}-{c}-{e}"
        if r < 0.6:
            return f"8 ({a}) {b}-{c}-{e}"
        if r < 0.8:
            return f"+7 ({a}) {b}-{c}-{e}"
        return f"8{a}{b}{c}{e}"
    if lang == "tr":
        a, b, c, e = "5" + d(R, 2), d(R, 3), d(R, 2), d(R, 2)
        if r < 0.4:
            return f"+90 {a} {b} {c} {e}"
        if r < 0.75:
            return f"0 {a} {b} {c} {e}"
        return f"0{a}{b}{c}{e}"
    if r < 0.6:
        return f"+1 (555) {'2' + d(R, 2)}-{d(R, 4)}"
    if r < 0.8:
        return f"+1 555 {'3' + d(R, 2)} {d(R, 4)}"
    return f"+44 7{d(R, 3)} {d(R, 6)}"


def _pii_card(R, lang: str) -> str:
    r = R()
    if lang == "ru":
        prefix = ("2200", "2202", "4276", "5469")[int(r * 4)]
    elif lang == "tr":
        prefix = ("4543", "5400", "4090", "5571")[int(r * 4)]
    else:
        prefix = ("4111", "4532", "5105", "5425")[int(r * 4)]
    partial = prefix + _digits(R, 11)
    num = partial + _luhn_check_digit(partial)
    r = R()
    if r < 0.6:
        return " ".join(num[i:i + 4] for i in range(0, 16, 4))
    if r < 0.8:
        return "-".join(num[i:i + 4] for i in range(0, 16, 4))
    return num


def _pii_iban(R, lang: str) -> str:
    if lang == "tr" or (lang == "ru" and R() < 0.5):
        iban = _make_iban("TR", _digits(R, 5) + "0" + _digits(R, 16))
    else:
        iban = _make_iban("DE", _digits(R, 8) + _digits(R, 10))
    if R() < 0.65:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


_ALNUM = string.ascii_letters + string.digits


def _token(R, n: int) -> str:
    return "".join(_ALNUM[int(R() * 62)] for _ in range(n))


def _pii_email(R, lang: str, latin_first: str, latin_last: str) -> str:
    dom = _EMAIL_DOMAINS[lang][int(R() * 3)]
    r = R()
    if r < 0.4:
        local = f"{latin_first}.{latin_last}"
    elif r < 0.7:
        local = f"{latin_first}{latin_last}{int(R() * 90) + 10}"
    else:
        local = f"{latin_first[0]}.{latin_last}"
    return f"{local}@{dom}"


def _pii_url(R, username: str) -> str:
    r = R()
    if r < 0.2:
        return f"https://drive.google.com/file/d/{_token(R, 28)}/view"
    if r < 0.35:
        return f"https://docs.google.com/document/d/{_token(R, 32)}/edit"
    if r < 0.5:
        return f"https://www.behance.net/{username}"
    if r < 0.62:
        return f"https://instagram.com/{username}"
    if r < 0.72:
        return f"https://github.com/{username}/portfolio"
    if r < 0.82:
        return f"https://calendly.com/{username}/30min"
    if r < 0.92:
        return f"https://zoom.us/j/{_digits(R, 10)}"
    return f"https://t.me/{username}"


# =============================================================================================
# Helpers for consumers
# =============================================================================================

def flatten_text(text: Any) -> str:
    """The plain text of an export ``text`` field (a string or a list of strings/entity parts)."""
    if isinstance(text, str):
        return text
    return "".join(p if isinstance(p, str) else p.get("text", "") for p in text)


def load_ground_truth(out_dir: str | Path) -> dict[str, Any]:
    with open(Path(out_dir) / GROUND_TRUTH_JSON, encoding="utf-8") as f:
        return json.load(f)


def iter_message_truth(out_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Per-message ground truth rows, in export order (streamed)."""
    with open(Path(out_dir) / GROUND_TRUTH_MESSAGES, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_labeled_messages(out_dir: str | Path) -> list[dict[str, Any]]:
    """Export messages joined with their truth (small samples only: loads result.json whole).

    Each row: the truth fields plus ``text`` (flattened) and ``message`` (the export object).
    """
    with open(Path(out_dir) / RESULT_JSON, encoding="utf-8") as f:
        export = json.load(f)
    chats = export["chats"]["list"] if "chats" in export else [export]
    by_key = {}
    for chat in chats:
        for m in chat["messages"]:
            by_key[(chat["id"], m["id"])] = m
    rows = []
    for t in iter_message_truth(out_dir):
        m = by_key[(t["chat_id"], t["id"])]
        rows.append({**t, "text": flatten_text(m.get("text", "")), "message": m})
    return rows


# =============================================================================================
# Result
# =============================================================================================

@dataclass
class SampleInfo:
    out_dir: Path
    result_json: Path
    ground_truth_json: Path
    ground_truth_messages: Path
    kind: str
    seed: int
    messages: int = 0            # every object in the export's message lists (service included)
    service_messages: int = 0
    text_messages: int = 0       # regular messages with non-empty text
    replies: int = 0
    owner_messages: int = 0
    owner_replies: int = 0
    forwards: int = 0
    edited: int = 0
    with_reactions: int = 0
    with_entities: int = 0       # ``text`` is a list of parts
    pii_messages: int = 0
    pii_items: int = 0
    media: dict[str, int] = field(default_factory=dict)  # photo / document / voice_message / not_included
    media_files: int = 0         # files written under out_dir
    media_bytes: int = 0
    chats: int = 0
    users: int = 0               # users besides the owner
    result_bytes: int = 0
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("out_dir", "result_json", "ground_truth_json", "ground_truth_messages", "kind", "seed", "seconds"):
            d.pop(k)
        return d

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


# =============================================================================================
# Generator
# =============================================================================================

_FORMATTER = string.Formatter()


def _pretty(compact: str) -> str:
    return json.dumps(json.loads(compact), ensure_ascii=False, indent=1)


def _make_encoder() -> Callable[[Any], str]:
    """``json.dumps(o, ensure_ascii=False)`` without rebuilding the C encoder on every call."""
    plain = json.JSONEncoder(ensure_ascii=False, check_circular=False)
    try:
        from json.encoder import c_make_encoder

        if c_make_encoder is None:
            return plain.encode
        c = c_make_encoder(None, plain.default, jstr, None, ": ", ", ", False, False, True)
        if "".join(c({"a": [1, "б"]}, 0)) != plain.encode({"a": [1, "б"]}):
            return plain.encode
        return lambda o: "".join(c(o, 0))
    except Exception:  # pragma: no cover - other Python implementations
        return plain.encode
_HHMM = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SS = [f"{s:02d}" for s in range(60)]


def _compile(tpl: str) -> tuple[str, tuple[str, ...]]:
    names = tuple(dict.fromkeys(f for _, f, _, _ in _FORMATTER.parse(tpl) if f))
    return tpl, names


def _cap(s: str, lang: str) -> str:
    if not s:
        return s
    c = s[0]
    if lang == "tr" and c == "i":
        return "İ" + s[1:]
    return c.upper() + s[1:]


class _ProfLang:
    __slots__ = ("objs", "acts", "probs", "Probs", "tools", "tag", "files")

    def __init__(self, prof: dict[str, Any], lang: str) -> None:
        v = prof[lang]
        self.objs = v["objs"].split("|")
        self.acts = v["acts"].split("|")
        self.probs = v["probs"].split("|")
        self.Probs = [_cap(p, lang) for p in self.probs]
        self.tools = prof["tools"].split("|")
        self.tag = prof["tags"][lang]
        self.files = prof["files"].split("|")


class _User:
    __slots__ = ("idx", "user_id", "from_id", "first", "last", "name", "jname", "latin_first", "latin_last",
                 "username", "lang", "prof", "pl", "p_work", "weight", "rare", "opt_out", "count", "chats")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
        self.jname = jstr(self.name)
        self.count = 0
        self.chats = []


class _Chat:
    __slots__ = ("idx", "id", "name", "type", "kind", "members", "n", "first_id", "cum", "senders", "partner",
                 "rare_at", "from_id")

    def __init__(self, **kw: Any) -> None:
        self.rare_at = {}
        self.partner = None
        for k, v in kw.items():
            setattr(self, k, v)


_INTENT_W = (("greeting", 0.08), ("question", 0.22), ("statement", 0.30), ("discussion", 0.16),
             ("command", 0.10), ("feedback", 0.14))
_INTENT_CUM = []
_acc = 0.0
for _i, _w in _INTENT_W:
    _acc += _w
    _INTENT_CUM.append((_acc, _i))

# per-message probabilities (group chats)
P_SERVICE = 0.012
P_FOLLOW = 0.55        # a pending thread continues with the next message
P_OWNER_REPLY = 0.17   # the owner replies to a recent message of someone else
P_OWNER_FRESH = 0.035  # the owner writes a new message
P_USER_REPLY = 0.14    # another user replies to a recent message in their language
P_PII = 0.05
P_FORWARD = 0.025
P_EDIT = 0.04
P_REACT = 0.07
P_PHOTO = 0.012
P_DOC = 0.0055
P_VOICE = 0.002
P_NOT_INCLUDED = 0.1


class _Generator:
    def __init__(self, *, messages: int, chats: int, users: int, seed: int, kind: str, media: bool,
                 end: int = END_UNIXTIME, speech: bool = False) -> None:
        self.end = end
        self.speech = speech
        self.rnd = random.Random(seed)
        self.R = self.rnd.random
        self.n_messages = messages
        self.seed = seed
        self.kind = kind
        self.media = media
        self.pool = _MediaPool()
        self._enc = _make_encoder()
        self._day_cache: dict[int, str] = {}
        self._name_counts: dict[str, int] = {}
        self.photo_seq = 0
        self.voice_seq = 0
        self.voice_truth: list[dict[str, Any]] = []
        self.work = {lang: {it: [_compile(t) for t in ts] for it, ts in d.items()} for lang, d in _WORK.items()}
        self.small = {lang: {it: [_compile(t) for t in ts] for it, ts in d.items()} for lang, d in _SMALL.items()}
        self.reply = {lang: {it: [(ri, *_compile(t)) for ri, t in ts] for it, ts in d.items()} for lang, d in _REPLY.items()}
        self.reply_obj = {lang: [(ri, *_compile(t)) for ri, t in ts] for lang, ts in _REPLY_OBJ.items()}
        self.pii_tpl = {lang: [(ri, self._split_pii(t)) for ri, t in ts] for lang, ts in _PII_TEMPLATES.items()}
        self._make_people(users)
        self._make_chats(chats)

    # ---- setup ---------------------------------------------------------------------------------
    def _uid(self, used: set[int]) -> int:
        while True:
            u = 100_000_000 + int(self.R() * 7_000_000_000)
            if u not in used:
                used.add(u)
                return u

    def _make_people(self, n_users: int) -> None:
        R = self.R
        used: set[int] = set()
        oid = self._uid(used)
        self.owner = _User(idx=0, user_id=oid, from_id=f"user{oid}", first=OWNER["first_name"], last=OWNER["last_name"],
                           name=f"{OWNER['first_name']} {OWNER['last_name']}", latin_first="dmitry",
                           latin_last="volkov", username=OWNER["username"], lang="ru", prof=_OWNER_PROFESSION,
                           pl={lang: _ProfLang(_OWNER_PROFESSION, lang) for lang in LANGS}, p_work=0.5, weight=0.0,
                           rare=False, opt_out=False)
        self.users: list[_User] = [self.owner]
        names_used: set[str] = set()
        n_rare = 2 if n_users >= 6 else 0
        raw_w = [1.0 / math.sqrt(k + 1) for k in range(n_users)]
        self.rnd.shuffle(raw_w)
        usernames: set[str] = {OWNER["username"]}
        for k in range(n_users):
            prof = _PROFESSIONS[k % len(_PROFESSIONS)]
            lang = LANGS[(k + k // len(_PROFESSIONS)) % 3]
            names = _NAMES[lang]
            while True:
                g = "m" if R() < 0.5 else "f"
                fn, fl = names[g][int(R() * len(names[g]))]
                ln_m, ln_f, ll = names["last"][int(R() * len(names["last"]))]
                ln = ln_m if g == "m" else ln_f
                if g == "f" and lang == "ru":
                    ll += "a"
                if f"{fn} {ln}" not in names_used or len(names_used) > 500:
                    break
            names_used.add(f"{fn} {ln}")
            base = f"{fl}_{ll}" if R() < 0.6 else f"{fl[0]}{ll}"
            un = base
            while un in usernames:
                un = f"{base}{int(R() * 90) + 10}"
            usernames.add(un)
            uid = self._uid(used)
            rare = k >= n_users - n_rare
            self.users.append(_User(idx=k + 1, user_id=uid, from_id=f"user{uid}", first=fn, last=ln, name=f"{fn} {ln}",
                                    latin_first=fl, latin_last=ll, username=un, lang=lang, prof=prof,
                                    pl={lang: _ProfLang(prof, lang)}, p_work=0.4 + 0.25 * R(),
                                    weight=0.0 if rare else raw_w[k], rare=rare, opt_out=(k == 1 and n_users >= 4)))

    def _chat_id(self, supergroup: bool) -> int:
        if supergroup:
            return 1_100_000_000 + int(self.R() * 900_000_000)
        return 400_000_000 + int(self.R() * 500_000_000)

    def _make_chats(self, n_chats: int) -> None:
        R = self.R
        users = self.users[1:]
        normal = [u for u in users if not u.rare]
        if self.kind == "single_chat":
            n_chats = 1
        specs: list[tuple[str, str, float]] = []  # (type, kind, weight)
        specs.append(("private_supergroup", "group", 0.6 if n_chats <= 3 else 0.45))
        if n_chats >= 2:
            specs.append(("private_group", "group", 0.33 if n_chats <= 3 else 0.28))
        if n_chats >= 3:
            specs.append(("public_channel", "channel", 0.07 if n_chats == 3 else 0.05))
        extra = n_chats - len(specs)
        for j in range(extra):
            if j < len(normal):
                specs.append(("personal_chat", "personal", 0.22 / extra))
            else:
                specs.append(("public_supergroup", "group", 0.22 / extra))
        total_w = sum(w for _, _, w in specs)
        counts = [max(2, int(self.n_messages * w / total_w)) for _, _, w in specs]
        counts[0] += self.n_messages - sum(counts)
        if counts[0] < 2:
            raise ValueError(f"messages={self.n_messages} is too few for {n_chats} chats")
        self.chats: list[_Chat] = []
        n_super = 0
        personal_k = 0
        by_weight = sorted(normal, key=lambda u: -u.weight)
        for idx, ((ctype, ckind, _), n) in enumerate(zip(specs, counts)):
            if ckind == "personal":
                partner = by_weight[personal_k % len(by_weight)]
                personal_k += 1
                chat = _Chat(idx=idx, id=partner.user_id, name=partner.name, type=ctype, kind=ckind,
                             members=[self.owner, partner], n=n, partner=partner)
            else:
                if ctype == "private_supergroup":
                    name, members = "Istanbul Pros 🇹🇷🇷🇺🇬🇧 | Профи Стамбула", [self.owner] + users
                elif ctype == "private_group":
                    members = [self.owner] + [u for j, u in enumerate(normal) if j % 3 != 2]
                    name = "Коворкинг Moda / Coworking"
                elif ctype == "public_channel":
                    name, members = "Product Notes | Заметки продакта", [self.owner]
                else:
                    n_super += 1
                    members = [self.owner] + [u for j, u in enumerate(normal) if (j + n_super) % 2 == 0]
                    name = f"Community #{n_super + 1}"
                chat = _Chat(idx=idx, id=self._chat_id(ctype != "private_group"), name=name, type=ctype, kind=ckind,
                             members=members, n=n)
            chat.from_id = f"channel{chat.id}" if ckind == "channel" else None
            if ckind == "group":
                chat.first_id = 1 if ctype != "private_group" else 200_000 + int(R() * 100_000)
            elif ckind == "channel":
                chat.first_id = 1
            else:
                chat.first_id = 300_000 + 50_000 * personal_k + int(R() * 10_000)
            senders = [m for m in chat.members if m.idx != 0 and not m.rare]
            chat.senders = senders
            cum, acc = [], 0.0
            for m in senders:
                acc += m.weight
                cum.append(acc)
            chat.cum = cum
            for m in chat.members:
                m.chats.append(chat.id)
            self.chats.append(chat)
        # the rare users: 3 messages each, scheduled in the first chat
        c0 = self.chats[0]
        rare = [u for u in users if u.rare]
        for j, u in enumerate(rare):
            for f in (0.2, 0.5, 0.8):
                pos = min(c0.n - 1, max(1, int(c0.n * (f + 0.05 * j))))
                while pos in c0.rare_at and pos < c0.n - 1:
                    pos += 1
                c0.rare_at[pos] = u

    # ---- small utilities -----------------------------------------------------------------------
    def _date(self, t: int) -> str:
        d, s = divmod(t, 86400)
        p = self._day_cache.get(d)
        if p is None:
            tm = time.gmtime(d * 86400)
            p = self._day_cache[d] = f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}T"
        m, s = divmod(s, 60)
        return p + _HHMM[m] + _SS[s]

    def _pick(self, seq):
        return seq[int(self.R() * len(seq))]

    def _fill(self, tpl: str, names: tuple[str, ...], pl: _ProfLang | None, lang: str,
              name: str = "", obj: str | None = None) -> tuple[str, str | None]:
        if not names:
            return tpl, None
        R = self.R
        kw = {}
        for nm in names:
            if nm == "obj":
                obj = kw["obj"] = obj if obj is not None else pl.objs[int(R() * len(pl.objs))]
            elif nm == "act":
                kw["act"] = pl.acts[int(R() * len(pl.acts))]
            elif nm == "prob":
                kw["prob"] = pl.probs[int(R() * len(pl.probs))]
            elif nm == "Prob":
                kw["Prob"] = pl.Probs[int(R() * len(pl.Probs))]
            elif nm == "tool":
                kw["tool"] = pl.tools[int(R() * len(pl.tools))]
            elif nm == "tool2":
                t = pl.tools[int(R() * len(pl.tools))]
                kw["tool2"] = t
            elif nm == "day":
                kw["day"] = _DAYS[lang][int(R() * 8)]
            elif nm == "n":
                kw["n"] = _NUMS[int(R() * 3)]
            elif nm == "m":
                kw["m"] = _MINUTES[int(R() * 4)]
            elif nm == "name":
                kw["name"] = name
        if "tool2" in kw and kw["tool2"] == kw.get("tool"):
            tools = pl.tools
            kw["tool2"] = tools[(tools.index(kw["tool"]) + 1) % len(tools)]
        text = tpl.format(**kw)
        if tpl[0] == "{" and names[0] not in ("tool", "tool2"):
            text = _cap(text, lang)  # a sentence that starts with a slot
        return text, obj

    def _intent(self) -> str:
        r = self.R()
        for c, it in _INTENT_CUM:
            if r < c:
                return it
        return "feedback"

    @staticmethod
    def _split_pii(tpl: str) -> list[tuple[str, str]]:
        parts = []
        for lit, f, _, _ in _FORMATTER.parse(tpl):
            if lit:
                parts.append(("", lit))
            if f:
                parts.append((f, ""))
        return parts

    # ---- content ---------------------------------------------------------------------------------
    def _fresh(self, u: _User, lang: str, allow_work: bool = True) -> tuple[str, str, str, str | None]:
        """A new message by ``u`` -> (text, intent, topic, obj)."""
        intent = self._intent()
        if intent != "greeting" and allow_work and self.R() < u.p_work:
            tpl, names = self._pick(self.work[lang][intent])
            text, obj = self._fill(tpl, names, u.pl[lang], lang)
            return text, intent, "work", obj
        tpl, names = self._pick(self.small[lang][intent])
        text, _ = self._fill(tpl, names, None, lang)
        return text, intent, "smalltalk", None

    def _reply_text(self, u: _User, lang: str, target: tuple) -> tuple[str, str, str | None]:
        """A reply by ``u`` to ``target`` (ring tuple) -> (text, intent, obj)."""
        t_intent, t_obj, t_author = target[3], target[4], target[1]
        if t_obj is not None and self.R() < 0.35:
            ri, tpl, names = self._pick(self.reply_obj[lang])
            text, obj = self._fill(tpl, names, None, lang, obj=t_obj)
            return text, ri, obj
        key = t_intent if t_intent in ("question", "greeting", "feedback", "command") else "statement"
        if key == "question" and target[5] == "smalltalk":
            key = "small_question"
        ri, tpl, names = self._pick(self.reply[lang][key])
        text, _ = self._fill(tpl, names, None, lang, name=self.users[t_author].first)
        return text, ri, None

    def _style(self, text: str, lang: str) -> str:
        R = self.R
        r = R()
        if r < 0.3 and text.endswith(".") and not text.endswith(".."):
            text = text[:-1]
        elif r < 0.38 and text[-1] < "\u2000":
            text = text + _EMOJI_SUFFIX[lang][int(R() * len(_EMOJI_SUFFIX[lang]))]
        if R() < 0.1 and text[:1] not in "/@":
            text = (text[0].lower() if not (lang == "tr" and text[0] == "İ") else "i") + text[1:]
        return text

    def _pii_message(self, u: _User, lang: str) -> tuple[list[tuple[str, str]], str, list[dict[str, Any]], str | None]:
        """Segments [(entity_type, text)], intent, pii list, obj."""
        R = self.R
        intent, parts = self._pick(self.pii_tpl[lang])
        segs: list[tuple[str, str]] = []
        pii: list[dict[str, Any]] = []
        pos = 0
        obj = None
        pl = u.pl.get(lang) or next(iter(u.pl.values()))
        for slot, lit in parts:
            if not slot:
                segs.append(("plain", lit))
                pos += len(lit)
                continue
            if slot == "obj":
                obj = pl.objs[int(R() * len(pl.objs))]
                segs.append(("plain", obj))
                pos += len(obj)
                continue
            if slot == "phone":
                v, et = _pii_phone(R, lang), ("phone" if R() < 0.3 else "plain")
            elif slot == "email":
                v, et = _pii_email(R, lang, u.latin_first, u.latin_last), ("email" if R() < 0.85 else "plain")
            elif slot == "url":
                v, et = _pii_url(R, u.username), ("link" if R() < 0.9 else "plain")
            elif slot == "card":
                v, et = _pii_card(R, lang), ("bank_card" if R() < 0.3 else "plain")
            else:
                v, et = _pii_iban(R, lang), "plain"
            segs.append((et, v))
            pii.append({"type": slot, "value": v, "start": pos, "end": pos + len(v)})
            pos += len(v)
        return segs, intent, pii, obj

    @staticmethod
    def _render(segs: list[tuple[str, str]]) -> tuple[Any, list[dict[str, str]]]:
        """Segments -> (export ``text``, ``text_entities``). Adjacent plain parts merge."""
        merged: list[tuple[str, str]] = []
        for et, tx in segs:
            if et == "plain" and merged and merged[-1][0] == "plain":
                merged[-1] = ("plain", merged[-1][1] + tx)
            elif tx or et != "plain":
                merged.append((et, tx))
        if all(et == "plain" for et, _ in merged):
            s = "".join(tx for _, tx in merged)
            return s, ([{"type": "plain", "text": s}] if s else [])
        if merged[-1][0] != "plain":
            merged.append(("plain", ""))
        text = [tx if et == "plain" else {"type": et, "text": tx} for et, tx in merged]
        ents = [{"type": et, "text": tx} for et, tx in merged]
        return text, ents

    # ---- media ---------------------------------------------------------------------------------------
    def _fname_date(self, t: int) -> str:
        tm = time.gmtime(t)
        return f"{tm.tm_mday:02d}-{tm.tm_mon:02d}-{tm.tm_year:04d}_{tm.tm_hour:02d}-{tm.tm_min:02d}-{tm.tm_sec:02d}"

    def _write_file(self, rel: str, data: bytes) -> None:
        # Small-file creation is latency-bound on many disks: a few threads overlap it with
        # generation (the GIL is released in open/write). At most 512 writes are in flight.
        self._file_jobs.append(self._pool_exec.submit(_write_bytes, os.path.join(self._out_s, rel), data))
        if len(self._file_jobs) > 512:
            for fut in self._file_jobs[:256]:
                fut.result()
            del self._file_jobs[:256]
        self.info.media_files += 1
        self.info.media_bytes += len(data)

    def _not_included(self) -> None:
        self.info.media["not_included"] = self.info.media.get("not_included", 0) + 1

    def _count_media(self, kind: str) -> None:
        self.info.media[kind] = self.info.media.get(kind, 0) + 1

    def _photo(self, t: int) -> str:
        """JSON fragment of a photo (``, "photo": ...``)."""
        k = int(self.R() * len(self.pool.jpegs))
        data = self.pool.jpegs[k]
        w, h = _JPEG_SIZES[k]
        self.photo_seq += 1
        self._count_media("photo")
        if self.media and self.R() >= P_NOT_INCLUDED:
            rel = f"photos/photo_{self.photo_seq}@{self._fname_date(t)}.jpg"
            self._write_file(rel, data)
        else:
            rel = NOT_INCLUDED
            self._not_included()
        return f', "photo": {jstr(rel)}, "photo_file_size": {len(data)}, "width": {w}, "height": {h}'

    def _document(self, u: _User) -> str:
        files = u.pl[u.lang].files
        base = files[int(self.R() * len(files))]
        stem, ext = base.rsplit(".", 1)
        data = self.pool.doc(ext, int(self.R() * 3))
        k = self._name_counts.get(base, 0)
        self._name_counts[base] = k + 1
        fname = base if k == 0 else f"{stem} ({k}).{ext}"
        mime = {"pdf": "application/pdf", "png": "image/png", "txt": "text/plain"}[ext]
        self._count_media("document")
        if self.media and self.R() >= P_NOT_INCLUDED:
            rel = f"files/{fname}"
            self._write_file(rel, data)
        else:
            rel = NOT_INCLUDED
            self._not_included()
        return (f', "file": {jstr(rel)}, "file_name": {jstr(fname)}, "file_size": {len(data)}, '
                f'"mime_type": "{mime}"')

    def _voice(self, u: _User, lang: str, t: int, chat: _Chat, mid: int) -> tuple[str, str]:
        text1, intent, _, _ = self._fresh(u, lang)
        tpl, names = self._pick(self.small[lang]["statement"])
        text2, _ = self._fill(tpl, names, None, lang)
        transcript = f"{text1} {text2}" if self.R() < 0.6 else text1
        if self.speech:
            data = _speak(transcript, lang)
            secs = max(1, round(_wav_seconds(data)))
        else:
            secs = max(1, min(10, round(len(transcript.split()) * 0.4)))
            data = self.pool.wav(secs)
        self.voice_seq += 1
        fname = f"audio_{self.voice_seq}@{self._fname_date(t)}.wav"
        self._count_media("voice_message")
        if self.media:
            rel = f"voice_messages/{fname}"
            self._write_file(rel, data)
        else:
            rel = None
            self._not_included()
        self.voice_truth.append({"chat_id": chat.id, "message_id": mid, "from_id": u.from_id, "file": rel,
                                 "duration_seconds": secs, "language": lang, "intent": intent,
                                 "transcript": transcript})
        return (f', "file": {jstr(rel or NOT_INCLUDED)}, "file_name": "{fname}", "file_size": {len(data)}, '
                f'"media_type": "voice_message", "mime_type": "audio/wav", "duration_seconds": {secs}'), intent

    # ---- export writing --------------------------------------------------------------------------
    def run(self, out_dir: Path, progress: ProgressFn | None) -> SampleInfo:
        t0 = time.perf_counter()
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("photos", "files", "voice_messages"):
            # a previous sample in the same folder must not leave files behind
            sd = out_dir / sub
            if sd.is_dir():
                for old in sd.iterdir():
                    if old.is_file() or old.is_symlink():
                        old.unlink()
            if self.media:
                sd.mkdir(exist_ok=True)
        info = self.info = SampleInfo(out_dir=out_dir, result_json=out_dir / RESULT_JSON,
                                      ground_truth_json=out_dir / GROUND_TRUTH_JSON,
                                      ground_truth_messages=out_dir / GROUND_TRUTH_MESSAGES, kind=self.kind,
                                      seed=self.seed, chats=len(self.chats), users=len(self.users) - 1)
        self.progress = progress
        self.done = 0
        self._out_s = str(out_dir)
        self._file_jobs: list = []
        self._pool_exec = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sample-media")
        try:
            self._write_all(info)
        finally:
            for fut in self._file_jobs:
                fut.result()
            self._pool_exec.shutdown(wait=True)
        info.result_bytes = info.result_json.stat().st_size
        info.seconds = time.perf_counter() - t0
        self._write_truth()
        return info

    def _write_all(self, info: SampleInfo) -> None:
        enc = self._enc
        with open(info.result_json, "w", encoding="utf-8", newline="\n") as out, \
                open(info.ground_truth_messages, "w", encoding="utf-8", newline="\n") as tout:
            if self.kind == "full_account":
                out.write(self._header())
                for ci, chat in enumerate(self.chats):
                    if ci:
                        out.write(",\n")
                    out.write("   {\n    \"name\": " + enc(chat.name) + ",\n    \"type\": " + enc(chat.type)
                              + ",\n    \"id\": " + str(chat.id) + ",\n    \"messages\": [\n")
                    self._write_chat(chat, out, tout)
                    out.write("\n    ]\n   }")
                out.write("\n  ]\n }\n}\n")
            else:
                chat = self.chats[0]
                out.write("{\n \"name\": " + enc(chat.name) + ",\n \"type\": " + enc(chat.type)
                          + ",\n \"id\": " + str(chat.id) + ",\n \"messages\": [\n")
                self._write_chat(chat, out, tout)
                out.write("\n ]\n}\n")

    def _header(self) -> str:
        o = self.owner
        pi = {"user_id": o.user_id, "first_name": o.first, "last_name": o.last, "phone_number": OWNER["phone_number"],
              "username": "@" + o.username, "bio": OWNER["bio"]}
        contacts = []
        R = self.R
        for u in self.users[1:]:
            if u.idx % 3 == 1:
                tc = self.end - 400 * 86400 + int(R() * 300 * 86400)
                contacts.append({"user_id": u.user_id, "first_name": u.first, "last_name": u.last,
                                 "phone_number": _pii_phone(R, u.lang), "date": self._date(tc),
                                 "date_unixtime": str(tc)})
        self.contacts = contacts
        head = {
            "about": "Here is the data you requested. Remember: Telegram is ad free, it doesn't use your data for ad "
                     "targeting and doesn't sell it to others. Telegram only keeps the information it needs to function "
                     "as a secure and feature-rich cloud service.\n\nCheck out Settings > Privacy & Security on "
                     "Telegram's mobile apps for the relevant settings.",
            "personal_information": pi,
            "profile_pictures": [],
            "stories": [],
            "profile_music": [],
            "contacts": {"about": "If you allow access, your contacts are continuously synced with Telegram.",
                         "list": contacts},
            "frequent_contacts": {"about": "This rating shows which people you are likelier to message frequently.",
                                  "list": []},
        }
        s = json.dumps(head, ensure_ascii=False, indent=1)
        return s[:-2] + ",\n \"chats\": {\n  \"about\": \"This page lists all chats from this export.\",\n  \"list\": [\n"

    def _write_chat(self, chat: _Chat, out, tout) -> None:
        R = self.R
        enc = self._enc
        info = self.info
        users = self.users
        owner = self.owner
        n = chat.n
        span = SPAN_DAYS * 86400
        start = (self.end - span) // 86400 * 86400  # midnight (UTC) 90 days before the end
        step = span / n
        wake_start, wake_span = 7 * 3600 + 1800, 16 * 3600
        cid = chat.id
        ckind = chat.kind
        senders = chat.senders
        cum = chat.cum
        total_w = cum[-1] if cum else 0.0
        rare_at = chat.rare_at
        ring: deque = deque(maxlen=48)  # (mid, author idx, lang, intent, obj, topic)
        pending = None  # (responder _User, target tuple)
        mid = chat.first_id - 1
        buf: list[str] = []
        tbuf: list[str] = []
        self._sep = False
        owner_langs = [m.lang for m in chat.members if m.idx != 0] or ["ru"]
        chat_from_id = chat.from_id
        chat_jname = jstr(chat.name)
        fmt_date = self._date
        for i in range(n):
            # --- time: even spread with jitter, warped into waking hours (monotonic) ---
            tr = (i + 0.9 * R()) * step
            day, frac = divmod(tr, 86400)
            t = int(start + day * 86400 + wake_start + frac * (wake_span / 86400))
            mid += 1 if R() > 0.03 else 2 + int(R() * 3)
            date = fmt_date(t)
            # --- service messages ---
            if i == 0 or (R() < P_SERVICE and i not in rare_at):
                d = self._service(chat, i, mid, t, date, ring)
                buf.append(enc(d))
                tbuf.append(f'{{"chat_id": {cid}, "id": {mid}, "kind": "service", "from_id": "{d["actor_id"]}", '
                            f'"intent": null, "lang": null, "topic": null, "reply_to": null, "forwarded": false, '
                            f'"edited": false, "media": null, "pii": []}}\n')
                info.service_messages += 1
                if len(buf) >= 2048:
                    self._flush(buf, tbuf, out, tout)
                continue
            # --- who writes what ---
            reply_to = None
            target = None
            segs = None
            pii = None
            forwarded = None
            topic = "smalltalk"
            obj = None
            if ckind == "channel":
                u = owner
                lang = "ru" if R() < 0.6 else "en"
                segs, pii, intent, topic = self._channel_post(lang)
                text = None
            else:
                r = R()
                if i in rare_at:
                    u = rare_at[i]
                    lang = u.lang
                    intent = ("greeting", "statement", "feedback")[int(R() * 3)]
                    tpl, names = self._pick(self.small[lang][intent])
                    text, _ = self._fill(tpl, names, None, lang)
                    pending = None
                elif pending is not None and r < P_FOLLOW:
                    u, target = pending
                    lang = target[2]
                    text, intent, obj = self._reply_text(u, lang, target)
                    topic = "reply"
                    pending = None
                else:
                    pending = None
                    r = R()
                    if ckind == "personal":
                        partner = chat.partner
                        if r < 0.45 and ring and not (ring[-1][5] == "reply" and ring[-1][3] in ("feedback", "greeting")):
                            # reply to the other side's latest message
                            last = ring[-1]
                            u = owner if last[1] != 0 else partner
                            target = last
                        elif r < 0.7:
                            u = owner
                        else:
                            u = partner
                        lang = partner.lang
                        if target is not None:
                            text, intent, obj = self._reply_text(u, lang, target)
                            topic = "reply"
                        else:
                            text, intent, topic, obj = self._fresh(u, lang)
                    elif r < P_OWNER_REPLY and ring:
                        u = owner
                        target = None
                        for _ in range(4):
                            cand = ring[len(ring) - 1 - int(R() * R() * len(ring))]
                            if cand[1] != 0:
                                target = cand
                                break
                        if target is None:
                            u = senders[min(len(senders) - 1, bisect_right(cum, R() * total_w))] if senders else owner
                            lang = u.lang if u is not owner else self._pick(owner_langs)
                            text, intent, topic, obj = self._fresh(u, lang)
                        else:
                            lang = target[2]
                            text, intent, obj = self._reply_text(u, lang, target)
                            topic = "reply"
                    elif r < P_OWNER_REPLY + P_OWNER_FRESH or not senders:
                        u = owner
                        lang = self._pick(owner_langs)
                        text, intent, topic, obj = self._fresh(u, lang)
                    else:
                        u = senders[min(len(senders) - 1, bisect_right(cum, R() * total_w))]
                        lang = u.lang
                        if R() < P_USER_REPLY and ring:
                            for _ in range(3):
                                cand = ring[len(ring) - 1 - int(R() * R() * len(ring))]
                                if cand[1] != u.idx and cand[2] == lang:
                                    target = cand
                                    break
                        if target is not None:
                            text, intent, obj = self._reply_text(u, lang, target)
                            topic = "reply"
                        else:
                            text, intent, topic, obj = self._fresh(u, lang)
                    # forwards / PII replace the text of fresh messages now and then
                    if target is None:
                        r2 = R()
                        if r2 < P_PII:
                            segs, intent, pii, obj = self._pii_message(u, lang)
                            topic = "pii"
                            text = None
                        elif r2 < P_PII + P_FORWARD and u is not owner:
                            forwarded = self._pick(_FWD_CHANNELS[lang])
                            tpl, names = self._pick(self.work[lang]["statement"])
                            body, obj = self._fill(tpl, names, u.pl[lang], lang)
                            text = _FWD_PREFIX[lang] + body
                            intent, topic = "statement", "forward"
                if target is not None:
                    reply_to = target[0]
                    # the thread goes on (the other side answers) unless this was a closing thank-you/hello
                    if (target[1] != u.idx and not users[target[1]].rare and intent not in ("feedback", "greeting")
                            and R() < 0.45):
                        pending = (users[target[1]], (mid, u.idx, lang, intent, obj, topic))
            # --- assemble the message (hand-built JSON line; json only for nested parts) ---
            if R() < P_EDIT:
                te = t + 20 + int(R() * 3000)
                head = (f'{{"id": {mid}, "type": "message", "date": "{date}", "date_unixtime": "{t}", '
                        f'"edited": "{self._date(te)}", "edited_unixtime": "{te}", ')
                info.edited += 1
                edited = "true"
            else:
                head = f'{{"id": {mid}, "type": "message", "date": "{date}", "date_unixtime": "{t}", '
                edited = "false"
            if chat_from_id is not None:
                from_id = chat_from_id
                parts = [head, f'"from": {chat_jname}, "from_id": "{from_id}"']
            else:
                from_id = u.from_id
                parts = [head, f'"from": {u.jname}, "from_id": "{from_id}"']
            if forwarded is not None:
                parts.append(f', "forwarded_from": {jstr(forwarded)}, '
                             f'"forwarded_from_id": "channel{1_300_000_000 + _stable_hash(forwarded) % 600_000_000}"')
                info.forwards += 1
            if reply_to is not None:
                parts.append(f', "reply_to_message_id": {reply_to}')
                info.replies += 1
                if u is owner:
                    info.owner_replies += 1
            if u is owner and chat_from_id is None:
                info.owner_messages += 1
            u.count += 1
            media = None
            rm = R()
            if u.rare:
                pass
            elif rm < P_PHOTO + P_DOC + P_VOICE and ckind != "channel" or (ckind == "channel" and rm < 0.04):
                if ckind != "channel" and rm < P_VOICE and forwarded is None and segs is None:
                    frag, intent = self._voice(u, lang, t, chat, mid)
                    media = "voice_message"
                    text = ""
                    topic = "voice"
                elif rm < P_VOICE + P_DOC and ckind != "channel":
                    frag = self._document(u)
                    media = "document"
                    if R() < 0.5 and segs is None:
                        text, intent = "", None
                else:
                    frag = self._photo(t)
                    media = "photo"
                    if R() < 0.6 and segs is None and ckind != "channel":
                        text, intent = "", None
                parts.append(frag)
            # --- text ---
            if segs is None and text:
                if media is None and R() < 0.95:
                    text = self._style(text, lang)
                r3 = R()
                if r3 < 0.04 and len(chat.members) > 2:
                    other = target and users[target[1]] or self._pick(chat.members)
                    if other is not u and other.username:
                        segs = [("mention", "@" + other.username), ("plain", " " + text)]
                elif r3 < 0.055 and intent in ("statement", "command") and target is None:
                    segs = [("bold", _BOLD_PREFIX[lang]), ("plain", " " + text)]
                elif r3 < 0.075 and topic == "work":
                    segs = [("plain", text + " "), ("hashtag", u.pl[lang].tag)]
                elif text[0] == "/":
                    cmd, _, rest = text.partition(" ")
                    segs = [("bot_command", cmd), ("plain", (" " + rest) if rest else "")]
            if segs is not None:
                tv, ents = self._render(segs)
                if isinstance(tv, list):
                    info.with_entities += 1
                parts.append(f', "text": {enc(tv)}, "text_entities": {enc(ents)}')
                if tv:
                    info.text_messages += 1
            elif text:
                js = jstr(text)
                parts.append(f', "text": {js}, "text_entities": [{{"type": "plain", "text": {js}}}]')
                info.text_messages += 1
            else:
                parts.append(', "text": "", "text_entities": []')
                if media != "voice_message":
                    intent = None
            if R() < P_REACT:
                parts.append(f', "reactions": {enc(self._reactions(chat, t))}')
                info.with_reactions += 1
            parts.append("}")
            buf.append("".join(parts))
            if pii:
                info.pii_messages += 1
                info.pii_items += len(pii)
                pii_s = enc(pii)
            else:
                pii_s = "[]"
            if intent is not None:
                tbuf.append(f'{{"chat_id": {cid}, "id": {mid}, "kind": "message", "from_id": "{from_id}", '
                            f'"intent": "{intent}", "lang": "{lang}", "topic": "{topic}", '
                            f'"reply_to": {"null" if reply_to is None else reply_to}, '
                            f'"forwarded": {"false" if forwarded is None else "true"}, "edited": {edited}, '
                            f'"media": {"null" if media is None else chr(34) + media + chr(34)}, "pii": {pii_s}}}\n')
            else:
                tbuf.append(f'{{"chat_id": {cid}, "id": {mid}, "kind": "message", "from_id": "{from_id}", '
                            f'"intent": null, "lang": null, "topic": "media", '
                            f'"reply_to": {"null" if reply_to is None else reply_to}, '
                            f'"forwarded": {"false" if forwarded is None else "true"}, "edited": {edited}, '
                            f'"media": {"null" if media is None else chr(34) + media + chr(34)}, "pii": {pii_s}}}\n')
            ring.append((mid, u.idx, lang, intent, obj, topic))
            if len(buf) >= 2048:
                self._flush(buf, tbuf, out, tout)
        self._flush(buf, tbuf, out, tout)

    def _flush(self, buf: list[str], tbuf: list[str], out, tout) -> None:
        if not buf:
            return
        if self._sep:
            out.write(",\n")
        # Telegram Desktop's layout: one-space indentation, one key per line.
        ind = "     " if self.kind == "full_account" else "  "
        out.write(",\n".join(ind + _pretty(m).replace("\n", "\n" + ind) for m in buf))
        self._sep = True
        tout.write("".join(tbuf))
        self.done += len(buf)
        self.info.messages += len(buf)
        buf.clear()
        tbuf.clear()
        if self.progress:
            self.progress(self.done, self.n_messages)

    def _service(self, chat: _Chat, i: int, mid: int, t: int, date: str, ring: deque) -> dict[str, Any]:
        owner = self.owner
        d: dict[str, Any] = {"id": mid, "type": "service", "date": date, "date_unixtime": str(t)}
        R = self.R
        if i == 0:
            if chat.kind == "channel":
                d.update(actor=chat.name, actor_id=chat.from_id, action="create_channel", title=chat.name)
            elif chat.kind == "personal":
                d.update(actor=owner.name, actor_id=owner.from_id, action="phone_call", duration_seconds=60 + int(R() * 600),
                         discard_reason="hangup")
            else:
                d.update(actor=owner.name, actor_id=owner.from_id, action="create_group", title=chat.name,
                         members=[m.name for m in chat.members[: min(len(chat.members), 12)]])
        else:
            r = R()
            if chat.kind == "personal":
                who = owner if r < 0.5 else chat.partner
                d.update(actor=who.name, actor_id=who.from_id, action="phone_call",
                         duration_seconds=int(R() * 900), discard_reason="hangup" if R() < 0.8 else "missed")
            elif chat.kind == "channel" or (r < 0.4 and ring):
                target = ring[-1 - int(R() * len(ring))] if ring else None
                if target is None:
                    d.update(actor=owner.name, actor_id=owner.from_id, action="edit_group_title", title=chat.name)
                else:
                    actor_name, actor_id = (chat.name, chat.from_id) if chat.kind == "channel" else (owner.name, owner.from_id)
                    d.update(actor=actor_name, actor_id=actor_id, action="pin_message", message_id=target[0])
            elif r < 0.75:
                m = self._pick(chat.members)
                d.update(actor=owner.name, actor_id=owner.from_id, action="invite_members", members=[m.name])
            else:
                m = self._pick(chat.members)
                d.update(actor=m.name, actor_id=m.from_id, action="join_group_by_link", inviter="Group")
        d["text"] = ""
        d["text_entities"] = []
        return d

    def _channel_post(self, lang: str) -> tuple[list[tuple[str, str]], list[dict[str, Any]], str, str]:
        R = self.R
        c = _CHANNEL[lang]
        pl = self.owner.pl[lang]
        title = self._pick(c["titles"])
        tpl, names = _compile(self._pick(c["bodies"]))
        body, _ = self._fill(tpl, names, pl, lang)
        segs = [("bold", title), ("plain", "\n\n" + body + "\n\n" + self._pick(c["tails"]))]
        pii = []
        if R() < 0.3:
            pos = sum(len(s) for _, s in segs) + 1 + len(c["link"])
            url = f"https://teletype.in/@{self.owner.username}/{_token(R, 10)}"
            segs += [("plain", "\n" + c["link"]), ("link", url)]
            pii.append({"type": "url", "value": url, "start": pos, "end": pos + len(url)})
        segs += [("plain", "\n"), ("hashtag", c["tag"])]
        intent = "question" if title.endswith("?") else "statement"
        return segs, pii, intent, "work"

    def _reactions(self, chat: _Chat, t: int) -> list[dict[str, Any]]:
        R = self.R
        out = []
        k = 1 + (R() < 0.3)
        for j in range(k):
            emoji = _REACTION_EMOJI[int(R() * len(_REACTION_EMOJI))]
            if out and out[-1]["emoji"] == emoji:
                continue
            count = 1 + int(R() * R() * 6)
            recent = []
            for _ in range(min(count, 3)):
                m = chat.members[int(R() * len(chat.members))]
                recent.append({"from": m.name, "from_id": m.from_id, "date": self._date(t + 60 + int(R() * 3600))})
            out.append({"type": "emoji", "count": count, "emoji": emoji, "recent": recent})
        return out

    # ---- truth -------------------------------------------------------------------------------------
    def _write_truth(self) -> None:
        info = self.info
        o = self.owner

        def user_row(u: _User) -> dict[str, Any]:
            return {"user_id": u.user_id, "from_id": u.from_id, "name": u.name, "first_name": u.first,
                    "last_name": u.last, "username": u.username, "language": u.lang,
                    "job_label": u.prof["job_label"], "sector": u.prof["sector"], "profession_key": u.prof["key"],
                    "rare": u.rare, "profession_inferable": not u.rare,
                    "opt_out": u.opt_out, "message_count": u.count, "chats": list(u.chats)}

        owner_row = user_row(o)
        owner_row.update(phone_number=OWNER["phone_number"], languages=list(OWNER["languages"]), bio=OWNER["bio"])
        truth = {
            "generator": "telegram_intel_tools.sample_data", "generator_version": GENERATOR_VERSION, "seed": self.seed,
            "kind": self.kind, "export_file": RESULT_JSON, "messages_file": GROUND_TRUTH_MESSAGES,
            "offsets": "pii start/end index the flattened text (Python str code points, end exclusive)",
            "end_unixtime": self.end, "span_days": SPAN_DAYS,
            "voice_audio": "espeak-ng" if self.speech else "tone",
            "owner": owner_row,
            "users": [user_row(u) for u in self.users[1:]],
            "contacts": getattr(self, "contacts", []),
            "chats": [{"id": c.id, "name": c.name, "type": c.type, "messages": c.n,
                       "members": [m.user_id for m in c.members]} for c in self.chats],
            "professions": [{"key": p["key"], "job_label": p["job_label"], "sector": p["sector"]}
                            for p in _PROFESSIONS + [_OWNER_PROFESSION]],
            "intents": list(INTENTS), "languages": list(LANGS), "pii_types": list(PII_TYPES),
            "counts": info.counts,
            "voice_messages": self.voice_truth,
        }
        with open(info.ground_truth_json, "w", encoding="utf-8") as f:
            json.dump(truth, f, ensure_ascii=False, indent=1)


def _stable_hash(s: str) -> int:
    """Stable (not salted) small hash of a string."""
    return zlib.crc32(s.encode("utf-8"))


# =============================================================================================
# Public entry point
# =============================================================================================

def write_sample_export(out_dir: str | Path, *, messages: int = 3000, chats: int = 3, users: int = 24, seed: int = 7,
                        kind: Literal["full_account", "single_chat"] = "full_account", media: bool = True,
                        progress: ProgressFn | None = None, end: int | None = None,
                        speech: bool | None = None) -> SampleInfo:
    """Write a synthetic Telegram Desktop export plus ground truth under ``out_dir``.

    ``messages``: objects in the export's message lists (service messages included), split over
    ``chats`` chats (1: a supergroup; 2: + a basic group; 3: + the owner's public channel; more:
    personal chats with the most active users). ``kind="single_chat"`` writes one chat (the
    supergroup) as a "chat history" export and ignores ``chats``. ``users``: people besides the
    owner; with >= 6 users the last two are ``rare`` (3 messages each). ``media=False`` writes no
    files (media messages say "File not included"). ``progress(done, total)`` is called now and then.
    ``end``: Unix time the export ends at (default :data:`END_UNIXTIME`); messages fill the ``SPAN_DAYS`` days before
    it, up to the end of the previous day. ``speech``: voice messages speak their transcripts through espeak-ng
    (True: required; None: when installed; False: 250 Hz tones).
    """
    if kind not in ("full_account", "single_chat"):
        raise ValueError(f"kind must be 'full_account' or 'single_chat', not {kind!r}")
    if messages < 2:
        raise ValueError("messages must be >= 2")
    if chats < 1 or users < 1:
        raise ValueError("chats and users must be >= 1")
    if speech is None:
        speech = espeak_available()
    elif speech and not espeak_available():
        raise RuntimeError("speech=True needs espeak-ng on PATH (Debian/Ubuntu: apt-get install espeak-ng)")
    gen = _Generator(messages=messages, chats=chats, users=users, seed=seed, kind=kind, media=media,
                     end=END_UNIXTIME if end is None else int(end), speech=bool(speech and media))
    return gen.run(Path(out_dir), progress)


def _main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Write a synthetic Telegram Desktop export with ground truth.")
    ap.add_argument("out_dir")
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--chats", type=int, default=3)
    ap.add_argument("--users", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kind", default="full_account", choices=("full_account", "single_chat"))
    ap.add_argument("--no-media", action="store_true")
    ap.add_argument("--tones", action="store_true", help="Voice messages as tones even when espeak-ng is installed.")
    a = ap.parse_args(argv)
    info = write_sample_export(a.out_dir, messages=a.messages, chats=a.chats, users=a.users, seed=a.seed, kind=a.kind,
                               media=not a.no_media, speech=False if a.tones else None)
    print(json.dumps({**info.counts, "seconds": round(info.seconds, 3),
                      "messages_per_second": round(info.messages_per_second)}, ensure_ascii=False))


if __name__ == "__main__":
    _main()
