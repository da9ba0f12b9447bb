"""Professions and sectors for the offline job-profile method (ru / en / tr).

Each profession has: a sector (English key, the filter vocabulary of the contacts list), labels in three
languages, a few *descriptive phrases* per language (what such a person writes about at work; they are embedded
with the multilingual sentence encoder and compared with a user's messages) and *keyword stems* per language
(matched at the start of a word, case-insensitively: ``планировк`` matches ``планировку``/``планировка``).

Guidelines for entries: stems distinctive of the job (not "client", "project", "meeting"), tool and product
names in lowercase, multi-word stems allowed ("3ds max", "pull request"). A stem listed by several professions is
down-weighted automatically (it counts 1/k for k professions). Adding an entry needs no code change; the
prototype-vector cache is keyed by a hash of this data and rebuilt when it changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

__all__ = ["Profession", "PROFESSIONS", "SECTORS", "taxonomy_fingerprint", "profession_by_key", "sector_label"]


@dataclass(frozen=True)
class Profession:
    key: str
    sector: str
    labels: dict[str, str]
    phrases: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    aliases: tuple[str, ...] = field(default=())  # other English names (manual labels, LLM answers)

    @property
    def label(self) -> str:
        return self.labels["en"]


#: Sector key (English, lowercase) -> labels.
SECTORS: dict[str, dict[str, str]] = {
    "software": {"en": "software", "ru": "разработка ПО", "tr": "yazılım"},
    "design": {"en": "design", "ru": "дизайн", "tr": "tasarım"},
    "architecture": {"en": "architecture", "ru": "архитектура", "tr": "mimarlık"},
    "construction": {"en": "construction", "ru": "строительство", "tr": "inşaat"},
    "healthcare": {"en": "healthcare", "ru": "здравоохранение", "tr": "sağlık"},
    "finance": {"en": "finance", "ru": "финансы", "tr": "finans"},
    "legal": {"en": "legal", "ru": "право", "tr": "hukuk"},
    "education": {"en": "education", "ru": "образование", "tr": "eğitim"},
    "marketing": {"en": "marketing", "ru": "маркетинг", "tr": "pazarlama"},
    "sales": {"en": "sales", "ru": "продажи", "tr": "satış"},
    "media": {"en": "media", "ru": "медиа", "tr": "medya"},
    "hospitality": {"en": "hospitality", "ru": "гостеприимство", "tr": "konaklama ve yiyecek"},
    "real estate": {"en": "real estate", "ru": "недвижимость", "tr": "gayrimenkul"},
    "logistics": {"en": "logistics", "ru": "логистика", "tr": "lojistik"},
    "human resources": {"en": "human resources", "ru": "HR", "tr": "insan kaynakları"},
    "automotive": {"en": "automotive", "ru": "автосервис", "tr": "otomotiv"},
    "sports": {"en": "sports & fitness", "ru": "спорт", "tr": "spor"},
    "beauty": {"en": "beauty", "ru": "бьюти", "tr": "güzellik"},
    "arts": {"en": "arts & music", "ru": "искусство", "tr": "sanat"},
    "tourism": {"en": "tourism", "ru": "туризм", "tr": "turizm"},
    "agriculture": {"en": "agriculture", "ru": "сельское хозяйство", "tr": "tarım"},
    "science": {"en": "science", "ru": "наука", "tr": "bilim"},
}


def _P(key, sector, labels, phrases, keywords, aliases=()) -> Profession:
    return Profession(
        key=key, sector=sector, labels=dict(zip(("en", "ru", "tr"), labels)),
        phrases={lang: tuple(p) for lang, p in phrases.items()},
        keywords={lang: tuple(k.strip().lower() for k in kws.split("|") if k.strip()) for lang, kws in keywords.items()},
        aliases=tuple(aliases),
    )


PROFESSIONS: tuple[Profession, ...] = (
    # ------------------------------------------------------------------ architecture / design
    _P("interior_architect", "architecture", ("interior architect", "дизайнер интерьера", "iç mimar"), {
        "en": ("I design interiors: floor layouts, furniture and finishing specs, renders of rooms for clients",
               "Working on the kitchen layout and the bathroom tiles, then a site visit to measure the apartment"),
        "ru": ("Я дизайнер интерьеров: делаю планировки квартир, визуализации комнат и ведомости отделки",
               "Согласую с заказчиком планировку кухни, подбираю плитку и мебель, еду на замер объекта"),
        "tr": ("İç mimarım: dairelerin kat planlarını, oda görsellerini ve malzeme listelerini hazırlıyorum",
               "Mutfak planını müşteriyle konuşuyorum, banyo seramiğini seçiyorum, ölçü için şantiyeye gidiyorum"),
    }, {
        "en": "interior|floor plan|layout|render|3ds max|sketchup|autocad|archicad|revit|v-ray|vray|mood board|"
              "moodboard|finishing|joinery|elevation|tile|furniture spec|living room",
        "ru": "интерьер|планировк|визуализац|рендер|развёртк|развертк|мудборд|отделк|плитк|замер|чертёж|чертеж|"
              "фасад|узлы примыкан|спецификацию мебел|гостин|санузл|перегородк",
        "tr": "iç mimar|içmimari|kat plan|render|çizim|cephe|mood board|seramik|mobilya|malzeme listesi|"
              "açılım|aydınlatma plan|detay çizim|tavan yüksekli",
    }, aliases=("interior designer", "interior design")),
    _P("architect", "architecture", ("architect", "архитектор", "mimar"), {
        "en": ("I am an architect designing buildings: site plans, zoning approvals and building permits",
               "Preparing the architectural drawings and the BIM model for the residential complex"),
        "ru": ("Я архитектор, проектирую здания: генплан, разрешение на строительство, рабочая документация",
               "Готовлю архитектурный раздел проекта и BIM-модель жилого комплекса"),
        "tr": ("Mimarım, bina projeleri çiziyorum: vaziyet planı, imar durumu ve yapı ruhsatı",
               "Konut projesinin mimari çizimlerini ve BIM modelini hazırlıyorum"),
    }, {
        "en": "architect|building permit|zoning|site plan|bim|facade|masterplan|residential complex",
        "ru": "архитектур|генплан|разрешение на строительств|бим|рабочая документац|жилой комплекс|жк",
        "tr": "mimari|imar|ruhsat|vaziyet plan|bim|konut projesi",
    }),
    _P("ux_designer", "design", ("UX/UI designer", "UX/UI-дизайнер", "UX/UI tasarımcı"), {
        "en": ("I design app interfaces in Figma: user flows, wireframes, prototypes and usability tests",
               "Updating the design system components and handing off the mockups to developers"),
        "ru": ("Я UX/UI дизайнер: рисую интерфейсы в Figma, прототипы, пользовательские сценарии",
               "Обновляю дизайн-систему и отдаю макеты разработчикам"),
        "tr": ("UX/UI tasarımcıyım: Figma'da arayüz, wireframe ve prototip hazırlıyorum",
               "Tasarım sistemini güncelliyorum ve ekranları geliştiricilere teslim ediyorum"),
    }, {
        "en": "figma|wireframe|prototype|usability|user flow|design system|mockup|ux|ui kit|handoff",
        "ru": "figma|фигм|макет|прототип|юзабилити|дизайн-систем|вайрфрейм|ux|ui",
        "tr": "figma|wireframe|prototip|kullanılabilirlik|tasarım sistemi|arayüz tasarım|ux|ui",
    }, aliases=("product designer", "ui designer", "ux designer", "web designer")),
    _P("graphic_designer", "design", ("graphic designer", "графический дизайнер", "grafik tasarımcı"), {
        "en": ("I am a graphic designer: logos, brand identity, posters and print layouts in Illustrator",
               "Sending the client three logo options and the brand book with fonts and colors"),
        "ru": ("Я графический дизайнер: логотипы, фирменный стиль, афиши и макеты для печати",
               "Отправил клиенту три варианта логотипа и брендбук со шрифтами"),
        "tr": ("Grafik tasarımcıyım: logo, kurumsal kimlik, afiş ve baskı tasarımları yapıyorum",
               "Müşteriye üç logo seçeneği ve kurumsal kimlik kılavuzunu gönderdim"),
    }, {
        "en": "logo|branding|brand book|illustrator|indesign|poster|typography|print layout|vector",
        "ru": "логотип|фирменный стиль|брендбук|иллюстратор|афиш|типографик|шрифт|полиграф|вектор",
        "tr": "logo|kurumsal kimlik|afiş|tipografi|baskı|illustrator|vektör|broşür",
    }),
    # ------------------------------------------------------------------ software
    _P("fullstack_developer", "software", ("full-stack developer", "фулстек-разработчик", "full-stack geliştirici"), {
        "en": ("I am a software developer: backend APIs, frontend in React, databases, deploying to production",
               "The build fails on CI, I need to fix the tests, review the pull request and deploy the release"),
        "ru": ("Я разработчик: пишу бэкенд и API, фронтенд на React, работаю с базой данных и деплоем",
               "Упал билд на CI, нужно починить тесты, отревьюить пулл-реквест и задеплоить релиз"),
        "tr": ("Yazılım geliştiriciyim: backend API, React ile arayüz, veritabanı ve canlıya deploy",
               "CI'da build kırıldı, testleri düzeltip pull request'i inceleyip sürümü deploy etmem lazım"),
    }, {
        "en": "pull request|deploy|api|endpoint|frontend|backend|react=|django|postgres|docker|kubernetes|typescript|"
              "fastapi|next.js|migration|staging|prod=|ci pipeline|build=|failing build|bug fix|dependencies|repo=",
        "ru": "пулл-реквест|пул-реквест|задеплои|деплой|апи|api|эндпоинт|фронт|бэкенд|бекенд|миграци|стенд|прод=|"
              "билд|баг|тест|docker|react|django|postgres|зависимост|ci",
        "tr": "pull request|deploy|api|endpoint|arayüz|backend|veritabanı|migrasyon|test ortam|canlı ortam|build=|"
              "hata düzeltme|bağımlılık|docker|react|ci",
    }, aliases=("software developer", "software engineer", "web developer", "programmer", "backend developer",
                "frontend developer", "developer")),
    _P("mobile_developer", "software", ("mobile developer", "мобильный разработчик", "mobil geliştirici"), {
        "en": ("I build iOS and Android apps in Swift and Kotlin and publish them to the App Store and Google Play",
               "The app crashed on older Android devices after the update, the review on the App Store is pending"),
        "ru": ("Я пишу мобильные приложения под iOS и Android на Swift и Kotlin",
               "Приложение падает на старых андроидах, ждём ревью в App Store"),
        "tr": ("iOS ve Android uygulamaları geliştiriyorum, Swift ve Kotlin kullanıyorum",
               "Uygulama eski Android cihazlarda çöküyor, App Store incelemesini bekliyoruz"),
    }, {
        "en": "ios|android|swift|kotlin|flutter|react native|app store|google play|xcode|testflight",
        "ru": "ios|андроид|android|swift|kotlin|flutter|app store|google play|xcode",
        "tr": "ios|android|swift|kotlin|flutter|app store|google play|mobil uygulama",
    }, aliases=("ios developer", "android developer")),
    _P("devops_engineer", "software", ("DevOps engineer", "DevOps-инженер", "DevOps mühendisi"), {
        "en": ("I run the infrastructure: Kubernetes clusters, Terraform, monitoring and on-call incidents",
               "The Grafana alerts fired at night, the node ran out of disk, I rolled back the Helm release"),
        "ru": ("Я девопс: поднимаю кластеры Kubernetes, пишу Terraform, настраиваю мониторинг и алерты",
               "Ночью сработали алерты, на ноде кончился диск, откатил релиз в хельме"),
        "tr": ("DevOps mühendisiyim: Kubernetes kümeleri, Terraform, izleme ve alarm kurulumu yapıyorum",
               "Gece alarmlar çaldı, sunucunun diski doldu, Helm sürümünü geri aldım"),
    }, {
        "en": "kubernetes|k8s|terraform|ansible|helm|grafana|prometheus|on-call|incident|aws|gcp|cluster|nginx",
        "ru": "кубер|kubernetes|terraform|ansible|helm|хельм|grafana|графан|prometheus|алерт|инцидент|кластер|"
              "сервер|nginx|aws",
        "tr": "kubernetes|terraform|ansible|helm|grafana|prometheus|alarm|sunucu|küme|nginx|aws",
    }, aliases=("sre", "system administrator", "sysadmin")),
    _P("data_scientist", "software", ("data scientist", "data scientist", "veri bilimci"), {
        "en": ("I train machine learning models in Python: features, datasets, validation metrics and notebooks",
               "The model overfits, AUC dropped on the holdout set, I need to retrain with more data"),
        "ru": ("Я дата-сайентист: обучаю модели машинного обучения, собираю датасеты и считаю метрики",
               "Модель переобучилась, упал AUC на отложенной выборке, надо дообучить на новых данных"),
        "tr": ("Veri bilimciyim: makine öğrenmesi modelleri eğitiyorum, veri setleri ve metriklerle çalışıyorum",
               "Model aşırı öğrendi, test setinde AUC düştü, daha fazla veriyle yeniden eğitmem lazım"),
    }, {
        "en": "machine learning|ml model|dataset|pandas|pytorch|tensorflow|jupyter|notebook|auc|overfit|llm|"
              "feature engineering|regression|classifier",
        "ru": "машинн обучен|нейросет|датасет|pandas|pytorch|jupyter|переобуч|выборк|llm",
        "tr": "makine öğrenme|veri seti|model eğit|pandas|pytorch|jupyter|aşırı öğren|regresyon|sınıflandır",
    }, aliases=("data analyst", "ml engineer", "data engineer")),
    _P("qa_engineer", "software", ("QA engineer", "QA-инженер", "test mühendisi"), {
        "en": ("I test software: test cases, regression runs, bug reports and automated tests in Selenium",
               "Found a blocker bug in the checkout flow during regression, filed it in Jira"),
        "ru": ("Я тестировщик: пишу тест-кейсы, гоняю регресс, завожу баги, автотесты на Selenium",
               "На регрессе нашёл блокер в оформлении заказа, завёл баг в Jira"),
        "tr": ("Test mühendisiyim: test senaryoları yazıyorum, regresyon testleri ve hata kayıtları",
               "Regresyon testinde ödeme akışında kritik hata buldum, Jira'ya kaydettim"),
    }, {
        "en": "test case|regression|bug report|selenium|autotest|qa|test plan|smoke test|blocker",
        "ru": "тест-кейс|регресс|тестировщ|автотест|баг-репорт|qa|смоук|блокер|selenium",
        "tr": "test senaryo|regresyon|hata kaydı|test otomasyon|qa|selenium",
    }, aliases=("tester", "qa")),
    _P("product_manager", "software", ("product manager", "продакт-менеджер", "ürün yöneticisi"), {
        "en": ("I manage a product: roadmap, backlog priorities, user interviews, A/B tests and retention metrics",
               "Writing the PRD for the new feature and aligning the release plan with stakeholders"),
        "ru": ("Я продакт: веду роадмап и бэклог, провожу интервью с пользователями и A/B-тесты",
               "Пишу PRD новой фичи и согласую релизный план со стейкхолдерами"),
        "tr": ("Ürün yöneticisiyim: yol haritası, backlog önceliklendirme, kullanıcı görüşmeleri ve A/B testleri",
               "Yeni özellik için PRD yazıyorum ve sürüm planını paydaşlarla netleştiriyorum"),
    }, {
        "en": "roadmap|backlog|prd|feature|a/b test|retention|conversion|stakeholder|user interview|jira|amplitude|"
              "release plan|onboarding",
        "ru": "роадмап|бэклог|prd|фич|a/b|удержани|конверси|стейкхолдер|интервью с пользовател|релиз|jira|"
              "онбординг|метрик",
        "tr": "yol harita|backlog|prd|özellik|a/b|elde tutma|dönüşüm|paydaş|kullanıcı görüşme|sürüm|onboarding|"
              "metrik",
    }, aliases=("product owner", "project manager")),
    # ------------------------------------------------------------------ healthcare
    _P("dentist", "healthcare", ("dentist", "стоматолог", "diş hekimi"), {
        "en": ("I am a dentist: fillings, crowns, implants, X-rays and cleaning appointments with patients",
               "The patient's crown didn't fit, the lab is late with the veneers, rescheduling the appointment"),
        "ru": ("Я стоматолог: пломбы, коронки, импланты, снимки зубов и профгигиена пациентов",
               "Коронка не села, лаборатория задерживает виниры, переношу приём пациента"),
        "tr": ("Diş hekimiyim: dolgu, kuron, implant, röntgen ve diş taşı temizliği yapıyorum",
               "Hastanın kuronu oturmadı, laboratuvar laminaları geciktirdi, randevuyu erteliyorum"),
    }, {
        "en": "dentist|dental|crown|filling|implant|veneer|x-ray|molar|braces|impression|anesthetic|cerec|itero|"
              "hygiene cleaning|patient",
        "ru": "стоматолог|зуб|коронк|пломб|имплант|винир|снимок|брекет|слепок|анестет|профгигиен|пациент|приём|кт ",
        "tr": "diş|kuron|dolgu|implant|lamina|röntgen|diş teli|ölçü|anestezi|diş taşı|hasta|randevu|tomografi",
    }),
    _P("physician", "healthcare", ("doctor", "врач", "doktor"), {
        "en": ("I am a doctor: seeing patients, diagnosis, prescriptions, lab tests and hospital shifts",
               "Night shift in the emergency department, the patient's blood test came back abnormal"),
        "ru": ("Я врач: приём пациентов, диагнозы, назначения, анализы, дежурства в больнице",
               "Ночное дежурство в приёмном отделении, у пациента плохие анализы крови"),
        "tr": ("Doktorum: hasta muayenesi, teşhis, reçete, tahliller ve hastanede nöbet",
               "Acil serviste gece nöbeti, hastanın kan tahlili kötü çıktı"),
    }, {
        "en": "diagnosis|prescription|blood test|emergency department|night shift|clinic|hospital|ward=|symptoms|mri",
        "ru": "диагноз|назначени|анализ кров|дежурств|отделени|больниц|поликлиник|симптом|мрт|терапевт",
        "tr": "teşhis|reçete|tahlil|nöbet|acil servis|hastane|klinik|semptom|muayene",
    }, aliases=("physician", "medical doctor", "therapist")),
    _P("nurse", "healthcare", ("nurse", "медсестра", "hemşire"), {
        "en": ("I work as a nurse: injections, IV drips, vital signs and caring for patients on the ward",
               "Twelve-hour shift on the ward, checking blood pressure and giving medication on schedule"),
        "ru": ("Я медсестра: уколы, капельницы, давление, уход за пациентами в отделении",
               "Смена двенадцать часов, мерила давление и раздавала лекарства по графику"),
        "tr": ("Hemşireyim: enjeksiyon, serum, tansiyon ölçümü ve serviste hasta bakımı",
               "Serviste on iki saatlik nöbet, tansiyon ölçüp ilaçları saatinde veriyorum"),
    }, {
        "en": "nurse|injection|iv drip|vital signs|blood pressure|medication round|ward=",
        "ru": "медсестр|укол|капельниц|давлени|перевязк|процедурн",
        "tr": "hemşire|enjeksiyon|serum|tansiyon|pansuman|servis nöbet",
    }),
    _P("psychologist", "healthcare", ("psychologist", "психолог", "psikolog"), {
        "en": ("I am a psychologist: therapy sessions with clients, anxiety, burnout and supervision",
               "Had four therapy sessions today, a client is working through anxiety and burnout"),
        "ru": ("Я психолог: консультации и терапия с клиентами, тревожность, выгорание, супервизия",
               "Сегодня четыре сессии, клиент прорабатывает тревожность и выгорание"),
        "tr": ("Psikoloğum: danışanlarla terapi seansları, kaygı, tükenmişlik ve süpervizyon",
               "Bugün dört seans yaptım, danışan kaygı ve tükenmişlik üzerinde çalışıyor"),
    }, {
        "en": "therapy|psycholog|anxiety|burnout|therapy session|supervision|cbt|trauma",
        "ru": "психолог|терапи|тревожн|выгорани|супервиз|травм|кпт",
        "tr": "psikolog|terapi|kaygı|tükenmişlik|seans|danışan|süpervizyon|travma",
    }, aliases=("therapist", "psychotherapist")),
    _P("pharmacist", "healthcare", ("pharmacist", "фармацевт", "eczacı"), {
        "en": ("I work in a pharmacy: prescriptions, drug stock, generics and advising customers on medicines",
               "The supplier ran out of the antibiotic, ordering a generic substitute for the pharmacy"),
        "ru": ("Я фармацевт: рецепты, остатки препаратов, дженерики, консультации покупателей в аптеке",
               "У поставщика закончился антибиотик, заказываю аналог в аптеку"),
        "tr": ("Eczacıyım: reçeteler, ilaç stoğu, eşdeğer ilaçlar ve hastalara danışmanlık",
               "Tedarikçide antibiyotik bitti, eczaneye eşdeğerini sipariş ediyorum"),
    }, {
        "en": "pharmacy|pharmacist|drug stock|generic|antibiotic|dosage",
        "ru": "аптек|фармацевт|препарат|дженерик|антибиотик|дозировк",
        "tr": "eczane|eczacı|ilaç stoğu|eşdeğer|antibiyotik|doz",
    }),
    # ------------------------------------------------------------------ finance / legal
    _P("accountant", "finance", ("accountant", "бухгалтер", "muhasebeci"), {
        "en": ("I am an accountant: closing the month, tax returns, VAT, payroll, reconciliations and audits",
               "The bank blocked the supplier payment and the balance doesn't reconcile before the audit"),
        "ru": ("Я бухгалтер: закрываю месяц, сдаю отчётность в налоговую, НДС, зарплата, акты сверки",
               "Банк заблокировал платёж поставщику, не сходится сальдо перед аудитом"),
        "tr": ("Muhasebeciyim: ay kapanışı, vergi beyannamesi, KDV, bordro ve mutabakat işleri",
               "Banka tedarikçi ödemesini bloke etti, denetim öncesi bakiye tutmuyor"),
    }, {
        "en": "accounting|tax return|vat|payroll|reconcil|balance sheet|invoice|audit|depreciation|quickbooks|xero|"
              "expense report|close the month|ledger",
        "ru": "бухгалт|налогов|ндс|декларац|зарплат|акт сверки|сверк|баланс|сальдо|аудит|амортизац|1с|1c|"
              "отчётност|отчетност|платёжк|платежк|авансов|счёт|счет",
        "tr": "muhasebe|vergi|kdv|beyanname|bordro|mutabakat|bilanço|bakiye|denetim|amortisman|fatura|masraf|"
              "ayı kapat|logo tiger|cari hesap",
    }, aliases=("bookkeeper", "chief accountant")),
    _P("financial_analyst", "finance", ("financial analyst", "финансовый аналитик", "finansal analist"), {
        "en": ("I analyse companies for investment: financial models, valuations, DCF, portfolios and stocks",
               "Updating the DCF model after the earnings call, the stock looks overvalued"),
        "ru": ("Я финансовый аналитик: финмодели, оценка компаний, DCF, инвестиционный портфель, акции",
               "Обновляю DCF-модель после отчётности компании, акция выглядит переоценённой"),
        "tr": ("Finansal analistim: finansal modeller, şirket değerlemesi, DCF, portföy ve hisseler",
               "Bilanço açıklamasından sonra DCF modelini güncelliyorum, hisse pahalı görünüyor"),
    }, {
        "en": "dcf|valuation|financial model|portfolio|stock|equity|bonds|earnings|investor|ebitda|ipo",
        "ru": "dcf|оценк компани|финмодел|портфел|акци|облигац|инвест|ebitda|дивиденд",
        "tr": "dcf|değerleme|finansal model|portföy|hisse|tahvil|yatırım|ebitda|halka arz",
    }, aliases=("investment analyst", "banker", "financial advisor")),
    _P("lawyer", "legal", ("lawyer", "юрист", "avukat"), {
        "en": ("I am a lawyer: contracts, claims, court hearings, powers of attorney and legal advice to clients",
               "The hearing was postponed, I am preparing our position and the appeal before the deadline"),
        "ru": ("Я юрист: договоры, иски, судебные заседания, доверенности, претензии и консультации",
               "Заседание перенесли, готовлю позицию и апелляционную жалобу до конца срока"),
        "tr": ("Avukatım: sözleşmeler, davalar, duruşmalar, vekaletname ve müvekkillere hukuki danışmanlık",
               "Duruşma ertelendi, süre dolmadan savunmayı ve istinaf dilekçesini hazırlıyorum"),
    }, {
        "en": "lawyer|legal|court|hearing|claim|appeal|contract|counterparty|power of attorney|nda|lawsuit|"
              "litigation|amendment|registry|statute|case file",
        "ru": "юрист|юридическ|суд=|суда|суде|судом|судебн|заседани|иск=|иска|иском|исков|апелляц|договор|контрагент|"
              "доверенност|претензи|nda|устав=|устава|егрюл|допсоглашени|обжалован",
        "tr": "avukat|hukuk|mahkeme|duruşma|dava|istinaf|sözleşme|karşı taraf|vekaletname|ihtarname|müvekkil|uyap|"
              "ticaret sicil|itiraz|dilekçe",
    }, aliases=("attorney", "legal counsel", "advocate")),
    # ------------------------------------------------------------------ construction / trades
    _P("electrician", "construction", ("electrician", "электрик", "elektrikçi"), {
        "en": ("I am an electrician: wiring, breaker panels, outlets, grounding and electrical installation",
               "The breaker trips when the oven is on, I need to pull a new cable to the panel"),
        "ru": ("Я электрик: проводка, электрощиты, автоматы, розетки, заземление и монтаж кабеля",
               "Выбивает автомат при включении духовки, надо протянуть новый кабель до щитка"),
        "tr": ("Elektrikçiyim: elektrik tesisatı, sigorta panosu, prizler, topraklama ve kablo çekimi",
               "Fırın açılınca sigorta atıyor, panoya yeni kablo çekmem gerekiyor"),
    }, {
        "en": "electrician|wiring|breaker|panel|outlet|socket|grounding|cable|gfci|circuit|voltage|cooktop",
        "ru": "электрик|проводк|щиток|щит|автомат|розетк|заземлени|кабел|узо|штроб|прозвон|напряжени|варочн",
        "tr": "elektrik|tesisat|sigorta|pano|priz|topraklama|kablo|kaçak akım|voltaj|ocak bağlant",
    }),
    _P("plumber", "construction", ("plumber", "сантехник", "tesisatçı"), {
        "en": ("I am a plumber: pipes, leaks, boilers, radiators, toilets and water heaters",
               "Fixed a leak under the sink and replaced the boiler pressure valve"),
        "ru": ("Я сантехник: трубы, протечки, котлы, радиаторы, унитазы и бойлеры",
               "Устранил протечку под раковиной и поменял клапан на котле"),
        "tr": ("Tesisatçıyım: borular, su kaçakları, kombi, petek, klozet ve şofben",
               "Lavabonun altındaki kaçağı giderdim ve kombinin basınç vanasını değiştirdim"),
    }, {
        "en": "plumb|pipe=|pipes|leak|boiler|radiator|toilet|water heater|sink|valve|drain",
        "ru": "сантехн|труб|протечк|котёл|котел|радиатор|унитаз|бойлер|раковин|смесител|канализац",
        "tr": "tesisatçı|boru|kaçak|kombi|petek|klozet|şofben|lavabo|vana|gider",
    }),
    _P("construction_manager", "construction", ("construction manager", "прораб", "şantiye şefi"), {
        "en": ("I run construction sites: concrete pours, rebar, subcontractors, schedules and site safety",
               "The concrete delivery is late, the crew is waiting, the formwork for the slab is ready"),
        "ru": ("Я прораб: веду стройку, бетон, арматура, субподрядчики, график работ и техника безопасности",
               "Бетон опаздывает, бригада стоит, опалубка под плиту готова"),
        "tr": ("Şantiye şefiyim: beton dökümü, demir, taşeronlar, iş programı ve iş güvenliği",
               "Beton mikseri gecikti, ekip bekliyor, döşeme kalıbı hazır"),
    }, {
        "en": "construction site|concrete|rebar|formwork|subcontractor|crew|scaffold|foundation|slab|excavat",
        "ru": "стройк|бетон|арматур|опалубк|субподряд|бригад|леса|фундамент|плит перекрыт|котлован|прораб",
        "tr": "şantiye|beton|demir|kalıp|taşeron|iskele|döşeme|hafriyat",
    }, aliases=("foreman", "builder", "site manager", "civil engineer")),
    # ------------------------------------------------------------------ education / science
    _P("teacher", "education", ("teacher", "учитель", "öğretmen"), {
        "en": ("I teach at a school: lesson plans, homework, grading tests, parent-teacher meetings and classes",
               "Half the class didn't hand in the homework, I still have to grade the quiz"),
        "ru": ("Я учитель в школе: планы уроков, домашние задания, контрольные, оценки и родительские собрания",
               "Полкласса не сдали домашку, ещё надо проверить контрольную"),
        "tr": ("Okulda öğretmenim: ders planları, ödevler, sınav notları ve veli toplantıları",
               "Sınıfın yarısı ödevi getirmedi, daha sınavları okuyacağım"),
    }, {
        "en": "teacher|lesson|homework|grade|quiz|classroom|students|pupils|parent-teacher|exam=|exams|olympiad|moodle|"
              "kahoot|gradebook",
        "ru": "учител|урок|домашн|домашк|контрольн|оценк|класс=|классе|класса|ученик|родительск|экзамен|олимпиад|тетрад|журнал",
        "tr": "öğretmen|ders|ödev|notları|notlar|sınav|sınıf|öğrenci|veli|olimpiyat|e-okul|etüt|deneme sınav",
    }, aliases=("lecturer", "professor", "instructor")),
    _P("researcher", "science", ("researcher", "научный сотрудник", "araştırmacı"), {
        "en": ("I am a scientist: experiments in the lab, papers, grants, peer review and conference talks",
               "The reviewers asked for another experiment before the paper can be accepted"),
        "ru": ("Я научный сотрудник: эксперименты в лаборатории, статьи, гранты, рецензии и конференции",
               "Рецензенты попросили ещё один эксперимент, иначе статью не примут"),
        "tr": ("Araştırmacıyım: laboratuvarda deneyler, makaleler, hibeler ve konferans sunumları",
               "Hakemler makale kabulünden önce bir deney daha istedi"),
    }, {
        "en": "experiment|paper=|papers|grant|peer review|reviewer|journal|phd|lab|hypothesis|conference talk",
        "ru": "эксперимент|стать|грант|рецензент|журнал|диссертац|лаборатор|гипотез|аспирант",
        "tr": "deney|makale|hibe|hakem|dergi|doktora|laboratuvar|hipotez|tübitak",
    }, aliases=("scientist", "phd student")),
    # ------------------------------------------------------------------ marketing / sales / media
    _P("marketing_manager", "marketing", ("marketing manager", "маркетолог", "pazarlama müdürü"), {
        "en": ("I run marketing: ad campaigns, media plans, budgets, leads, conversion reports and newsletters",
               "The cost per lead went up, CTR dropped, launching an A/B test of the banners"),
        "ru": ("Я маркетолог: рекламные кампании, медиаплан, бюджет на рекламу, лиды и отчёты по конверсиям",
               "Выросла стоимость лида, упал CTR, запускаю A/B-тест баннеров"),
        "tr": ("Pazarlamacıyım: reklam kampanyaları, medya planı, reklam bütçesi, lead ve dönüşüm raporları",
               "Lead maliyeti arttı, tıklama oranı düştü, banner'larla A/B testi başlatıyorum"),
    }, {
        "en": "marketing|campaign|media plan|ad budget|ads|lead=|leads|cost per lead|ctr|conversion|landing page|utm|"
              "newsletter|targeting|keyword research|google ads|meta ads|brief|seo",
        "ru": "маркетинг|маркетолог|кампани|медиаплан|реклам|лид=|лида|лидов|лиды|ctr|конверси|лендинг|utm|рассылк|таргет|семантик|"
              "бриф|контент-план|баннер|seo",
        "tr": "pazarlama|kampanya|medya plan|reklam|lead|tıklama oranı|dönüşüm|landing|utm|e-bülten|hedefli|"
              "anahtar kelime|brif|içerik plan|banner|seo",
    }, aliases=("marketer", "digital marketer", "growth manager", "seo specialist")),
    _P("smm_specialist", "marketing", ("SMM specialist", "SMM-специалист", "sosyal medya uzmanı"), {
        "en": ("I run social media accounts: Instagram posts, reels, stories, followers and engagement",
               "The reel got fifty thousand views, planning the stories for the week"),
        "ru": ("Я SMM-щик: веду соцсети, посты в инстаграм, рилсы, сторис, подписчики и охваты",
               "Рилс набрал пятьдесят тысяч просмотров, планирую сторис на неделю"),
        "tr": ("Sosyal medya uzmanıyım: Instagram paylaşımları, reels, hikayeler, takipçi ve etkileşim",
               "Reels elli bin izlendi, haftanın hikayelerini planlıyorum"),
    }, {
        "en": "instagram|reels|stories|followers|engagement|tiktok|smm|influencer|post schedule",
        "ru": "инстаграм|рилс|сторис|подписчик|охват|тикток|smm|блогер|соцсет",
        "tr": "instagram|reels|hikaye|takipçi|etkileşim|tiktok|influencer|sosyal medya",
    }, aliases=("social media manager", "content creator", "blogger")),
    _P("sales_manager", "sales", ("sales manager", "менеджер по продажам", "satış müdürü"), {
        "en": ("I sell B2B: cold calls, CRM pipeline, commercial offers, deals, quotas and negotiations",
               "Closed two deals this week, the pipeline in the CRM looks good for the quarter plan"),
        "ru": ("Я в продажах: холодные звонки, воронка в CRM, коммерческие предложения, сделки и план продаж",
               "Закрыл две сделки за неделю, воронка в CRM под план квартала"),
        "tr": ("Satışçıyım: soğuk aramalar, CRM'de satış hunisi, teklifler, anlaşmalar ve hedefler",
               "Bu hafta iki anlaşma kapattım, CRM'deki huni çeyrek hedefi için iyi görünüyor"),
    }, {
        "en": "sales|deal|pipeline|crm|cold call|quota|commercial offer|negotiat|prospect|upsell",
        "ru": "продаж|сделк|воронк|crm|холодн звонк|коммерческ предложени|кп |переговор|план продаж",
        "tr": "satış|anlaşma|huni|crm|soğuk arama|teklif|müzakere|hedef|bayi",
    }, aliases=("account manager", "business development manager", "salesperson")),
    _P("photographer", "media", ("photographer", "фотограф", "fotoğrafçı"), {
        "en": ("I am a photographer: wedding and portrait shoots, studio lighting, retouching, RAW processing",
               "Culling the shots from the wedding, then color grading in Lightroom before delivery"),
        "ru": ("Я фотограф: свадебные и портретные съёмки, студийный свет, ретушь и обработка RAW",
               "Отбираю кадры со свадьбы, потом цветокоррекция в лайтруме и сдача клиенту"),
        "tr": ("Fotoğrafçıyım: düğün ve portre çekimleri, stüdyo ışığı, rötuş ve RAW işleme",
               "Düğün karelerini seçiyorum, teslimden önce Lightroom'da renk düzenlemesi yapacağım"),
    }, {
        "en": "photographer|photo shoot|photoshoot|shoot|wedding|portrait|studio|retouch|raw files|lightroom|photoshop|capture one|lens|strobe|"
              "color grading|canon|sony a7|memory card|portfolio",
        "ru": "фотограф|фотосесси|съёмк|съемк|свадьб|портрет|студи|ретуш|raw|лайтрум|lightroom|фотошоп|объектив|кадр|"
              "цветокоррекц|карта памяти|портфолио|предметк",
        "tr": "fotoğrafçı|çekim|düğün|portre|stüdyo|rötuş|raw|lightroom|photoshop|objektif|kare|renk düzenle|"
              "hafıza kartı|portfolyo|flaş",
    }),
    _P("videographer", "media", ("videographer", "видеограф", "video prodüktörü"), {
        "en": ("I shoot and edit video: commercials, music clips, editing in Premiere, color and sound",
               "Rendering the final cut of the commercial, the client wants a shorter version for social"),
        "ru": ("Я видеограф: снимаю и монтирую ролики, клипы, монтаж в премьере, звук и цвет",
               "Рендерю финальную версию ролика, клиент хочет короткую версию для соцсетей"),
        "tr": ("Video prodüktörüyüm: reklam ve klip çekiyorum, Premiere'de kurgu, renk ve ses",
               "Reklamın final kurgusunu render alıyorum, müşteri sosyal medya için kısa versiyon istiyor"),
    }, {
        "en": "video|footage|editing|premiere|davinci|final cut|drone|commercial|music video|b-roll",
        "ru": "видео|монтаж|ролик|клип|премьер|davinci|дрон|футаж|исходник",
        "tr": "video|kurgu|montaj|klip|premiere|davinci|drone|reklam filmi",
    }, aliases=("video editor", "filmmaker", "cameraman")),
    _P("journalist", "media", ("journalist", "журналист", "gazeteci"), {
        "en": ("I am a journalist: interviews, articles, sources, the editor, deadlines and publishing stories",
               "The editor cut my article, the interview with the minister goes out tomorrow"),
        "ru": ("Я журналист: интервью, статьи, источники, редактор, дедлайны и публикации",
               "Редактор сократил мой материал, интервью с министром выйдет завтра"),
        "tr": ("Gazeteciyim: röportajlar, haberler, kaynaklar, editör ve yayın saatleri",
               "Editör haberimi kısalttı, bakanla röportaj yarın yayında"),
    }, {
        "en": "journalist|article|editor|interview|newsroom|headline|reporter|publication|byline",
        "ru": "журналист|редактор|интервью|редакци|заголов|репортаж|публикац|колонк",
        "tr": "gazeteci|haber|editör|röportaj|manşet|muhabir|yayın|köşe yazı",
    }, aliases=("reporter", "editor", "copywriter", "writer")),
    _P("translator", "media", ("translator", "переводчик", "çevirmen"), {
        "en": ("I translate documents and books, interpret at meetings, work with glossaries and CAT tools",
               "Finishing the translation of the contract into English, then proofreading and notarization"),
        "ru": ("Я переводчик: перевожу документы и книги, устный перевод на переговорах, глоссарии и CAT-программы",
               "Заканчиваю перевод договора на английский, потом вычитка и нотариальное заверение"),
        "tr": ("Çevirmenim: belge ve kitap çevirisi, toplantılarda sözlü çeviri, terim listeleri",
               "Sözleşmenin İngilizce çevirisini bitiriyorum, sonra redaksiyon ve noter onayı"),
    }, {
        "en": "translat|interpret|glossary|proofread|trados|localization|subtitles",
        "ru": "перевод|переводчик|глоссари|вычитк|локализац|субтитр|синхрон",
        "tr": "çeviri|çevirmen|tercüme|redaksiyon|yerelleştirme|altyazı",
    }, aliases=("interpreter", "localization specialist")),
    # ------------------------------------------------------------------ hospitality / tourism
    _P("chef", "hospitality", ("chef", "шеф-повар", "aşçı"), {
        "en": ("I am a chef: the restaurant menu, recipe cards, food cost, kitchen staff and supplier deliveries",
               "The combi oven broke down before the banquet, we are two cooks short in the kitchen"),
        "ru": ("Я шеф-повар: меню ресторана, техкарты, фудкост, повара на кухне и поставки продуктов",
               "Сломался пароконвектомат перед банкетом, на кухне не хватает двух поваров"),
        "tr": ("Aşçıyım: restoran menüsü, reçete kartları, gıda maliyeti, mutfak ekibi ve tedarik",
               "Ziyafetten önce konveksiyonlu fırın bozuldu, mutfakta iki aşçı eksik"),
    }, {
        "en": "chef|menu|recipe|food cost|banquet|cook=|cooks|line cook|dish=|dishes|tasting menu|combi oven|"
              "supplier order|restaurant|risotto",
        "ru": "шеф|меню|техкарт|фудкост|банкет|повар|блюд|дегустац|пароконвектомат|заготовк|ресторан|"
              "калькуляци|борщ",
        "tr": "şef|menü|reçete|gıda maliyet|ziyafet|aşçı|yemek|tabak|tadım|fırın|restoran|çorba",
    }, aliases=("cook", "sous chef")),
    _P("barista", "hospitality", ("barista / café owner", "бариста", "barista"), {
        "en": ("I make coffee in a café: espresso extraction, grinder settings, latte art, beans from the roaster",
               "Calibrated the grinder this morning, the new Ethiopian beans taste fruity as espresso"),
        "ru": ("Я бариста в кофейне: эспрессо, настройка кофемолки, латте-арт, зерно от обжарщика",
               "С утра настроил помол, новое эфиопское зерно в эспрессо очень фруктовое"),
        "tr": ("Kafede baristayım: espresso, öğütücü ayarı, latte art ve kavurucudan gelen çekirdekler",
               "Sabah öğütücüyü ayarladım, yeni Etiyopya çekirdeği espressoda meyvemsi"),
    }, {
        "en": "espresso|barista|grinder|latte|beans|roaster|café|coffee shop",
        "ru": "эспрессо|бариста|кофемолк|латте|зерно|обжарк|кофейн",
        "tr": "espresso|barista|öğütücü|latte|çekirdek|kavurma|kafe",
    }, aliases=("café owner",)),
    _P("hotel_manager", "hospitality", ("hotel manager", "управляющий отелем", "otel müdürü"), {
        "en": ("I manage a hotel: bookings, occupancy, reception staff, guest complaints and housekeeping",
               "Occupancy is at ninety percent for the weekend, the booking channel double-sold two rooms"),
        "ru": ("Я управляю отелем: бронирования, загрузка номеров, ресепшен, жалобы гостей и хаускипинг",
               "На выходные загрузка девяносто процентов, букинг продал два номера дважды"),
        "tr": ("Otel müdürüyüm: rezervasyonlar, doluluk, resepsiyon, misafir şikayetleri ve kat hizmetleri",
               "Hafta sonu doluluk yüzde doksan, rezervasyon kanalı iki odayı iki kez sattı"),
    }, {
        "en": "hotel|occupancy|reception|guest|housekeeping|check-in|booking.com|front desk",
        "ru": "отел|загрузк номер|ресепшен|гостей|хаускипинг|заселени|букинг",
        "tr": "otel|doluluk|resepsiyon|misafir|kat hizmet|check-in|rezervasyon|oda",
    }, aliases=("hospitality manager", "receptionist")),
    _P("travel_agent", "tourism", ("travel agent", "турагент", "seyahat acentesi"), {
        "en": ("I sell tours: flights, hotel packages, visas, transfers and excursions for tourists",
               "The tour operator changed the flight, rebooking the transfer and the excursion for the group"),
        "ru": ("Я турагент: туры, перелёты, отели, визы, трансферы и экскурсии для туристов",
               "Туроператор поменял рейс, переоформляю трансфер и экскурсию для группы"),
        "tr": ("Seyahat acentesiyim: turlar, uçuşlar, otel paketleri, vizeler, transfer ve geziler",
               "Tur operatörü uçuşu değiştirdi, grubun transferini ve gezisini yeniden ayarlıyorum"),
    }, {
        "en": "tour|flight|visa|excursion|tourist|tour operator|itinerary|travel agency",
        "ru": "тур|туры|туров|перелёт|перелет|виза|визу|визы|трансфер|экскурси|турист|туроператор|рейс",
        "tr": "tur|uçuş|vize|transfer|gezi|turist|tur operatör|acente",
    }, aliases=("tour guide", "tour operator")),
    # ------------------------------------------------------------------ real estate / logistics
    _P("realtor", "real estate", ("real-estate agent", "риелтор", "emlakçı"), {
        "en": ("I am a real-estate agent: listings, apartment viewings, deposits, mortgages and property sales",
               "The buyer pulled out before closing, the bank didn't approve the mortgage, lowering the price"),
        "ru": ("Я риелтор: объявления, показы квартир, задаток, ипотека и сделки с недвижимостью",
               "Покупатель отказался перед сделкой, банк не одобрил ипотеку, снижаем цену на квартиру"),
        "tr": ("Emlakçıyım: ilanlar, daire gösterimleri, kaparo, konut kredisi ve tapuda satış",
               "Alıcı tapudan önce vazgeçti, banka krediyi onaylamadı, fiyatı düşürüyoruz"),
    }, {
        "en": "real estate|listing|viewing|deposit|mortgage|property|buyer|title report|title check|notary|apartment|"
              "two-bedroom|valuation|zillow|rightmove|asking price",
        "ru": "недвижимост|риелтор|риэлтор|объявлени|показ|задат|ипотек|покупател|собственник|сделк|егрн|"
              "квартир|двушк|оценк квартир|нотариус|перепланировк|циан|авито",
        "tr": "emlak|ilan|gösterim|kaparo|kredi|gayrimenkul|alıcı|ev sahibi|tapu|daire|2+1|3+1|ekspertiz|"
              "sahibinden|kaçak tadilat",
    }, aliases=("realtor", "real estate agent", "estate agent", "broker")),
    _P("logistics_coordinator", "logistics", ("logistics coordinator", "логист", "lojistik koordinatörü"), {
        "en": ("I coordinate freight: shipments, trucks, containers, customs clearance, warehouses and routes",
               "The truck is stuck at the border and the container is delayed at the port, rerouting the delivery"),
        "ru": ("Я логист: перевозки, фуры, контейнеры, таможня, склады, маршруты и накладные",
               "Фура застряла на границе, контейнер задерживается в порту, перестраиваю маршрут"),
        "tr": ("Lojistik koordinatörüyüm: sevkiyat, tır, konteyner, gümrük, depo ve güzergahlar",
               "Tır sınırda takıldı, konteyner limanda gecikiyor, güzergahı değiştiriyorum"),
    }, {
        "en": "logistic|shipment|shipping|truck|container|customs|warehouse|route|waybill|carrier|pallet|port=|"
              "freight|unloading|delivery report|tracking number",
        "ru": "логист|перевоз|отгрузк|фура|фуру|фуры|контейнер|таможн|растамож|склад|маршрут|накладн|перевозчик|паллет|порт=|порту|"
              "груз|разгрузк|трек-номер",
        "tr": "lojistik|sevkiyat|tır|konteyner|gümrük|depo|güzergah|irsaliye|nakliye|palet|liman|yük|boşaltma|"
              "takip numara",
    }, aliases=("logistics manager", "freight forwarder", "dispatcher", "supply chain manager")),
    _P("truck_driver", "logistics", ("driver", "водитель", "şoför"), {
        "en": ("I drive a truck or a taxi: long routes, fuel, tachograph, parking and delivery schedules",
               "Waiting eight hours at the loading dock, then driving overnight to make the delivery"),
        "ru": ("Я водитель: дальние рейсы, топливо, тахограф, стоянки, погрузка и доставка",
               "Восемь часов простоял на погрузке, ночью еду, чтобы успеть к выгрузке"),
        "tr": ("Şoförüm: uzun yol, yakıt, takograf, park yerleri, yükleme ve teslimat",
               "Yüklemede sekiz saat bekledim, teslimata yetişmek için gece yola çıkıyorum"),
    }, {
        "en": "driver|fuel|tachograph|loading dock|diesel|taxi|mileage|highway",
        "ru": "водител|солярк|топлив|тахограф|погрузк|трасс|такси|дальнобой|рейс",
        "tr": "şoför|mazot|yakıt|takograf|yükleme|otoyol|taksi|uzun yol",
    }, aliases=("truck driver", "long-haul driver")),
    # ------------------------------------------------------------------ people / services
    _P("hr_manager", "human resources", ("HR manager / recruiter", "HR-менеджер / рекрутер", "İK uzmanı"), {
        "en": ("I hire people: job openings, candidates, interviews, offers, onboarding and employee benefits",
               "Two candidates passed the final interview, preparing the offer and the onboarding plan"),
        "ru": ("Я HR и рекрутер: вакансии, кандидаты, собеседования, офферы, адаптация сотрудников",
               "Два кандидата прошли финальное собеседование, готовлю оффер и план адаптации"),
        "tr": ("İnsan kaynakları uzmanıyım: iş ilanları, adaylar, mülakatlar, teklifler ve oryantasyon",
               "İki aday son mülakatı geçti, teklif mektubunu ve oryantasyon planını hazırlıyorum"),
    }, {
        "en": "recruit|candidate|job opening|vacancy|interview|offer letter|hiring|hr|cv|headcount",
        "ru": "рекрут|кандидат|ваканси|собеседовани|оффер|найм|hr|резюме|адаптаци сотрудник",
        "tr": "işe alım|aday|iş ilanı|mülakat|teklif mektub|insan kaynak|ik|özgeçmiş|cv|personel",
    }, aliases=("recruiter", "hr specialist", "talent acquisition")),
    _P("car_mechanic", "automotive", ("car mechanic", "автомеханик", "oto tamircisi"), {
        "en": ("I repair cars: engine diagnostics, brakes, suspension, oil changes and spare parts",
               "The engine throws an error code, ordering a new sensor and replacing the brake pads"),
        "ru": ("Я автомеханик: диагностика двигателя, тормоза, подвеска, замена масла и запчасти",
               "Двигатель выдаёт ошибку, заказал новый датчик и меняю тормозные колодки"),
        "tr": ("Oto tamircisiyim: motor arıza tespiti, fren, süspansiyon, yağ değişimi ve yedek parça",
               "Motor arıza kodu veriyor, yeni sensör sipariş ettim ve fren balatalarını değiştiriyorum"),
    }, {
        "en": "engine=|engines|brake|suspension|oil change|spare part|gearbox|diagnostic|tyre|tire=|tires|car service",
        "ru": "двигател|тормоз|подвеск|замена масла|запчаст|коробк передач|диагностик|шин|автосервис|колодк",
        "tr": "motor|fren|süspansiyon|yağ değişim|yedek parça|şanzıman|arıza|lastik|oto servis|balata",
    }, aliases=("mechanic", "auto technician")),
    _P("fitness_trainer", "sports", ("fitness trainer", "фитнес-тренер", "fitness eğitmeni"), {
        "en": ("I am a personal trainer: workouts, training plans, nutrition, clients at the gym and progress",
               "My client added ten kilos to the squat, adjusting the training plan and the diet"),
        "ru": ("Я фитнес-тренер: тренировки, программы, питание, клиенты в зале и прогресс",
               "Клиент добавил десять кило в приседе, корректирую программу тренировок и питание"),
        "tr": ("Kişisel antrenörüm: antrenmanlar, programlar, beslenme, spor salonunda danışanlar",
               "Danışanım squat'ta on kilo artırdı, antrenman programını ve diyeti güncelliyorum"),
    }, {
        "en": "workout|training plan|squat|gym|personal trainer|nutrition|reps|cardio|stretching",
        "ru": "тренировк|тренер|присед|зал|питани|кардио|растяжк|фитнес",
        "tr": "antrenman|antrenör|squat|spor salon|beslenme|kardiyo|esneme|fitness",
    }, aliases=("coach", "personal trainer", "yoga instructor")),
    _P("hairdresser", "beauty", ("hairdresser / beauty specialist", "парикмахер / бьюти-мастер",
                                 "kuaför / güzellik uzmanı"), {
        "en": ("I work in a beauty salon: haircuts, coloring, manicure, clients booked for appointments",
               "Fully booked today: two colorings, a haircut and a manicure in the evening"),
        "ru": ("Я мастер в салоне красоты: стрижки, окрашивание, маникюр, запись клиентов",
               "Сегодня полная запись: два окрашивания, стрижка и вечером маникюр"),
        "tr": ("Güzellik salonunda çalışıyorum: saç kesimi, boya, manikür ve randevulu müşteriler",
               "Bugün randevular dolu: iki boya, bir saç kesimi ve akşam manikür"),
    }, {
        "en": "haircut|hair color|coloring|manicure|salon|balayage|nails|lashes|beauty",
        "ru": "стрижк|окрашивани|маникюр|салон|ногт|ресниц|бьюти|парикмах|брови",
        "tr": "saç kesim|saç boya|manikür|güzellik salon|tırnak|kirpik|güzellik|kuaför",
    }, aliases=("hairdresser", "stylist", "hair colorist")),
    _P("musician", "arts", ("musician", "музыкант", "müzisyen"), {
        "en": ("I am a musician: rehearsals, gigs, recording tracks in the studio, mixing and releasing songs",
               "Rehearsal tonight before the gig, then mixing the new track with the sound engineer"),
        "ru": ("Я музыкант: репетиции, концерты, запись треков в студии, сведение и релизы",
               "Вечером репетиция перед концертом, потом сводим новый трек со звукорежиссёром"),
        "tr": ("Müzisyenim: provalar, konserler, stüdyoda kayıt, miks ve şarkı yayınları",
               "Konserden önce bu akşam prova, sonra yeni parçanın miksini yapacağız"),
    }, {
        "en": "rehearsal|gig|new track|tracks|mixing|mastering|album|guitar|drums|concert|song",
        "ru": "репетици|концерт|трек|сведени|мастеринг|альбом|гитар|барабан|песн|звукореж",
        "tr": "prova|konser|parça|miks|mastering|albüm|gitar|davul|şarkı",
    }, aliases=("singer", "sound engineer", "dj", "artist", "painter")),
    _P("farmer", "agriculture", ("farmer", "фермер", "çiftçi"), {
        "en": ("I run a farm: crops, harvest, tractors, fertilizer, irrigation and livestock",
               "The harvest is late because of the rain, the tractor needs repairs before sowing"),
        "ru": ("Я фермер: урожай, посевная, трактор, удобрения, полив и скот",
               "Из-за дождей урожай запаздывает, трактор надо починить до посевной"),
        "tr": ("Çiftçiyim: ekin, hasat, traktör, gübre, sulama ve hayvancılık",
               "Yağmur yüzünden hasat gecikti, ekimden önce traktörün tamiri lazım"),
    }, {
        "en": "harvest|crop|tractor|fertilizer|irrigation|livestock|sowing|greenhouse|cattle",
        "ru": "урожа|посев|трактор|удобрени|полив|скот|теплиц|ферм|зерн",
        "tr": "hasat|ekin|traktör|gübre|sulama|hayvancılık|sera|çiftlik|tarla",
    }, aliases=("agronomist",)),
    # ------------------------------------------------------------------ construction trades and finishing work
    _P("tile_setter", "construction", ("tile setter", "плиточник", "fayans ustası"), {
        "en": ("I am a tile setter: laying porcelain tiles, tile adhesive, leveling clips, grouting and cutting",
               "The client changed the tile layout again, I am grouting the bathroom while the adhesive sets"),
        "ru": ("Я плиточник: укладываю плитку и керамогранит, раскладка, плиточный клей, затирка швов, подрезка",
               "Заказчица опять поменяла раскладку, затираю швы в санузле, пока схватывается клей"),
        "tr": ("Fayans ustasıyım: seramik ve granit döşüyorum, yapıştırıcı, derz dolgusu ve kesim yapıyorum",
               "Müşteri yine seramik yerleşimini değiştirdi, banyonun derzini dolduruyorum"),
    }, {
        "en": "tile setter|tiling|grout|tile adhesive|thinset|tile spacer|leveling clips|wet saw|tile saw|"
              "large format tile|backsplash install",
        "ru": "плиточн|укладк плит|уложил плит|затирк|затира|раскладк|керамогранит|свп|крестик|подрезк|запил|"
              "плиточн клей|гидроизоляц",
        "tr": "fayans ust|fayansçı|fayans döş|seramik döş|granit döş|derz|seramik yapıştırıcı|fayans kes|"
              "45 derece kes|su yalıtım",
    }, aliases=("tiler", "tile installer")),
    _P("painter_decorator", "construction", ("painter and decorator", "маляр", "boya ustası"), {
        "en": ("I am a painter and decorator: priming, skim coating, sanding, painting walls and ceilings, wallpaper",
               "Second coat on the ceiling today, then sanding the filler in the hallway before painting"),
        "ru": ("Я маляр: грунтую, шпаклюю, шкурю, крашу стены и потолки, клею обои",
               "Сегодня второй слой на потолок, в коридоре шкурил шпаклёвку под покраску"),
        "tr": ("Boya ustasıyım: astar, macun, zımpara, duvar ve tavan boyası, duvar kağıdı",
               "Bugün tavana ikinci kat boyayı attım, koridorda macunu zımparaladım"),
    }, {
        "en": "painter and decorator|house painter|primer coat|skim coat|second coat|sanding|wallpapering|"
              "paint roller|spackle|masking tape|drop cloth",
        "ru": "маляр|шпакл|шкурил|шкурк|грунтова|загрунтова|финишн шпакл|второй слой|покрасил стен|валик|"
              "поклеил обо|клеил обо|малярн скотч|флизелин|колеровк",
        "tr": "boya ustası|boyacı|astar at|astarla|macun|zımpara|ikinci kat|duvar kağıdı|saten boya|"
              "plastik boya|badana|tavan boya",
    }, aliases=("house painter", "decorator")),
    _P("plasterer", "construction", ("plasterer", "штукатур", "sıvacı"), {
        "en": ("I am a plasterer: machine plastering, gypsum plaster on beads, floor screeds, leveling walls",
               "Plastered two rooms on beads today, tomorrow we pour the screed in the corridor"),
        "ru": ("Я штукатур: машинная штукатурка, гипсовая штукатурка по маякам, стяжка, выравнивание стен",
               "Сегодня отштукатурил две комнаты по маякам, завтра заливаем стяжку в коридоре"),
        "tr": ("Sıvacıyım: makine sıvası, alçı sıva, şap, duvar düzeltme ve köşe profili",
               "Bugün iki odanın alçı sıvasını bitirdim, yarın koridora şap dökeceğiz"),
    }, {
        "en": "plasterer|plastering|gypsum plaster|screed|plaster bead|float finish|drywall|render coat|"
              "machine plaster",
        "ru": "штукатур|отштукатур|маяк|стяжк|машинн штукатурк|ротбанд|кнауф|гипсокартон|гкл|полусух|"
              "наливн пол",
        "tr": "sıvacı|sıva|kaba sıva|alçı sıva|makine sıva|şap|alçıpan|köşe profil|mastar|saten alçı",
    }, aliases=("drywaller", "screed layer")),
    _P("carpenter", "construction", ("carpenter / joiner", "плотник / столяр", "marangoz"), {
        "en": ("I am a carpenter: wooden stairs, doors and frames, roof trusses, planing and joining timber",
               "Hanging interior doors today, the frames are out of level, then sanding the oak stair treads"),
        "ru": ("Я столяр-плотник: деревянные лестницы, двери, срубы, стропила, строгаю и соединяю брус",
               "Сегодня ставлю межкомнатные двери, коробки кривые, потом шлифую дубовые ступени"),
        "tr": ("Marangozum: ahşap merdiven, kapı ve kasa, çatı makası, rende ve ahşap birleştirme",
               "Bugün iç kapıları takıyorum, kasalar eğri, sonra meşe basamakları zımparalayacağım"),
    }, {
        "en": "carpenter|joiner|timber|planer|jigsaw|roof truss|door frame|stair tread|mortise|dovetail|"
              "woodwork|router table",
        "ru": "плотник|столяр|брус|строга|рубанок|стропил|сруб|наличник|дверн коробк|межкомнатн двер|тетив|"
              "фрезер|лобзик|массив дуб|массив ясен",
        "tr": "marangoz|ahşap|rende|kapı kasa|iç kapı|çatı makas|masif|dekupaj|freze|zıvana|kontrplak",
    }, aliases=("joiner", "woodworker")),
    _P("welder", "construction", ("welder", "сварщик", "kaynakçı"), {
        "en": ("I am a welder: MIG and TIG welding, steel structures, gates and railings, grinding the seams",
               "Welded the staircase frame all day, went through two packs of electrodes and my eyes hurt"),
        "ru": ("Я сварщик: варю полуавтоматом и аргоном, металлоконструкции, ворота, перила, зачищаю швы",
               "Весь день варил каркас лестницы, ушло две пачки электродов, глаза нахватались"),
        "tr": ("Kaynakçıyım: gazaltı ve argon kaynağı, çelik konstrüksiyon, bahçe kapısı, korkuluk ve taşlama",
               "Bütün gün merdiven iskeletini kaynakladım, iki paket elektrot bitti, gözlerim yandı"),
    }, {
        "en": "welder|welding|weld|mig|tig|electrode|arc welding|steel frame|grinder disc|welding mask|"
              "stainless pipe",
        "ru": "сварщ|сварк|сварн|приварил|заварил шов|электрод|аргон|полуавтомат|металлоконструкц|профтруб|"
              "болгарк|нахватал зайч|инвертор|катет шва",
        "tr": "kaynakçı|kaynak yap|kaynak maske|kaynak makine|gazaltı|argon|elektrot|konstrüksiyon|profil demir|"
              "korkuluk|taşlama",
    }, aliases=("metalworker", "fabricator")),
    _P("hvac_technician", "construction", ("HVAC technician", "монтажник кондиционеров", "klima teknisyeni"), {
        "en": ("I install and service air conditioners and ventilation: split systems, refrigerant, vacuuming lines",
               "Mounted three split systems today, one was short of refrigerant so I vacuumed and recharged it"),
        "ru": ("Я монтажник кондиционеров и вентиляции: ставлю сплит-системы, вакуумирую трассу, заправляю фреон",
               "Сегодня повесил три сплита, на одном не хватало фреона, вакуумировал и дозаправил"),
        "tr": ("Klima ve havalandırma teknisyeniyim: split klima montajı, gaz dolumu, vakum ve kanal işleri",
               "Bugün üç split klima montajladım, birinde gaz eksikti, vakum yapıp gaz doldurdum"),
    }, {
        "en": "hvac|split system|refrigerant|freon|r32|r410|vacuum pump|line set|ductwork|condenser unit|"
              "indoor unit|outdoor unit",
        "ru": "кондиционерщик|сплит|фреон|вакуумир|дозаправ|заправк фреон|дренаж|внешн блок|наружн блок|"
              "внутренн блок|вентиляц|воздуховод|r32|r410|мультизон",
        "tr": "klima montaj|klima bakım|klimacı|split klima|gaz dolum|vakum|dış ünite|iç ünite|bakır boru|"
              "drenaj|havalandırma kanal|r32|vrf",
    }, aliases=("air conditioning installer", "ac technician", "ventilation installer")),
    _P("roofer", "construction", ("roofer", "кровельщик", "çatı ustası"), {
        "en": ("I am a roofer: metal roofing, shingles, underlayment, flashing around chimneys and gutters",
               "Up on the roof all day laying shingles, the wind nearly took a sheet of underlayment"),
        "ru": ("Я кровельщик: кладу металлочерепицу и мягкую кровлю, мембрану, примыкания к трубе, водостоки",
               "Весь день на крыше, клали гибкую черепицу, ветром чуть не унесло лист мембраны"),
        "tr": ("Çatı ustasıyım: kiremit, shingle, membran, baca dibi izolasyonu ve yağmur oluğu",
               "Bütün gün çatıdaydım, shingle döşedik, rüzgar neredeyse membranı uçuruyordu"),
    }, {
        "en": "roofer|roofing|shingle|underlayment|flashing|gutter|ridge cap|metal roof|roof deck|eaves",
        "ru": "кровельщик|кровл|металлочерепиц|профлист|мягк кровл|гибк черепиц|ендов|примыкани|водосток|"
              "мембран|обрешетк|стропил|саморез кровел",
        "tr": "çatı ustası|çatıcı|kiremit|shingle|membran|mahya|yağmur oluğu|oluk|çatı akıt|osb|baca dibi",
    }),
    _P("locksmith", "construction", ("locksmith", "мастер по замкам", "çilingir"), {
        "en": ("I am a locksmith: opening locked doors, changing cylinders, installing locks and cutting keys",
               "Third lockout call tonight, drilled the cylinder out and fitted a new one"),
        "ru": ("Я мастер по замкам: вскрываю двери, меняю личинки, врезаю замки, делаю дубликаты ключей",
               "Третий вызов за вечер на вскрытие, высверлил личинку и поставил новую"),
        "tr": ("Çilingirim: kilitli kapı açma, barel değişimi, kilit montajı ve anahtar kopyalama",
               "Bu akşam üçüncü kapı açma çağrısı, bareli deldim yenisini taktım"),
    }, {
        "en": "locksmith|lockout|lock cylinder|rekey|key cutting|deadbolt|lock picking|mortise lock",
        "ru": "вскрыти двер|вскрыл двер|вскрыть двер|личинк|цилиндр замк|врезк замк|врезал замок|дубликат ключ|"
              "мастер по замк|отмычк|сувальд",
        "tr": "çilingir|barel|kilit değiş|kilit montaj|kapı açma|anahtar kopyala|çelik kapı kilid|maymuncuk",
    }),
    _P("handyman", "construction", ("handyman", "мастер на час", "ev tamircisi"), {
        "en": ("I am a handyman: small repairs at people's homes, hanging shelves, fixing doors, assembling furniture",
               "Five calls today: a curtain rail, a dripping tap, two shelves and a cabinet door that wouldn't close"),
        "ru": ("Я мастер на час: мелкий ремонт по квартирам, вешаю полки и карнизы, чиню двери, собираю мебель",
               "Сегодня пять вызовов: карниз, подтекает кран, две полки и дверца шкафа"),
        "tr": ("Ev tamircisiyim: evlerde ufak tamirler, raf ve korniş takma, kapı ayarı, mobilya kurulumu",
               "Bugün beş iş vardı: korniş, damlayan musluk, iki raf ve kapanmayan dolap kapağı"),
    }, {
        "en": "handyman|odd jobs|small repairs|house call|curtain rail|tv mount|hang shelves|wall anchor|"
              "furniture assembly",
        "ru": "мастер на час|муж на час|карниз|дюбел|перфоратор|повесил полк|повесить полк|мелк ремонт|"
              "сборк мебел|собрал шкаф",
        "tr": "ev tamirci|tamirci|ufak tamir|korniş|dübel|matkap|raf tak|tv askı|kapı ayar|menteşe",
    }, aliases=("repairman", "maintenance worker")),
    _P("furniture_maker", "construction", ("furniture maker", "мебельщик", "mobilyacı"), {
        "en": ("I make custom furniture: kitchens and wardrobes from chipboard and MDF, edge banding, hinges",
               "Sent the kitchen cutting list to the workshop, the fronts are being sprayed, installation on Friday"),
        "ru": ("Я делаю корпусную мебель на заказ: кухни и шкафы-купе из ЛДСП и МДФ, кромка, фурнитура, сборка",
               "Отправил деталировку кухни на распил, фасады в покраске, монтаж в пятницу"),
        "tr": ("Mobilyacıyım: ölçüye özel mutfak dolabı ve gardırop, sunta, MDF, kenar bandı, menteşe ve montaj",
               "Mutfağın kesim listesini atölyeye gönderdim, kapaklar boyada, montaj cuma"),
    }, {
        "en": "custom furniture|cabinet maker|chipboard|mdf|edge banding|cutting list|blum|hinges|"
              "kitchen cabinets|cnc|furniture workshop",
        "ru": "корпусн мебел|мебельщик|лдсп|мдф|кромк|распил|деталировк|фурнитур|блюм|blum|шкаф-купе|"
              "кухонн гарнитур|столешниц|базис|мебельн цех",
        "tr": "mobilyacı|mobilya atölye|sunta|mdf|kenar band|kesim listesi|gardırop|mutfak dolab|lake kapak|"
              "cnc|akrilik kapak",
    }, aliases=("cabinet maker", "furniture assembler")),
    # ------------------------------------------------------------------ healthcare (more)
    _P("veterinarian", "healthcare", ("veterinarian", "ветеринар", "veteriner"), {
        "en": ("I am a vet: examining cats and dogs, vaccinations, spaying and neutering, surgeries",
               "Spayed two cats this morning, then a dog came in after swallowing a sock"),
        "ru": ("Я ветеринар: осматриваю кошек и собак, прививки, кастрации и стерилизации, операции",
               "С утра две стерилизации кошек, потом привезли собаку, которая проглотила носок"),
        "tr": ("Veteriner hekimim: kedi ve köpek muayenesi, aşılar, kısırlaştırma ve ameliyatlar",
               "Sabah iki kedi kısırlaştırdım, sonra çorap yutan bir köpek geldi"),
    }, {
        "en": "vet|veterinar|spay|neuter|pet owner|canine|feline|rabies shot|vet clinic|deworming",
        "ru": "ветеринар|ветврач|ветклиник|кастрац|стерилизац кош|чипирован|глистогон|бешенств|"
              "хвостат пациент|вакцинац кош|вакцинац собак",
        "tr": "veteriner|kısırlaştır|kuduz aşı|pati|evcil hayvan|kedi muayene|köpek muayene|iç parazit|"
              "dış parazit|mikroçip",
    }, aliases=("vet", "veterinary surgeon")),
    _P("massage_therapist", "healthcare", ("massage therapist", "массажист", "masaj terapisti"), {
        "en": ("I am a massage therapist: back and sports massage, lymphatic drainage, trigger points, sessions",
               "Six massages today, my forearms are burning, the last client's trapezius was like a rock"),
        "ru": ("Я массажист: классический и спортивный массаж, лимфодренаж, триггерные точки, сеансы на столе",
               "Шесть массажей за день, предплечья горят, у последнего клиента трапеция как камень"),
        "tr": ("Masaj terapistiyim: klasik ve spor masajı, lenf drenajı, tetik noktalar ve seanslar",
               "Bugün altı masaj yaptım, ön kollarım yanıyor, son danışanın trapezi taş gibiydi"),
    }, {
        "en": "massage therapist|massage table|deep tissue|lymphatic drainage|trigger point|sports massage|"
              "massage oil|trapezius",
        "ru": "массажист|массаж|лимфодренаж|триггерн точк|массажн стол|антицеллюлит|курс массаж|трапеци|"
              "шейно-воротников",
        "tr": "masör|masöz|masaj|lenf drenaj|tetik nokta|masaj masası|masaj yağı|kas düğüm",
    }, aliases=("masseur", "masseuse")),
    _P("dental_technician", "healthcare", ("dental technician", "зубной техник", "diş teknisyeni"), {
        "en": ("I am a dental technician: making crowns, zirconia bridges and dentures in the lab from impressions",
               "Milling five zirconia crowns tonight, the clinic sent a bad impression again"),
        "ru": ("Я зубной техник: делаю коронки, циркониевые мосты и протезы в лаборатории по слепкам врачей",
               "Вечером фрезерую пять циркониевых коронок, клиника опять прислала кривой слепок"),
        "tr": ("Diş teknisyeniyim: laboratuvarda kuron, zirkonyum köprü ve protez yapıyorum",
               "Bu akşam beş zirkonyum kuron frezeliyorum, klinik yine bozuk ölçü gönderdi"),
    }, {
        "en": "dental technician|dental lab|zirconia|denture|bridge framework|wax-up|porcelain layering|"
              "sintering|articulator|exocad",
        "ru": "зубн техник|зуботехн|цирконий|циркониев|протез|каркас мост|моделировк|спекани|артикулятор|"
              "exocad|e.max|emax|гипсов модел",
        "tr": "diş teknisyen|diş laboratuvar|zirkonyum|protez|porselen|sinterle|artikülatör|exocad|mum model|"
              "frezele|alçı model",
    }, aliases=("dental lab technician",)),
    # ------------------------------------------------------------------ beauty (more)
    _P("cosmetologist", "beauty", ("cosmetologist", "косметолог", "kozmetolog"), {
        "en": ("I am a cosmetologist: facial cleansing, peels, injections, botox and fillers, skin care",
               "Three peels and a biorevitalization today, one client came in with a rash after her home retinol"),
        "ru": ("Я косметолог: чистки лица, пилинги, уколы красоты, ботокс, филлеры и уход за кожей клиенток",
               "Сегодня три пилинга и биоревитализация, одна пришла с раздражением после своего ретинола"),
        "tr": ("Kozmetoloğum: cilt bakımı, peeling, dudak dolgusu, botoks, leke tedavisi ve lazer",
               "Bugün üç peeling ve bir mezoterapi yaptım, bir danışan evdeki retinolden tahriş olmuş gelmiş"),
    }, {
        "en": "cosmetologist|esthetician|facial|chemical peel|botox|filler|biorevitalization|microneedling|"
              "skin care|hydrafacial",
        "ru": "косметолог|чистк лиц|пилинг|ботокс|филлер|биоревитализ|мезотерап|контурн пластик|ретинол|"
              "атравматичн|уходов процедур",
        "tr": "kozmetolog|cilt bakım|peeling|botoks|dudak dolgu|mezoterapi|leke tedavi|lazer epilasyon|"
              "hydrafacial|dermapen|medikal estetik",
    }, aliases=("esthetician", "beautician", "aesthetician")),
    _P("nail_technician", "beauty", ("nail technician", "мастер маникюра", "tırnak teknisyeni"), {
        "en": ("I am a nail tech: manicures and pedicures, gel polish, extensions, cuticle work with an e-file",
               "Four gel manicures and a set of extensions today, my back is done, ran out of top coat"),
        "ru": ("Я мастер маникюра: маникюр и педикюр, покрытие гель-лаком, наращивание, аппаратный маникюр",
               "Сегодня четыре покрытия и одно наращивание, спина отваливается, закончился топ"),
        "tr": ("Tırnak teknisyeniyim: manikür, pedikür, kalıcı oje, protez tırnak ve jel uygulaması",
               "Bugün dört kalıcı oje ve bir protez tırnak yaptım, belim koptu, top coat bitti"),
    }, {
        "en": "nail tech|gel polish|nail extension|cuticle|e-file|acrylic nails|pedicure|top coat|base coat|"
              "nail art",
        "ru": "маникюр|педикюр|гель-лак|гельлак|наращивани ногт|кутикул|аппаратн маникюр|дизайн ногт|"
              "выравнивани ногт|френч|коррекци ногт",
        "tr": "manikür|pedikür|kalıcı oje|protez tırnak|jel tırnak|kütikül|nail art|tırnak tasarım|top coat|"
              "french manikür",
    }, aliases=("manicurist", "nail artist")),
    _P("makeup_artist", "beauty", ("makeup artist", "визажист", "makyaj artisti"), {
        "en": ("I am a makeup artist: bridal makeup, photo shoots, foundation matching, lashes, early calls",
               "Bride at five in the morning, then two bridesmaids, my kit weighs a ton"),
        "ru": ("Я визажист: свадебный и вечерний макияж, макияж для съёмок, тон, стрелки, ресницы",
               "Невеста в пять утра, потом две подружки, кейс с косметикой весит тонну"),
        "tr": ("Makyaj artistiyim: gelin makyajı, çekim makyajı, fondöten, kontür ve takma kirpik",
               "Sabah beşte gelin vardı, sonra iki nedime, makyaj çantam bir ton"),
    }, {
        "en": "makeup artist|mua|bridal makeup|foundation match|contour|false lashes|setting spray|"
              "makeup kit|beauty blender",
        "ru": "визажист|макияж|свадебн макияж|вечерн макияж|тональн|консилер|контуринг|хайлайтер|"
              "накладн ресниц|кейс визаж",
        "tr": "makyaj artist|gelin makyaj|makyöz|fondöten|kontür|kapatıcı|takma kirpik|sabitleyici|makyaj çanta",
    }, aliases=("visagiste", "mua")),
    _P("barber", "beauty", ("barber", "барбер", "berber"), {
        "en": ("I am a barber: fades, beard trims, hot towel shaves, clippers and walk-in clients",
               "Twelve fades today, my clipper blade is dull, a regular came in for his beard line-up"),
        "ru": ("Я барбер: мужские стрижки, фейды, оформление бороды, бритьё опасной бритвой",
               "Сегодня двенадцать фейдов, нож на машинке затупился, постоянник пришёл подровнять бороду"),
        "tr": ("Berberim: erkek saç kesimi, fade, sakal tıraşı, ustura ve sıcak havlu",
               "Bugün on iki fade kestim, makinenin bıçağı köreldi, müdavim sakal düzeltmeye geldi"),
    }, {
        "en": "barber|fade=|fades|skin fade|beard trim|line-up|hot towel|straight razor|clipper|taper",
        "ru": "барбер|фейд|фэйд|оформлени бород|опасн бритв|мужск стрижк|андис|wahl|окантовк",
        "tr": "berber|fade|sakal tıraş|sakal düzelt|ustura|sıcak havlu|saç makine|sıfır numara",
    }, aliases=("men's hairdresser",)),
    # ------------------------------------------------------------------ hospitality (more)
    _P("baker", "hospitality", ("baker / pastry chef", "пекарь / кондитер", "fırıncı / pastacı"), {
        "en": ("I am a baker and pastry chef: sourdough, croissants, cakes to order, proofing dough, early shifts",
               "Up at four to shape the loaves, the croissant dough didn't laminate, three cakes are due today"),
        "ru": ("Я пекарь-кондитер: закваска, круассаны, торты на заказ, расстойка теста и ранние смены у печи",
               "Встала в четыре формовать хлеб, слоёное тесто поплыло, а сегодня ещё три торта сдавать"),
        "tr": ("Fırıncı ve pastacıyım: ekşi maya, kruvasan, sipariş pasta, hamur mayalandırma ve sabah vardiyası",
               "Sabah dörtte kalkıp ekmekleri şekillendirdim, kruvasan hamuru tutmadı, bugün üç pasta teslim"),
    }, {
        "en": "baker|bakery|pastry|sourdough|proofing|croissant|laminated dough|buttercream|cake order|fondant",
        "ru": "пекар|кондитер|закваск|расстойк|круассан|торт на заказ|торты на заказ|бенто|мастик|крем-чиз|"
              "ганаш|выпечк|бисквит|формовк|слоен тест",
        "tr": "fırıncı|pastacı|pasta sipariş|ekşi maya|kruvasan|mayalan|fondan|pandispanya|ganaj|unlu mamul|"
              "poğaça|hamurhane",
    }, aliases=("pastry chef", "confectioner")),
    _P("waiter", "hospitality", ("waiter", "официант", "garson"), {
        "en": ("I work as a waiter: taking orders, serving tables, tips, the lunch rush and closing the shift",
               "Eight tables in my section tonight, a guest sent the steak back twice and left no tip"),
        "ru": ("Я официант: принимаю заказы, обслуживаю столы, чаевые, обеденный наплыв и закрытие смены",
               "Вечером восемь столов на мне, гость дважды вернул стейк и не оставил чаевых"),
        "tr": ("Garsonum: sipariş alıyorum, masalara servis yapıyorum, bahşiş, öğle yoğunluğu ve kapanış",
               "Bu akşam sekiz masa bendeydi, bir müşteri bifteği iki kez geri gönderdi, bahşiş de bırakmadı"),
    }, {
        "en": "waiter|waitress|server=|tips=|serving tables|my section|table turnover|lunch rush|tray",
        "ru": "официант|чаев|поднос|хостес|менеджер зал|r-keeper|iiko|айко|пробил заказ|обслужил стол|"
              "мои столы|на раздач",
        "tr": "garson|bahşiş|servis yap|masa servis|tepsi|adisyon|şef garson|komi|sipariş al",
    }, aliases=("waitress", "server")),
    _P("bartender", "hospitality", ("bartender", "бармен", "barmen"), {
        "en": ("I am a bartender: cocktails, bar prep, syrups, pouring beer and closing the bar at night",
               "Made a hundred spritzes on Saturday, ran out of ice at midnight, closed the bar at four"),
        "ru": ("Я бармен: коктейли, заготовки на бар, сиропы, розлив пива и закрытие бара ночью",
               "В субботу намешал сотню шприцев, к полуночи кончился лёд, закрылись в четыре"),
        "tr": ("Barmenim: kokteyller, bar hazırlığı, şuruplar, fıçı bira ve gece bar kapanışı",
               "Cumartesi yüz tane spritz yaptım, gece yarısı buz bitti, barı dörtte kapattık"),
    }, {
        "en": "bartender|bartending|cocktail|shaker|jigger|bar prep|barback|pour cost|syrup|garnish",
        "ru": "бармен|коктейл|шейкер|джиггер|заготовк на бар|сироп|розлив|барн стойк|за стойк|шот|барбэк",
        "tr": "barmen|kokteyl|shaker|jigger|bar hazırlı|şurup|fıçı bira|bar kapanış|shot|garnitür",
    }, aliases=("barman", "mixologist")),
    _P("cleaner", "hospitality", ("cleaner / housekeeper", "клинер / уборщица", "temizlik görevlisi"), {
        "en": ("I clean homes and offices: deep cleaning, after-renovation cleanup, hotel rooms, cleaning chemicals",
               "Three flats today, one after renovation, dust everywhere, went through a whole bottle of degreaser"),
        "ru": ("Я клинер: генеральные уборки квартир и офисов, уборка после ремонта, химия, уборка номеров",
               "Сегодня три квартиры, одна после ремонта, пылища везде, ушла целая бутылка антижира"),
        "tr": ("Temizlik görevlisiyim: ev ve ofis temizliği, inşaat sonrası temizlik, oda temizliği ve kimyasallar",
               "Bugün üç ev temizledim, biri tadilat sonrası, her yer toz, koca bir şişe yağ çözücü bitti"),
    }, {
        "en": "cleaner|housekeeper|deep clean|after-renovation|post-construction clean|degreaser|room attendant|"
              "mop=|cleaning chemicals|descaler",
        "ru": "клинер|клининг|уборщиц|генеральн уборк|уборк после ремонт|антижир|антинакип|горничн|"
              "уборк номер|пароочистител|швабр|отмыва",
        "tr": "temizlikçi|temizlik görevli|ev temizliğ|ofis temizliğ|inşaat sonrası temizlik|yağ çözücü|"
              "kireç çözücü|kat görevlisi|oda temizliğ|paspas|buharlı temizle",
    }, aliases=("housekeeper", "janitor", "maid", "room attendant")),
    _P("event_planner", "hospitality", ("event planner", "ивент-менеджер", "organizasyon uzmanı"), {
        "en": ("I organise events: weddings and corporate parties, venues, catering, decor, hosts and timing",
               "The venue cancelled two weeks before the wedding, redoing the timing and calling every decorator"),
        "ru": ("Я ивент-менеджер: организую свадьбы и корпоративы, площадки, кейтеринг, декор, ведущие и тайминг",
               "Площадка слилась за две недели до свадьбы, переделываю тайминг и обзваниваю декораторов"),
        "tr": ("Organizasyon işi yapıyorum: düğün ve kurumsal etkinlikler, mekan, catering, süsleme ve akış",
               "Mekan düğüne iki hafta kala iptal etti, akışı baştan yapıyorum, bütün süslemecileri arıyorum"),
    }, {
        "en": "event planner|wedding planner|venue|catering|corporate event|decorator|run sheet|timing plan|"
              "event host|guest list",
        "ru": "ивент|организатор мероприят|свадебн организатор|кейтеринг|корпоратив|декоратор|тайминг|райдер|"
              "выездн регистрац|площадк для мероприят",
        "tr": "organizasyon|düğün organizasyon|kına organizasyon|nişan organizasyon|catering|süsleme|akış plan|"
              "davetli|etkinlik planla",
    }, aliases=("wedding planner", "event manager", "event organizer")),
    # ------------------------------------------------------------------ logistics (more)
    _P("taxi_driver", "logistics", ("taxi driver", "таксист", "taksici"), {
        "en": ("I drive a taxi: rides through the app, airport runs, surge pricing, fuel and the daily car rent",
               "Twelve hours on the line, the app keeps sending rides across town for pennies and the rent is due"),
        "ru": ("Я таксист: заказы через приложение, аэропорт, коэффициенты, бензин и аренда машины в день",
               "Двенадцать часов на линии, агрегатор кидает заказы через весь город за копейки, а аренду платить"),
        "tr": ("Taksiciyim: uygulamadan yolcu, havalimanı seferleri, kısa mesafe, yakıt ve plaka kirası",
               "On iki saattir direksiyondayım, uygulama şehrin öbür ucuna yolcu atıyor, kira da cabası"),
    }, {
        "en": "taxi|cab driver|uber driver|rideshare|surge|airport run|fare|passenger|meter",
        "ru": "таксист|такси|агрегатор|на линии|коэффициент|пассажир|яндекс про|таксопарк|аренд машин|"
              "рейтинг водител|на заказ в аэропорт",
        "tr": "taksici|taksi|yolcu|taksimetre|indi bindi|bitaksi|uber|havalimanı yolcu|sarı taksi|taksi durağ",
    }, aliases=("cab driver", "rideshare driver")),
    _P("courier", "logistics", ("courier", "курьер", "kurye"), {
        "en": ("I work as a courier: delivering orders on a bike or scooter, the delivery app, slots, tips",
               "Twenty orders in the rain today, the app sent me across town, one customer wouldn't come down"),
        "ru": ("Я курьер: развожу заказы на велике или самокате, приложение, слоты, чаевые и кривые адреса",
               "Двадцать заказов под дождём, приложение дало слот на другом конце города, клиент не спустился"),
        "tr": ("Kuryeyim: motorla sipariş dağıtıyorum, uygulama, bölge, bahşiş ve yanlış adresler",
               "Yağmurda yirmi paket attım, uygulama şehrin öbür ucuna sipariş verdi, bir müşteri aşağı inmedi"),
    }, {
        "en": "courier|delivery rider|scooter|delivery app|drop-off|parcel|thermal bag|delivery slot",
        "ru": "курьер|термокороб|термосумк|слот|развоз|развез|самокат|яндекс ед|деливери|пеший курьер|пвз",
        "tr": "kurye|paket servis|motokurye|sipariş dağıt|teslimat|yemeksepeti|trendyol go|termo çanta|"
              "paket attım",
    }, aliases=("delivery driver", "delivery rider")),
    # ------------------------------------------------------------------ legal / finance (more)
    _P("notary", "legal", ("notary", "нотариус", "noter"), {
        "en": ("I am a notary: certifying signatures and copies, powers of attorney, inheritance cases and deeds",
               "Long queue today, certified a dozen powers of attorney and opened two inheritance cases"),
        "ru": ("Я нотариус: заверяю подписи и копии, доверенности, наследственные дела и сделки",
               "Сегодня очередь до вечера, заверила кучу доверенностей и открыла два наследственных дела"),
        "tr": ("Noterim: imza ve suret onayı, vekaletname, miras işlemleri ve satış vaadi sözleşmeleri",
               "Bugün kuyruk bitmedi, bir sürü vekaletname düzenledim ve iki araç satışı yaptım"),
    }, {
        "en": "notary|notarize|notarization|apostille|certified copy|power of attorney|inheritance case|deed",
        "ru": "нотариус|нотариальн|заверени|заверил|заверяю|наследственн дел|доверенност|апостил|"
              "свидетельств о прав|удостоверени",
        "tr": "noter|noterlik|vekaletname|apostil|suret onay|imza onay|miras|satış vaadi|araç satış",
    }, aliases=("notary public",)),
    _P("insurance_agent", "finance", ("insurance agent", "страховой агент", "sigorta acentesi"), {
        "en": ("I sell insurance: car and home policies, renewals, claims, premiums and commissions",
               "Renewed fourteen car policies this week, a client's claim got denied and he blames me"),
        "ru": ("Я страховой агент: ОСАГО, КАСКО, страхование квартир, пролонгации, страховые случаи и комиссия",
               "За неделю продлил четырнадцать полисов ОСАГО, клиенту отказали по страховому случаю, виноват я"),
        "tr": ("Sigorta acentesiyim: trafik sigortası, kasko, konut sigortası, yenilemeler, hasar dosyaları",
               "Bu hafta on dört trafik sigortası yeniledim, müşterinin hasar dosyası reddedildi, suçlu ben oldum"),
    }, {
        "en": "insurance agent|policy renewal|policies|premium|claim adjuster|underwriting|insured|coverage|"
              "car insurance",
        "ru": "страхов|осаго|каско|полис|пролонгац|страховой случа|андеррайт|франшиз|выгодоприобретател|"
              "урегулировани убытк|агентск комисс",
        "tr": "sigorta|kasko|trafik sigorta|poliçe|hasar dosya|eksper|dask|tamamlayıcı sağlık|poliçe yenile",
    }, aliases=("insurance broker", "insurance advisor")),
    _P("bank_clerk", "finance", ("bank teller / loan officer", "сотрудник банка / кредитный специалист",
                                 "banka personeli"), {
        "en": ("I work at a bank branch: opening accounts, cards, loan applications, the cash desk and sales targets",
               "Queue at the cash desk all morning, scoring rejected two loan applications, card targets not met"),
        "ru": ("Я работаю в отделении банка: открываю счета, выдаю карты, кредитные заявки, касса и план продаж",
               "С утра очередь в кассу, две кредитные заявки отклонил скоринг, а план по картам так и не выполнен"),
        "tr": ("Banka şubesinde çalışıyorum: hesap açılışı, kredi kartı, kredi başvuruları, vezne ve hedefler",
               "Sabahtan beri vezne kuyruğu, iki kredi başvurusu skordan döndü, kart hedefi hâlâ tutmadı"),
    }, {
        "en": "bank teller|bank branch|loan officer|loan application|credit scoring|cash desk|account opening|"
              "kyc|teller",
        "ru": "отделени банк|операционист|кредитн специалист|кредитн заявк|скоринг|операционн касс|выдач кредит|"
              "рефинансир|инкассац|план по карт|кредитк|вклад",
        "tr": "banka şube|veznedar|vezne|kredi başvuru|kredi tahsis|kredi skor|hesap açılış|kart hedef|mevduat|"
              "kyc|bireysel bankacı",
    }, aliases=("bank teller", "loan officer", "bank clerk", "credit specialist")),
    # ------------------------------------------------------------------ sales (more)
    _P("florist", "sales", ("florist", "флорист", "çiçekçi"), {
        "en": ("I am a florist: making bouquets and arrangements, flowers from the wholesaler, conditioning roses",
               "Made sixty bouquets for the holiday, my hands are cut up from the roses, the delivery came late"),
        "ru": ("Я флорист: собираю букеты и композиции, поставки цветов с базы, обработка роз, упаковка",
               "К празднику собрала шестьдесят букетов, руки все в порезах от роз, поставка с базы опоздала"),
        "tr": ("Çiçekçiyim: buket ve aranjman hazırlıyorum, halden çiçek alıyorum, gülleri temizleyip paketliyorum",
               "Bayram için altmış buket yaptım, ellerim güllerden kesik içinde, halden mal geç geldi"),
    }, {
        "en": "florist|bouquet|floral arrangement|flower wholesaler|floral foam|flower shop|peonies|wrapping paper",
        "ru": "флорист|букет|цветочн композици|цветочн баз|поставк цвет|пион|упаковк букет|оазис|цветочн магазин|"
              "кустов роз|гортенз",
        "tr": "çiçekçi|buket|aranjman|çiçek hal|gelin çiçeğ|oasis|çelenk|söz çiçeğ|kutuda çiçek|çiçek dükkan",
    }, aliases=("flower shop owner", "floral designer")),
    _P("retail_salesperson", "sales", ("shop assistant / cashier", "продавец-консультант / кассир",
                                       "satış danışmanı / kasiyer"), {
        "en": ("I work in a shop: serving customers, the till, stocktaking, shelf display and long shifts on my feet",
               "Stocktaking after closing tonight, the till was short again and the manager is on my back"),
        "ru": ("Я продавец-консультант: покупатели, касса, выкладка товара, инвентаризация и смены на ногах",
               "Вечером после закрытия инвентаризация, опять недостача в кассе, заведующая пилит"),
        "tr": ("Mağazada satış danışmanıyım: müşteriler, kasa, reyon düzeni, sayım ve ayakta geçen vardiyalar",
               "Kapanıştan sonra sayım var, kasa yine eksik çıktı, müdür tepemde"),
    }, {
        "en": "shop assistant|cashier|till=|stocktaking|shelf display|merchandising|store manager|returns desk|"
              "planogram",
        "ru": "продавец|продавщиц|кассир|выкладк|инвентаризац|недостач|ревизи|планограмм|торгов зал|"
              "мерчендайз|ценник|пересорт",
        "tr": "satış danışman|kasiyer|reyon|sayım|mağaza müdür|vitrin|kasa açı|kasa eksi|stok sayım|planogram|"
              "tezgahtar",
    }, aliases=("shop assistant", "cashier", "salesclerk", "retail worker")),
    # ------------------------------------------------------------------ education (more)
    _P("tutor", "education", ("private tutor", "репетитор", "özel ders öğretmeni"), {
        "en": ("I am a private tutor: one-on-one lessons online, exam prep, homework, parents paying per lesson",
               "Five online lessons back to back, one kid skipped the homework again and his mom wants guarantees"),
        "ru": ("Я репетитор: индивидуальные занятия онлайн, подготовка к ЕГЭ и ОГЭ, домашки, оплата за урок",
               "Пять занятий подряд по зуму, один ученик опять без домашки, а мама хочет гарантию на сотку"),
        "tr": ("Özel ders veriyorum: birebir online dersler, LGS ve YKS hazırlık, ödev kontrolü, ders başı ücret",
               "Arka arkaya beş online ders, bir öğrenci yine ödevi yapmamış, annesi de garanti istiyor"),
    }, {
        "en": "tutor|tutoring|private lesson|one-on-one|exam prep|sat prep|ielts prep|preply|online lesson",
        "ru": "репетитор|егэ|огэ|индивидуальн заняти|пробник|preply|вариант егэ|подготовк к егэ|урок по зум|"
              "занятие по зум",
        "tr": "özel ders|birebir ders|lgs|yks|tyt|ayt|online ders|kpss hazırlık|soru çözüm|öğrencim",
    }, aliases=("tutor", "private teacher")),
    _P("kindergarten_teacher", "education", ("kindergarten teacher", "воспитатель детского сада",
                                             "anaokulu öğretmeni"), {
        "en": ("I work in a kindergarten: a group of toddlers, naps, crafts, morning exercises, matinees, parents",
               "Twenty-five kids in my group and half have a runny nose, matinee rehearsal again after nap time"),
        "ru": ("Я воспитатель в детском саду: группа малышей, тихий час, поделки, зарядка, утренники и родители",
               "В группе двадцать пять детей, половина с соплями, после тихого часа опять репетиция утренника"),
        "tr": ("Anaokulu öğretmeniyim: minikler sınıfı, uyku saati, etkinlikler, sabah sporu, gösteriler, veliler",
               "Sınıfımda yirmi beş çocuk var, yarısının burnu akıyor, uyku saatinden sonra yine gösteri provası"),
    }, {
        "en": "kindergarten|preschool|nursery teacher|toddlers|nap time|circle time|matinee|daycare",
        "ru": "воспитател|детск сад|детсад|тихий час|утренник|поделк|младш групп|старш групп|"
              "подготовительн групп|методист",
        "tr": "anaokul|kreş|uyku saat|okul öncesi|gösteri prova|anasınıf|boyama etkinliğ|sabah spor|"
              "yaş grubu",
    }, aliases=("preschool teacher", "nursery teacher", "caregiver")),
    # ------------------------------------------------------------------ arts (more)
    _P("tailor", "arts", ("tailor / seamstress", "портной / швея", "terzi"), {
        "en": ("I am a tailor: alterations, hemming trousers, sewing to measure, patterns, fittings",
               "Shortened twelve pairs of jeans today, and the wedding dress fitting moved to Saturday"),
        "ru": ("Я швея: ремонт и подгонка одежды, подшив брюк, пошив по меркам, выкройки, примерки и оверлок",
               "Сегодня подшила двенадцать джинсов, а примерку свадебного платья перенесли на субботу"),
        "tr": ("Terziyim: kıyafet tadilatı, paça kısaltma, ölçüye dikim, kalıp, prova ve dikiş makinesi",
               "Bugün on iki kot pantolonun paçasını kısalttım, gelinliğin provası cumartesiye kaldı"),
    }, {
        "en": "tailor|seamstress|alteration|hemming|sewing machine|overlocker|serger|sewing pattern|made to measure",
        "ru": "портн|швея|швейн|подшив|подгонк|пошив|выкройк|оверлок|распошив|ушить|ушила|ателье|лекал|строчк",
        "tr": "terzi|paça|kıyafet tadilat|dikim|dikiş makine|overlok|daraltma|fermuar değiş|astar|gelinlik prova",
    }, aliases=("seamstress", "dressmaker")),
    # ------------------------------------------------------------------ real estate (facility services)
    _P("security_guard", "real estate", ("security guard", "охранник", "güvenlik görevlisi"), {
        "en": ("I work as a security guard: shifts at the checkpoint, patrol rounds, CCTV monitors, visitor logs",
               "Twenty-four hour shift at the business centre, three patrol rounds a night, the turnstile broke again"),
        "ru": ("Я охранник: сутки через двое на посту, обходы территории, камеры, пропуска и журнал посетителей",
               "Сутки на посту в бизнес-центре, три обхода за ночь, турникет опять сломался"),
        "tr": ("Güvenlik görevlisiyim: kapıda nöbet, devriye, kamera takibi, ziyaretçi kaydı ve kartlı geçiş",
               "Sitede yirmi dört saat nöbet, gece üç devriye attım, turnike yine bozuldu"),
    }, {
        "en": "security guard|security officer|patrol round|checkpoint|cctv|visitor log|access badge|turnstile|"
              "guard post",
        "ru": "охранник|охраня|чоп|обход территор|турникет|видеонаблюдени|сутки через|журнал посетител|"
              "удостоверени охранник|гбр|пульт охран",
        "tr": "güvenlik görevli|özel güvenlik|devriye|kamera takip|turnike|ziyaretçi kayd|güvenlik kulübe|"
              "kartlı geçiş|site güvenliğ",
    }, aliases=("security officer", "watchman", "doorman")),
    # ------------------------------------------------------------------ automotive (more)
    _P("auto_body_technician", "automotive", ("auto body technician", "кузовщик / автомаляр",
                                              "kaportacı / oto boyacı"), {
        "en": ("I do auto body work: dents, panel straightening, filler, primer and spraying cars in the booth",
               "Pulling out a dented door all day, then priming the bumper, matching the silver took forever"),
        "ru": ("Я кузовщик-маляр: рихтовка, вытяжка вмятин, шпаклёвка, грунт, покраска авто в камере, колеровка",
               "Весь день тянул дверь после ДТП, потом загрунтовал бампер, в колер серебро еле попал"),
        "tr": ("Kaportacı ve oto boyacıyım: göçük düzeltme, macun, astar, boya kabininde araç boyama, renk tutturma",
               "Bütün gün kazalı kapıyı çektim, sonra tamponu astarladım, gümüşün rengini tutturmak zor oldu"),
    }, {
        "en": "auto body|body shop|dent repair|paintless dent|panel beating|bumper|spray booth|clear coat|"
              "colour match|bodywork",
        "ru": "кузовщик|кузовн|рихтовк|вытянул вмятин|вмятин|бампер|покрасочн камер|автомаляр|колер|лкп|"
              "полировк|споттер",
        "tr": "kaportacı|kaporta|oto boya|boya kabin|göçük|pdr|tampon|renk tuttur|vernik|pasta cila|lokal boya",
    }, aliases=("panel beater", "car painter", "body shop technician")),
    # ------------------------------------------------------------------ agriculture (more)
    _P("gardener", "agriculture", ("gardener / landscaper", "садовник / ландшафтник", "bahçıvan / peyzajcı"), {
        "en": ("I am a gardener and landscaper: lawns, planting trees, pruning, irrigation systems, garden care",
               "Laid two hundred square metres of turf today, the client's irrigation timer is dead, thujas to prune"),
        "ru": ("Я садовник-ландшафтник: газоны, посадка деревьев, обрезка, автополив и уход за участками клиентов",
               "Сегодня уложили двести квадратов рулонного газона, у заказчика сдох таймер автополива, туи стричь"),
        "tr": ("Bahçıvan ve peyzajcıyım: çim serimi, ağaç dikimi, budama, otomatik sulama ve bahçe bakımı",
               "Bugün iki yüz metrekare rulo çim serdik, müşterinin sulama saati bozuk, tuyaların budaması lazım"),
    }, {
        "en": "gardener|landscaper|landscaping|lawn|turf|pruning|hedge trimming|irrigation system|mulch|"
              "garden maintenance",
        "ru": "садовник|ландшафт|газон|рулонн газон|обрезк|автополив|туи|туя|мульч|живой изгород|озеленени|"
              "аэрац|скарифик",
        "tr": "bahçıvan|peyzaj|çim ser|rulo çim|budama|otomatik sulama|fidan dik|çit kes|malç|bahçe bakım|tırpan",
    }, aliases=("landscaper", "landscape gardener", "groundskeeper")),
)


_BY_KEY = {p.key: p for p in PROFESSIONS}


def profession_by_key(key: str) -> Profession:
    return _BY_KEY[key]


def sector_label(sector: str, lang: str = "en") -> str:
    return SECTORS.get(sector, {}).get(lang, sector)


def taxonomy_fingerprint() -> str:
    """Hash of the phrases (what the prototype vectors are made of)."""
    data = [(p.key, {lang: list(v) for lang, v in sorted(p.phrases.items())}) for p in PROFESSIONS]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
