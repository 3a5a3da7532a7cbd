"""The invented people of the demo data: names, emails, phones and VAT numbers per country."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

# country: (first names, last names, phone prefix, national digits after it, email domain,
# VAT number pattern where {n} is n random digits)
PEOPLE: dict[str, tuple[str, str, str, int, str, str]] = {
    "FR": (
        "Amélie Camille Louis Hugo Chloé Léa Jules Manon Théo Inès",
        "Martin Bernard Dubois Thomas Robert Petit Durand Leroy Moreau Simon",
        "+33 6",
        8,
        "example.fr",
        "FR{2}{9}",
    ),
    "DE": (
        "Anna Lukas Mia Leon Emma Felix Hanna Jonas Lea Paul",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann",
        "+49 151",
        8,
        "example.de",
        "DE{9}",
    ),
    "ES": (
        "Lucía Hugo Martina Pablo Sofía Daniel Julia Álvaro Paula Mateo",
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín",
        "+34 6",
        8,
        "example.es",
        "ESB{8}",
    ),
    "IT": (
        "Giulia Francesco Sofia Alessandro Aurora Lorenzo Ginevra Mattia Alice Leonardo",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco",
        "+39 3",
        9,
        "example.it",
        "IT{11}",
    ),
    "NL": (
        "Emma Daan Julia Sem Mila Lucas Tess Levi Sophie Finn",
        "de Jong Jansen de Vries van den Berg Bakker Visser Smit Meijer de Boer Mulder",
        "+31 6",
        8,
        "example.nl",
        "NL{9}B01",
    ),
    "BE": (
        "Louise Arthur Olivia Noah Mila Adrien Elena Victor Alice Jules",
        "Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters Dubois",
        "+32 47",
        7,
        "example.be",
        "BE0{9}",
    ),
    "AT": (
        "Marie Maximilian Laura Tobias Lena Elias Sarah David Valentina Jakob",
        "Gruber Huber Bauer Wagner Pichler Steiner Moser Mayer Hofer Leitner",
        "+43 664",
        7,
        "example.at",
        "ATU{8}",
    ),
    "PT": (
        "Maria João Beatriz Rodrigo Leonor Martim Matilde Tomás Carolina Duarte",
        "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Fernandes",
        "+351 91",
        7,
        "example.pt",
        "PT{9}",
    ),
    "IE": (
        "Aoife Conor Saoirse Seán Niamh Cian Ciara Oisín Róisín Darragh",
        "Murphy Kelly O'Sullivan Walsh Smith O'Brien Byrne Ryan O'Connor O'Neill",
        "+353 85",
        7,
        "example.ie",
        "IE{7}A",
    ),
    "US": (
        "Olivia Liam Emma Noah Ava Elijah Sophia James Isabella Benjamin Mia Lucas "
        "Charlotte Henry Amelia",
        "Smith Johnson Williams Brown Jones Garcia Miller Davis "
        "Rodriguez Martinez Hernandez Lopez Wilson Anderson Taylor",
        "+1 415",
        7,
        "example.com",
        "",
    ),
    "CA": (
        "Emily Jacob Chloe Ethan Zoe William Maya Logan Léa Nathan",
        "Tremblay Roy Gagnon Côté Bouchard Smith Brown Wilson MacDonald Martin",
        "+1 604",
        7,
        "example.ca",
        "",
    ),
    "GB": (
        "Oliver Amelia George Isla Harry Ava Jack Freya Charlie Lily",
        "Smith Jones Taylor Brown Williams Wilson Davies Evans Thomas Roberts",
        "+44 7",
        9,
        "example.co.uk",
        "",
    ),
}
EU_COUNTRIES = ("FR", "DE", "ES", "IT", "NL", "BE", "AT", "PT", "IE")
EU_WEIGHTS = (22, 24, 14, 14, 9, 6, 5, 3, 3)


@dataclass
class Human:
    index: int
    first: str
    last: str
    country: str
    email: str
    phone: str  # E.164 digits with +
    presence: str  # eu | us | both_email | both_phone
    customer_ids: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and ch.isascii()).lower()


def humans_generate(rng: random.Random, count: int) -> list[Human]:
    humans: list[Human] = []
    emails: set[str] = set()
    phones: set[str] = set()
    for index in range(count):
        roll = rng.random()
        presence = (
            "eu"
            if roll < 0.35
            else "us"
            if roll < 0.70
            else "both_email"
            if roll < 0.9
            else "both_phone"
        )
        if presence == "eu" or (presence != "us" and rng.random() < 0.6):
            country = rng.choices(EU_COUNTRIES, EU_WEIGHTS)[0]
        else:
            country = rng.choices(("US", "CA", "GB"), (85, 8, 7))[0]
        firsts, lasts, phone_prefix, digits, domain, _ = PEOPLE[country]
        first, last = rng.choice(firsts.split()), rng.choice(_lasts(lasts))
        local = f"{ascii_slug(first)}.{ascii_slug(last)}"
        email = f"{local}@{domain}"
        serial = 2
        while email in emails:
            email = f"{local}{serial}@{domain}"
            serial += 1
        emails.add(email)
        phone = ""
        while not phone or phone in phones:
            phone = phone_prefix.replace(" ", "") + "".join(
                str(rng.randrange(10)) for _ in range(digits)
            )
            if country in ("US", "CA"):  # a subscriber number never starts with 0 or 1
                phone = phone[:5] + str(rng.randrange(2, 10)) + phone[6:]
        phones.add(phone)
        humans.append(Human(index, first, last, country, email, phone, presence))
    return humans


def _lasts(lasts: str) -> list[str]:
    """Last names, where a particle ("de Jong", "van den Berg") stays with its name."""
    names: list[str] = []
    particle: list[str] = []
    for word in lasts.split():
        if word in ("de", "van", "den", "der"):
            particle.append(word)
            continue
        names.append(" ".join([*particle, word]))
        particle = []
    return names


def email_variant(rng: random.Random, email: str) -> str:
    """The same mailbox written differently: matching must still see one person."""
    local, _, domain = email.partition("@")
    choice = rng.randrange(3)
    if choice == 0:
        return email.upper()
    if choice == 1:
        return f"{local.title()}@{domain.upper()}"
    return f"{local}+{rng.choice(['shop', 'billing', 'news'])}@{domain}"


def phone_variant(human: Human) -> str:
    """The same number in national format, as people type it into another form."""
    _, national = _split_phone(human)
    if human.country in ("US", "CA"):
        return f"({national[:3]}) {national[3:6]}-{national[6:]}"
    # Spanish, Italian and Portuguese numbers have no trunk 0; the others add one.
    trunk = "" if human.country in ("ES", "IT", "PT") else "0"
    return f"{trunk}{national[:3]} {national[3:6]} {national[6:]}".strip()


def phone_international(human: Human) -> str:
    prefix, national = _split_phone(human)
    return f"{prefix} {national[:3]} {national[3:6]} {national[6:]}".strip()


def _split_phone(human: Human) -> tuple[str, str]:
    prefix = PEOPLE[human.country][2].split()[0]
    return prefix, human.phone[len(prefix) :]


def vat_number(rng: random.Random, country: str) -> str:
    """A made-up VAT number of ``country`` in its format, with valid check digits (so that
    the documents of a B2B customer are invoices with its number; its registration is not
    real)."""
    pattern = PEOPLE[country][5]
    out = ""
    i = 0
    while i < len(pattern):
        if pattern[i] == "{":
            end = pattern.index("}", i)
            out += "".join(str(rng.randrange(10)) for _ in range(int(pattern[i + 1 : end])))
            i = end + 1
        else:
            out += pattern[i]
            i += 1
    return _with_check_digits(out)


def _with_check_digits(number: str) -> str:
    """``number`` if it passes the country's checksum, else another of the same format that
    does, drawn from a generator seeded with it (the seed's own draws stay the same)."""
    from stdnum.eu import vat

    if vat.is_valid(number):
        return number
    if number.startswith("FR") and number[2:].isdigit():
        # The key is computed from the SIREN (itself a Luhn number): no search needed.
        from stdnum import luhn

        siren = number[4:12] + luhn.calc_check_digit(number[4:12])
        return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    draw = random.Random(number)  # noqa: S311 - made-up demo data
    digits = [n for n, ch in enumerate(number) if ch.isdigit()]
    candidate = list(number)
    for _ in range(100_000):
        for n in digits:
            candidate[n] = str(draw.randrange(10))
        found = "".join(candidate)
        if vat.is_valid(found):
            return found
    return number
