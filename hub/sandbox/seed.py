"""Deterministic fake B2B CRM data for the emulators, with the mess real CRMs have.

The data is kept by role of system, not by vendor: a ``"marketing"`` system (a marketing CRM: lifecycle stages,
unique emails, companies keyed by bare domain) and a ``"sales"`` system (a sales CRM: lead sources, account names in
variants, exact duplicates, a recycle bin). Each emulator plugin reads the role its vendor plays
(``data.contacts["marketing"]``) and may resize it (:meth:`SeedData.resize`). About 40% of people live in both
systems, with the differences identity resolution has to see through (email case and spaces, nicknames, a phone
missing on one side, other formats); the rest live in one system only. Some records are dirty: invalid emails,
unparseable phones, blank names, duplicates within a system. Everything follows from ``seed``; nothing touches the
network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

DAY_MS = 86_400_000

NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Katherine": "Kate", "Michael": "Mike",
    "James": "Jim", "Jennifer": "Jen", "Richard": "Rick", "Thomas": "Tom", "Daniel": "Dan",
    "Christopher": "Chris", "Margaret": "Maggie", "Susan": "Sue", "Joseph": "Joe", "Anthony": "Tony",
    "Patricia": "Pat", "Alexander": "Alex", "Nicholas": "Nick", "Matthew": "Matt", "Andrew": "Andy",
    "Steven": "Steve", "Samuel": "Sam", "Jonathan": "Jon", "Benjamin": "Ben", "Rebecca": "Becky",
    "Victoria": "Vicky", "Jessica": "Jess", "Deborah": "Debbie", "Timothy": "Tim", "Edward": "Ed",
}
FIRST_NAMES = [*NICKNAMES, "Priya", "Wei", "Fatima", "Lars", "Sofia", "Mateo", "Aisha", "Kenji", "Olga",
               "Ahmed", "Chloe", "Liam", "Noah", "Emma", "Olivia", "Lucas", "Hannah", "Yuki", "Diego", "Ana",
               "Omar", "Ingrid", "Maria", "Chen", "Zoe", "Ravi", "Elena", "Tariq", "Nora", "Felix"]
LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
              "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
              "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young",
              "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Patel", "Kim", "Nguyen", "Chen",
              "Müller", "Schmidt", "Fischer", "Dubois", "Rossi", "Novak", "Kowalski", "Tanaka", "Sato",
              "O'Brien", "MacDonald", "van der Berg", "Silva", "Costa", "Larsen", "Haddad", "Cohen", "Singh"]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Data", "Data Engineer", "Marketing Manager", "Account Executive",
          "Sales Director", "Software Engineer", "Operations Manager", "CFO", "Product Manager",
          "Customer Success Manager", "Analyst", None]
# (city, country, phone style)
PLACES = [("San Francisco", "United States", "us"), ("New York", "United States", "us"),
          ("Boston", "United States", "us"), ("Chicago", "United States", "us"), ("Seattle", "United States", "us"),
          ("Austin", "United States", "us"), ("London", "United Kingdom", "uk"), ("Manchester", "United Kingdom", "uk"),
          ("Berlin", "Germany", "de"), ("Munich", "Germany", "de"), ("Paris", "France", "fr"),
          ("Toronto", "Canada", "us"), ("Sydney", "Australia", "au"), ("Amsterdam", "Netherlands", "nl")]
COUNTRY_ALIASES = {"United States": ["USA", "US", "United States of America"], "United Kingdom": ["UK", "GB"],
                   "Germany": ["DE", "Deutschland"], "Netherlands": ["NL", "The Netherlands"]}
AREA_CODES = ["415", "212", "646", "617", "312", "206", "512", "303", "702", "305", "416"]
COMPANY_WORDS = ["Northwind", "Bluebird", "Crescent", "Summit", "Ironwood", "Pioneer", "Harbor", "Keystone",
                 "Redwood", "Silverline", "Brightpath", "Cobalt", "Evergreen", "Granite", "Lighthouse", "Meridian",
                 "Nimbus", "Orion", "Quantum", "Sterling", "Trident", "Vertex", "Willow", "Zenith", "Acme", "Apex",
                 "Beacon", "Cascade", "Delta", "Falcon"]
COMPANY_KINDS = ["Analytics", "Logistics", "Systems", "Health", "Labs", "Foods", "Energy", "Robotics", "Capital",
                 "Software", "Networks", "Media", "Bio", "Manufacturing", "Consulting"]
LEGAL = ["Inc", "LLC", "Ltd", "GmbH", "Corp", "Inc"]
TLDS = [".com", ".com", ".com", ".io", ".co", ".co.uk", ".de"]
INDUSTRIES = ["Software", "Logistics", "Healthcare", "Financial Services", "Manufacturing", "Retail", "Energy",
              "Media", "Consulting", "Biotechnology"]
PERSONAL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com"]
BAD_PHONES = ["ext. 42", "call front desk", "555-01", "TBD", "0000", "n/a", "+1 (415) 555-01423 x"]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Word of mouth", "Other"]
LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]


@dataclass(slots=True)
class CompanyRow:
    """One company as stored in one system (vendor-neutral field names)."""

    key: int
    name: str
    domain: str | None
    website: str | None
    phone: str | None
    industry: str | None
    city: str | None
    country: str | None
    employees: int | None
    revenue: float | None
    created_ms: int
    updated_ms: int


@dataclass(slots=True)
class PersonRow:
    """One contact as stored in one system; ``person`` is the ground-truth identity shared across systems."""

    person: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    mobile: str | None
    title: str | None
    city: str | None
    country: str | None
    company: int | None
    source: str | None
    created_ms: int
    updated_ms: int
    deleted: bool = False


#: The roles of system the seed fills, in the order their rows are drawn.
ROLES = (MARKETING, SALES) = ("marketing", "sales")


@dataclass
class SeedData:
    """Everything the emulators start with, per role of system, plus the ground truth tests can check against.

    ``contacts[role]`` and ``companies[role]`` are the rows the system playing ``role`` holds; ``person`` and ``key``
    link the same human and the same company across systems.
    """

    seed: int
    now_ms: int
    companies: dict[str, list[CompanyRow]] = field(default_factory=lambda: {role: [] for role in ROLES})
    contacts: dict[str, list[PersonRow]] = field(default_factory=lambda: {role: [] for role in ROLES})
    _generator: _Generator | None = field(default=None, repr=False, compare=False)

    def overlapping_people(self) -> set[int]:
        """Person keys present in both systems."""
        return {r.person for r in self.contacts[MARKETING]} & {r.person for r in self.contacts[SALES]}

    def all_contacts(self) -> list[PersonRow]:
        """Every system's contacts, role after role (marketing first)."""
        return [row for role in ROLES for row in self.contacts[role]]

    def resize(self, role: str, count: int | None) -> list[PersonRow]:
        """Make the ``role`` system hold exactly ``count`` contacts (None: leave it), adding cheap single-system
        rows for large data sets or dropping the last ones; returns its contacts. Emulators call it while they are
        built, in the sandbox's order, so the same seed and counts give the same rows."""
        rows = self.contacts[role]
        if count is None:
            return rows
        if len(rows) < count:
            if self._generator is None:
                raise ValueError("this seed data was not made by generate(), so it cannot grow")
            self._generator.grow(role, count)
        del rows[count:]
        return rows


