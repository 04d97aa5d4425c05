"""Business assumptions of the sample data: volumes, channel mix, platform economics, seasonality.

Everything the simulation draws from is named here, so that "why does TikTok have the highest CAC"
has one answer: lower click-to-signup conversion and lower signup-to-customer conversion than
Google, at a lower CPC that does not make up for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Scale 1.0 is defined on the reference range: ~1M contacts, ~10M orders, ~200 campaigns over
# these 3 years. Daily rates are range-independent (a day gets the same expected number of signups
# whatever range it is generated in).
REFERENCE_START = date(2023, 1, 1)
REFERENCE_END = date(2025, 12, 31)
CONTACTS_AT_SCALE_1 = 1_000_000
ORDERS_AT_SCALE_1 = 10_000_000  # reached through REPEAT_RATE (calibrated), documented in --help
CAMPAIGNS_AT_SCALE_1 = 200
MIN_CAMPAIGNS_PER_PLATFORM = 3

CURRENCIES = ("USD", "EUR", "GBP", "JPY")
# Starting USD value of one unit, and daily volatility of the log rate on business days.
FX_START = {"USD": 1.0, "EUR": 1.0870, "GBP": 1.2650, "JPY": 0.0068}
FX_DAILY_VOL = {"USD": 0.0, "EUR": 0.0035, "GBP": 0.0040, "JPY": 0.0050}
# Currencies whose amounts have no minor unit in practice (written with ".00").
WHOLE_UNIT_CURRENCIES = ("JPY",)

# Markets: the country mix of a campaign's signups and the currency its spend is billed in.
MARKETS = ("US", "EU", "UK", "JP")
MARKET_CURRENCY = {"US": "USD", "EU": "EUR", "UK": "GBP", "JP": "JPY"}
MARKET_COUNTRIES = {
    "US": (("US", 0.9), ("CA", 0.1)),
    "EU": (("DE", 0.4), ("FR", 0.3), ("ES", 0.15), ("NL", 0.1), ("IT", 0.05)),
    "UK": (("GB", 1.0),),
    "JP": (("JP", 1.0),),
}
MARKET_SUFFIX = {"US": "US", "EU": "DE", "UK": "UK", "JP": "JP"}
MARKET_BUDGET = {"US": 1.0, "EU": 0.7, "UK": 0.6, "JP": 0.4}
MARKET_CPC = {"US": 1.0, "EU": 0.85, "UK": 0.9, "JP": 0.75}
RANDOM_MARKET_WEIGHTS = (("US", 0.70), ("EU", 0.15), ("UK", 0.10), ("JP", 0.05))
# Country of contacts that did not come through a paid campaign ("" = not captured).
GLOBAL_COUNTRIES = (
    ("US", 0.58), ("CA", 0.05), ("GB", 0.10), ("DE", 0.08), ("FR", 0.05), ("ES", 0.03),
    ("NL", 0.02), ("IT", 0.01), ("JP", 0.03), ("AU", 0.03), ("", 0.02),
)  # fmt: skip
COUNTRY_CURRENCY = {"GB": "GBP", "DE": "EUR", "FR": "EUR", "ES": "EUR", "NL": "EUR", "IT": "EUR", "JP": "JPY"}
# Offset the shop writes order timestamps in, per order currency (the instant is always exact).
ORDER_OFFSET_MINUTES = {"USD": 0, "EUR": 60, "GBP": 0, "JPY": 540}


@dataclass(frozen=True)
class PlatformParams:
    """Economics of one ad platform (amounts in USD before market adjustment)."""

    name: str
    signup_share: float  # share of all signups that come through this platform
    campaign_share: float  # share of the campaign count
    ctr: float  # clicks / impressions
    cpc: float  # cost per click, USD
    signup_cvr: float  # signups / clicks
    weekly: tuple[float, ...]  # delivery by weekday, Monday first
    utm: tuple[tuple[str, str, float], ...]  # (utm_source, utm_medium, weight)
    evergreen: str  # the always-on campaign
    types: tuple[str, ...]  # campaign type words
    thousands_separator: bool = False  # spend written like "1,234.50"


# Positional: name, signup_share, campaign_share, ctr, cpc, signup_cvr, weekly (Monday first), utm,
# evergreen campaign, campaign types[, thousands_separator].
PLATFORMS: tuple[PlatformParams, ...] = (
    PlatformParams("google_ads", 0.22, 0.40, 0.050, 1.35, 0.095,
        (1.08, 1.06, 1.04, 1.02, 0.96, 0.86, 0.94),
        (("google", "cpc", 0.90), ("google", "ppc", 0.07), ("Google", "cpc", 0.03)),
        "Brand Search", ("Search", "Shopping", "Performance Max", "Display"), thousands_separator=True),
    PlatformParams("meta_ads", 0.19, 0.35, 0.012, 0.80, 0.035,
        (0.96, 0.97, 0.98, 1.00, 1.03, 1.06, 1.00),
        (("facebook", "paid_social", 0.62), ("instagram", "paid_social", 0.35), ("Facebook", "cpc", 0.03)),
        "Always On Prospecting", ("Prospecting", "Retargeting", "Lookalike", "Advantage+")),
    PlatformParams("tiktok_ads", 0.12, 0.25, 0.009, 0.50, 0.018,
        (0.92, 0.94, 0.96, 1.00, 1.06, 1.10, 1.02),
        (("tiktok", "paid_social", 0.97), ("TikTok", "paid_social", 0.03)),
        "Always On Spark Ads", ("Spark Ads", "In-Feed", "TopView", "Creators")),
)  # fmt: skip
PAID_CAMPAIGN_MISSING_UTM_CAMPAIGN = 0.02  # paid signups whose link lost utm_campaign


@dataclass(frozen=True)
class OrganicChannel:
    """A channel without spend rows: its signup share and the utm values it leaves."""

    name: str
    signup_share: float
    utm: tuple[tuple[str | None, str | None, str | None, float], ...]  # source, medium, campaign, weight


# utm_campaign "{month}" is replaced by the signup month, e.g. newsletter-2024-05.
ORGANIC_CHANNELS: tuple[OrganicChannel, ...] = (
    OrganicChannel("email", 0.09, (
        ("newsletter", "email", "newsletter-{month}", 0.6),
        ("klaviyo", "email", "welcome-series", 0.4),
    )),
    OrganicChannel("affiliate", 0.06, (
        ("awin", "affiliate", "partner-program", 0.4),
        ("rakuten", "affiliate", "partner-program", 0.3),
        ("impact", "affiliate", "creator-codes", 0.3),
    )),
    OrganicChannel("organic_search", 0.15, (
        ("google", "organic", None, 0.55),
        ("google", None, None, 0.25),
        ("bing", "organic", None, 0.12),
        ("bing", None, None, 0.08),
    )),
    OrganicChannel("referral", 0.05, (
        ("producthunt.com", "referral", None, 0.3),
        ("reddit.com", "referral", None, 0.4),
        ("news.ycombinator.com", "referral", None, 0.3),
    )),
    OrganicChannel("direct", 0.11, ((None, None, None, 1.0),)),
    OrganicChannel("other", 0.01, (
        ("qr_code", "offline", "store-flyer", 0.5),
        ("podcast", "audio", "spring-podcast", 0.5),
    )),
)  # fmt: skip

# Share of a channel's signups that ever place a first order (before churn/erasure).
CUSTOMER_CONVERSION = {
    "google_ads": 0.42,
    "meta_ads": 0.30,
    "tiktok_ads": 0.20,
    "email": 0.50,
    "affiliate": 0.38,
    "organic_search": 0.45,
    "referral": 0.40,
    "direct": 0.48,
    "other": 0.25,
}
SAME_SESSION_FIRST_ORDER = 0.35  # share converting within the signup session
SAME_SESSION_MEAN_MINUTES = 40
FIRST_ORDER_MEAN_DAYS = 10
GHOST_CUSTOMER_SHARE = 0.03  # customers whose contact never reaches the CRM export
ERASURE_SHARE = 0.004  # contacts asking for erasure
ERASURE_MEAN_DAYS = 150

# Lifecycle stages in the CRM.
INITIAL_STAGES = (("subscriber", 0.55), ("lead", 0.43), ("other", 0.02))
ENGAGED_STAGES = (("mql", 0.65), ("sql", 0.25), ("opportunity", 0.10))
ENGAGE_BEFORE_FIRST_ORDER = 0.5
ENGAGE_NON_CUSTOMER = 0.22
ENGAGE_MEAN_DAYS = 12

# Repeat purchasing and churn.
ONE_AND_DONE = 0.25  # customers who never order again
LIFETIME_MEAN_DAYS = 540  # exponential time from first order to churn
REPEAT_RATE = 0.108  # mean repeat orders per active customer-day (calibrated to 10M at scale 1)
REPEAT_RATE_SIGMA = 0.8  # log-normal spread of customer purchase frequency
MAX_DAILY_RATE = 1.0
GUEST_ORDER_SHARE = 0.065  # guest checkouts as a share of all orders

# Basket and money (USD before conversion to the order currency).
FIRST_ORDER_MEAN_USD = 58.0
REPEAT_ORDER_MEAN_USD = 47.0
ORDER_SIGMA = 0.6
MIN_ORDER_USD = 5.0
DISCOUNT_PCTS = (5, 10, 15, 20, 25)
FIRST_ORDER_DISCOUNT = 0.60
REPEAT_ORDER_DISCOUNT = 0.22

# Order status lifecycle.
STARTS_PENDING = 0.15
PENDING_CANCELLED = 0.15
PAID_CANCELLED = 0.02
DIGITAL_SHARE = 0.25  # paid -> delivered within minutes, no shipping step
FULL_REFUND = 0.03
PARTIAL_REFUND = 0.04

# Restated channel days: per platform and export day, the chance that the file also re-sends
# one of the previous RESTATE_MAX_LAG days with corrected numbers.
RESTATE_PROBABILITY = 0.10
RESTATE_MAX_LAG = 3

# Seasonality: weekly demand (Monday first), yearly shape and growth trend.
WEEKLY_DEMAND = (1.10, 1.05, 1.02, 1.00, 0.93, 0.82, 1.00)
ANNUAL_GROWTH = 1.22
# Diurnal profile of signups and orders (UTC hour weights).
HOURLY = (
    0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.6, 0.85, 1.0, 1.05, 1.1,
    1.2, 1.15, 1.05, 1.0, 1.0, 1.05, 1.15, 1.3, 1.4, 1.35, 1.0, 0.6,
)  # fmt: skip

FIRST_NAMES = (
    "anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo", "ines", "jonas", "kira",
    "liam", "maria", "noah", "olga", "paul", "quinn", "rosa", "sam", "tara", "umar", "vera",
    "will", "xenia", "yusuf", "zoe", "aiko", "bruno", "chloe", "dmitri", "emma", "farah",
    "george", "hana", "ivan", "julia", "kenji", "lena", "marco", "nina", "oscar", "priya",
    "ravi", "sofia", "tom", "ursula", "victor", "wen", "yara", "zara",
)  # fmt: skip
LAST_NAMES = (
    "smith", "mueller", "garcia", "rossi", "tanaka", "dubois", "jansen", "kowalski", "silva",
    "brown", "wilson", "schmidt", "martin", "lopez", "sato", "bernard", "visser", "nowak",
    "costa", "taylor", "fischer", "moreau", "suzuki", "ricci", "novak", "walker", "weber",
    "lefevre", "ito", "bakker", "evans", "hoffmann", "young", "king", "wright", "scott",
)  # fmt: skip
EMAIL_DOMAINS = (
    ("gmail.com", 0.38), ("yahoo.com", 0.10), ("outlook.com", 0.12), ("icloud.com", 0.10),
    ("hotmail.com", 0.07), ("proton.me", 0.03), ("gmx.de", 0.05), ("web.de", 0.03),
    ("orange.fr", 0.03), ("yahoo.co.jp", 0.02), ("example.org", 0.07),
)  # fmt: skip

# Campaign themes by flight start month (1-12).
THEMES_BY_MONTH = {
    1: ("New Year", "Winter Clearance"),
    2: ("Valentine's Day", "Winter Clearance"),
    3: ("Spring Sale", "New Arrivals"),
    4: ("Spring Sale", "Easter"),
    5: ("Mother's Day", "New Arrivals"),
    6: ("Summer Sale", "Father's Day"),
    7: ("Summer Sale", "Prime Days"),
    8: ("Back To School", "Summer Clearance"),
    9: ("Back To School", "Autumn Collection"),
    10: ("Autumn Collection", "Halloween"),
    11: ("Black Friday", "Cyber Week"),
    12: ("Holiday Gifts", "Shoes, Bags & More"),
}

# Lifecycle ladder: subscribers who become leads, and the steps mql -> sql -> opportunity.
SUBSCRIBER_TO_LEAD = 0.45
LEAD_MEAN_DAYS = 6
ENGAGE_STEP_MEAN_DAYS = 9  # between engaged steps of contacts who never buy

# Dormant spells: customers who stop buying for longer than the reactivation days and come back.
DORMANT_SPELL_SHARE = 0.15
DORMANT_SPELL_START_MEAN_DAYS = 60  # after the first order
DORMANT_SPELL_WEEKS = (14, 34)  # whole weeks, inclusive range

# Recall campaigns (SPEC §11): every RECALL_EVERY_DAYS from RECALL_FIRST_DAY of the range, each
# targeting a share of the lapsed customers. Templates cycle; p_holdout is the planted probability
# that a lapsed contact reactivates within the window without the message, p_treated with it.
RECALL_LAPSED_DAYS = 90  # = marts reactivation_days
RECALL_WINDOW_DAYS = 14  # = marts recall_window_days
RECALL_FIRST_DAY = 100
RECALL_EVERY_DAYS = 28
RECALL_IMMATURE_DAYS_BEFORE_END = 5  # one last campaign whose window is still open at the range end
RECALL_AUDIENCE_SHARE = 0.5
RECALL_NOT_LAPSED_SHARE = 0.03  # extra contacts who are not lapsed (stale segment): excluded
RECALL_UNKNOWN_SHARE = 0.01  # extra contacts unknown to the shop and the CRM
RECALL_CROSSOVER_SHARE = 0.02  # lapsed contacts who later get a row in the other arm
# cost per message in 1/10000 of the currency (holdout rows never carry a cost)
RECALL_TEMPLATES: tuple[dict, ...] = (
    {"label": "We Miss You", "channel": "email", "holdout_share": 0.2, "p_holdout": 0.05, "p_treated": 0.12,
     "cost": 8, "currency": "USD"},
    {"label": "Comeback SMS", "channel": "sms", "holdout_share": 0.5, "p_holdout": 0.05, "p_treated": 0.10,
     "cost": 450, "currency": "USD"},
    {"label": "Win Back Offer", "channel": "email", "holdout_share": 0.0, "p_holdout": 0.05, "p_treated": 0.12,
     "cost": None, "currency": None},
    {"label": "App Nudge", "channel": "push", "holdout_share": 0.2, "p_holdout": 0.05, "p_treated": 0.05,
     "cost": None, "currency": None},
)  # fmt: skip
RECALL_INCENTIVE_USD_CENTS = 50  # retention cost row per treated contact of an email recall campaign

# Other outbound messages.
ONBOARDING_SHARE = 0.6  # signups who get a welcome message
ONBOARDING_IN_APP = 0.2  # of which in the app, the rest by email
NEWSLETTER_SHARE = 0.02  # of the contacts so far, per weekly newsletter (Tuesdays)
NEWSLETTER_UNKNOWN_SHARE = 0.005  # extra recipients unknown to the CRM
MESSAGES_REDELIVERY_SHARE = 0.05  # message export days the tool delivers twice (same file)

# Costs that no ad platform reports.
AFFILIATE_COSTS_START_DAY = 21  # affiliate spend is unknown before its first cost row
AFFILIATE_CPA_USD_CENTS = {"partner-program": 950, "creator-codes": 1400}  # commission per signup
AFFILIATE_NETWORK_FEE_EUR_AT_SCALE_1 = 25_000.0  # monthly, no campaign
EMAIL_SIGNUP_MEDIA_USD_CENTS = 300  # per welcome-series signup, billed weekly (Mondays)
EMAIL_TOOL_USD_AT_SCALE_1 = 30_000.0  # monthly email platform subscription
EMAIL_TOOL_RETENTION_SHARE = 0.4  # of it booked as retention (the recall tool), the rest acquisition