def generate(seed: int = 7, people: int = 400, *, now_ms: int,
             contacts: dict[str, int | None] | None = None) -> SeedData:
    """Build the seed data set; same arguments, same data. ``contacts`` sizes some roles at once (see ``resize``)."""
    data = _Generator(seed, now_ms).run(people)
    for role, count in (contacts or {}).items():
        data.resize(role, count)
    return data


class _Generator:
    def __init__(self, seed: int, now_ms: int) -> None:
        self.rng = random.Random(seed)
        self.now_ms = now_ms
        self.data = SeedData(seed=seed, now_ms=now_ms, _generator=self)
        self.unique_emails: set[str] = set()
        self.companies: list[CompanyRow] = []
        self.next_key = 0

    def run(self, people: int) -> SeedData:
        """Companies first, then people."""
        self._companies(max(2, people // 8))
        for key in range(people):
            self._person(key)
        self.next_key = people
        return self.data

    def grow(self, role: str, count: int) -> None:
        """Bulk filler rows until the ``role`` system holds ``count`` contacts."""
        rows = self.data.contacts[role]
        while len(rows) < count:
            rows.append(self._bulk_row(self.next_key, role))
            self.next_key += 1

    def _times(self, max_age_days: int = 730) -> tuple[int, int]:
        rng = self.rng
        created = self.now_ms - int(rng.uniform(1, max_age_days) * DAY_MS)
        return created, created + int(rng.random() * (self.now_ms - created))

    def _companies(self, count: int) -> None:
        rng, used = self.rng, set()
        for key in range(count):
            while True:
                word, kind = rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS)
                if (word, kind) not in used:
                    used.add((word, kind))
                    break
            base = f"{word} {kind}"
            legal = rng.choice(LEGAL)
            domain = f"{word}{kind}".lower() + rng.choice(TLDS)
            city, country, style = rng.choice(PLACES)
            created, updated = self._times()
            employees = rng.choice([5, 12, 25, 50, 120, 250, 800, 1500, 5000, None])
            revenue = float(employees * rng.randint(80, 400) * 1000) if employees else None
            truth = CompanyRow(key, f"{base} {legal}", domain, f"https://www.{domain}", self._phone(style),
                               rng.choice(INDUSTRIES), city, country, employees, revenue, created, updated)
            self.companies.append(truth)
            where = rng.random()
            if where < 0.9:  # the marketing system names the company plainly, keyed by bare domain
                mk_updated = created + int(rng.random() * (self.now_ms - created))
                self.data.companies[MARKETING].append(CompanyRow(
                    key, truth.name, domain, truth.website, truth.phone, truth.industry, city, country,
                    employees, revenue, created, mk_updated))
            if where > 0.12:  # the sales system holds a variant of the name and a website URL
                variant = rng.choice([f"{base.upper()}, {legal}.", f"{base}, {legal}.", base,
                                      f"{base} {legal}".replace("Inc", "Incorporated"), truth.name])
                website = rng.choice([truth.website, domain, f"http://{domain}/", f"https://{domain}"])
                sa_created, sa_updated = self._times()
                self.data.companies[SALES].append(CompanyRow(
                    key, variant, None, website, truth.phone if rng.random() < 0.7 else None, truth.industry,
                    city, rng.choice([country, *COUNTRY_ALIASES.get(country, [])]),
                    employees if rng.random() < 0.8 else None, revenue, sa_created, sa_updated))

    def _phone(self, style: str) -> str:
        rng = self.rng
        line = f"01{rng.randint(0, 99):02d}"
        if style == "us":
            area = rng.choice(AREA_CODES)
            return rng.choice([f"({area}) 555-{line}", f"+1 {area} 555 {line}", f"{area}.555.{line}",
                               f"{area}-555-{line}", f"+1{area}555{line}", f"1-{area}-555-{line}"])
        tail = f"{rng.randint(0, 999):03d}"
        return {
            "uk": rng.choice([f"+44 20 7946 0{tail}", f"020 7946 0{tail}", f"+442079460{tail}"]),
            "de": rng.choice([f"+49 30 901820{tail[:2]}", f"030 901820{tail[:2]}"]),
            "fr": rng.choice([f"+33 1 99 00 0{tail[0]} {tail[1:]}", f"01 99 00 0{tail[0]} {tail[1:]}"]),
            "au": rng.choice([f"+61 2 5550 1{tail}", f"(02) 5550 1{tail}"]),
            "nl": rng.choice([f"+31 20 555 0{tail}", f"020-5550{tail}"]),
        }[style]

    def _reformat(self, phone: str) -> str:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if len(digits) != 10:
            return phone
        a, b, c = digits[:3], digits[3:6], digits[6:]
        return self.rng.choice([f"({a}) {b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"{a}{b}{c}"])

    def _email(self, first: str, last: str, company: CompanyRow | None) -> str:
        rng = self.rng
        local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}", f"{first}_{last}"])
        local = "".join(ch for ch in local.lower() if ch.isalnum() or ch in "._")
        domain = company.domain if company and rng.random() < 0.75 else rng.choice(PERSONAL_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while email in self.unique_emails:  # the marketing system enforces unique emails, so keep the truth unique
            n += 1
            email = f"{local}{n}@{domain}"
        self.unique_emails.add(email)
        return email

    def _person(self, key: int) -> None:
        rng, data = self.rng, self.data
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(self.companies) if rng.random() < 0.85 else None
        city, country, style = rng.choice(PLACES)
        if company is not None and rng.random() < 0.7:
            city, country = company.city, company.country
            style = next(s for c, k, s in PLACES if k == country)
        email = self._email(first, last, company)
        phone = self._phone(style) if rng.random() < 0.8 else None
        mobile = self._phone(style) if rng.random() < 0.35 else None
        title = rng.choice(TITLES)
        ckey = company.key if company else None
        mk = sa = None
        where = rng.random()
        if where < 0.7:
            c, u = self._times()
            mk = PersonRow(key, first, last, email, phone, mobile, title, city, country, ckey,
                           rng.choice(LIFECYCLE), c, u)
        if where < 0.4 or where >= 0.7:
            c, u = self._times()
            sa = PersonRow(key, first, last, email, phone, mobile, title, city, country, ckey,
                           rng.choice(LEAD_SOURCES), c, u)
        if mk and sa:
            self._differ(mk, sa)
        for row in (mk, sa):
            if row is not None:
                self._dirty(row)
        if mk:
            data.contacts[MARKETING].append(mk)
            if rng.random() < 0.03:  # same human signed up twice, with another address
                dup = _copy(mk)
                dup.email = self._email(first, last, None)
                dup.created_ms, dup.updated_ms = self._times()
                data.contacts[MARKETING].append(dup)
            if rng.random() < 0.01:
                mk.deleted = True  # archived
        if sa:
            data.contacts[SALES].append(sa)
            if rng.random() < 0.03:  # the sales system allows exact duplicates
                dup = _copy(sa)
                dup.created_ms, dup.updated_ms = self._times()
                data.contacts[SALES].append(dup)
            if rng.random() < 0.03:  # recently deleted, still in the recycle bin
                sa.deleted = True
                sa.updated_ms = self.now_ms - int(rng.uniform(0.5, 20) * DAY_MS)

    def _differ(self, mk: PersonRow, sa: PersonRow) -> None:
        """Make two records of the same person disagree the way two CRMs do."""
        rng = self.rng
        kinds = rng.sample(["email", "phone", "name", "format", "country", "title"], k=rng.randint(1, 3))
        for kind in kinds:
            if kind == "email" and sa.email:
                local, _, domain = sa.email.partition("@")
                sa.email = rng.choice([f"{local.title()}@{domain.title()}", sa.email.upper(), f" {sa.email} ",
                                       f"{local.capitalize()}@{domain}  "])
            elif kind == "phone":
                if rng.random() < 0.5:
                    mk.phone = None
                else:
                    sa.phone = None
                if mk.phone is None and sa.phone is None:
                    sa.phone = self._phone("us")
            elif kind == "name" and mk.first_name in NICKNAMES:
                nick = NICKNAMES[mk.first_name]
                if rng.random() < 0.5:
                    mk.first_name = nick  # "Bob" in one system, "Robert" in the other
                else:
                    sa.first_name = nick
            elif kind == "format" and mk.phone and sa.phone:
                sa.phone = self._reformat(mk.phone)
            elif kind == "country" and sa.country in COUNTRY_ALIASES:
                sa.country = rng.choice(COUNTRY_ALIASES[sa.country])
            elif kind == "title":
                sa.title = rng.choice(TITLES)

    def _dirty(self, row: PersonRow) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            row.email = rng.choice(["n/a", f"{(row.first_name or 'x').lower()}@",
                                    f"{(row.last_name or 'x').lower()}(at)example.com", "unknown", ""])
        elif roll < 0.08:
            row.phone = rng.choice(BAD_PHONES)
        elif roll < 0.11:
            row.first_name = rng.choice(["", "  ", None])
        if rng.random() < 0.02:
            row.last_name = rng.choice(["", " "])

    def _bulk_row(self, key: int, role: str) -> PersonRow:
        """A cheap single-system contact for large benchmark data sets."""
        rnd = self.rng.random
        first = FIRST_NAMES[int(rnd() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rnd() * len(LAST_NAMES))]
        company = self.companies[int(rnd() * len(self.companies))]
        email = f"{first.lower()}.{key}@{company.domain}"
        created = self.now_ms - int((1 + rnd() * 729) * DAY_MS)
        updated = created + int(rnd() * (self.now_ms - created))
        phone = f"+1 {AREA_CODES[int(rnd() * len(AREA_CODES))]} 555 01{key % 100:02d}"
        return PersonRow(key, first, last, email, phone, None, TITLES[key % len(TITLES)], company.city,
                         company.country, company.key, LIFECYCLE[key % len(LIFECYCLE)] if role == MARKETING
                         else LEAD_SOURCES[key % len(LEAD_SOURCES)], created, updated)


def _copy(row: PersonRow) -> PersonRow:
    return PersonRow(row.person, row.first_name, row.last_name, row.email, row.phone, row.mobile, row.title,
                     row.city, row.country, row.company, row.source, row.created_ms, row.updated_ms, row.deleted)


# Words of the custom fields real accounts accumulate; their internal names run long (each emulator spells them its
# vendor's way, see custom_field_names), which is what pushes a full pull's URL past 16 KB.
CUSTOM_WORDS = ("marketing", "attribution", "touchpoint", "renewal", "territory", "forecast", "onboarding",
                "segment", "partner", "region", "campaign", "engagement", "billing", "contract", "support",
                "escalation", "procurement", "integration", "enrichment", "qualification")
CUSTOM_VALUES = ("Tier 1", "Tier 2", "Tier 3", "EMEA", "AMER", "APAC", "yes", "no", "pending", "2024-Q3")


def custom_field_words(count: int, words_per_name: int) -> list[list[str]]:
    """The words of ``count`` distinct custom field names, ``words_per_name`` each; an emulator joins them in its
    vendor's style and appends the index (``f"{'_'.join(words)}_{i:03d}"``)."""
    size = len(CUSTOM_WORDS)
    return [[CUSTOM_WORDS[(i + k * (1 + i // size)) % size] for k in range(words_per_name)] for i in range(count)]


def custom_values(names: list[str], record: int) -> dict[str, str]:
    """A record's values of the custom fields: about one field in five set, the rest empty (as in real CRMs)."""
    return {name: CUSTOM_VALUES[(record + i) % len(CUSTOM_VALUES)]
            for i, name in enumerate(names) if (record + i) % 5 == 0}
