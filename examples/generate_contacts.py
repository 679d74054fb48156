"""Generate the example CRM exports: contacts.csv and contacts-small.csv.

The files look like a CRM's UTF-8 export: English column names, comma
separators, French names with accents, hyphens and apostrophes, phone
numbers written in the many ways people type them, and a few contacts the
deposit rejects (a fiction-range mobile, a broken e-mail, no means of
contact). The seed is fixed, so running the script again gives the same bytes.

    python examples/generate_contacts.py [--count 1200] [--out examples]
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from pathlib import Path

SEED = 20151117
HEADER = [
    "customer_id",
    "civility",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "zip",
    "city",
    "birthdate",
]

WOMEN = [
    "Amélie",
    "Anaïs",
    "Béatrice",
    "Cécile",
    "Chloé",
    "Clémence",
    "Éloïse",
    "Hélène",
    "Inès",
    "Joséphine",
    "Léa",
    "Léonie",
    "Maëlle",
    "Marie-Hélène",
    "Mélanie",
    "Noémie",
    "Océane",
    "Pénélope",
    "Zoé",
    "Anne-Sophie",
    "Gaëlle",
    "Françoise",
    "Jeanne",
    "Camille",
    "Manon",
]
MEN = [
    "André",
    "Benoît",
    "Céline",
    "Clément",
    "Élie",
    "Émile",
    "François",
    "Gérard",
    "Hervé",
    "Jérôme",
    "Jean-Noël",
    "Jean-François",
    "Joël",
    "Léon",
    "Loïc",
    "Mathéo",
    "Michaël",
    "Noël",
    "Raphaël",
    "Stéphane",
    "Théo",
    "Valère",
    "Yannick",
    "Pierre",
    "Mathis",
]
LAST_NAMES = [
    "Dupont",
    "Martin",
    "Lefèvre",
    "Bérenger",
    "D'Arcy",
    "L'Hermite",
    "Le Goff",
    "Duchêne",
    "Gâteau-Rivière",
    "Fontaine",
    "Mercier",
    "Châtelain",
    "Lemaître",
    "Brûlé",
    "Desprès",
    "Maréchal",
    "N'Diaye",
    "O'Neill",
    "Saint-Exupéry",
    "De La Tour",
    "Kergoët",
    "Besançon",
    "Thévenin",
    "Béranger-Loiseau",
    "Garçon",
    "Pétain-Roux",
    "Leroy",
    "Moreau",
    "Fabre",
]
CITIES = [
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13008", "Marseille"),
    ("44000", "Nantes"),
    ("35000", "Rennes"),
    ("33000", "Bordeaux"),
    ("42000", "Saint-Étienne"),
    ("59800", "Lille"),
    ("67000", "Strasbourg"),
    ("06000", "Nice"),
    ("29200", "Brest"),
    ("74000", "Annecy"),
    ("97400", "Saint-Denis"),
    ("21000", "Dijon"),
    ("38000", "Grenoble"),
]
DOMAINS = ["example.com", "example.fr", "example.org", "example.net"]

# Number ranges that phonenumbers (9.0) knows as assigned in France.
MOBILE_PREFIXES = ["612", "623", "645", "667", "678", "698", "749", "768", "781"]
FIXED_PREFIXES = ["145", "142", "240", "299", "320", "388", "478", "491", "556", "561"]


def phone_forms(national: str) -> list[str]:
    """Return ways people write the 10-digit national number `national`."""
    pairs = " ".join(national[i : i + 2] for i in range(0, 10, 2))
    international = national[1:]
    spaced = f"{international[0]} {' '.join(international[i : i + 2] for i in range(1, 9, 2))}"
    return [
        pairs,
        pairs,
        pairs.replace(" ", "."),
        national,
        pairs.replace(" ", "-"),
        f"+33 {spaced}",
        f"+33{international}",
        f"0033 {spaced}",
        f"33{international}",
        # A spreadsheet that read the column as a number dropped the zero.
        international,
    ]


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char for char in bare.lower() if char.isalnum())


def make_contact(rng: random.Random, index: int) -> list[str]:
    woman = rng.random() < 0.5
    first = rng.choice(WOMEN if woman else MEN)
    last = rng.choice(LAST_NAMES)
    zip_code, city = rng.choice(CITIES)
    email = f"{ascii_slug(first)}.{ascii_slug(last)}{index}@{rng.choice(DOMAINS)}"
    mobile = rng.choice(
        phone_forms(f"0{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**6):06d}")
    )
    fixed = ""
    if rng.random() < 0.4:
        fixed = rng.choice(
            phone_forms(f"0{rng.choice(FIXED_PREFIXES)}{rng.randrange(10**6):06d}")
        )
    if rng.random() < 0.15:
        mobile = ""
    birth = (
        f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2005)}"
    )
    if rng.random() < 0.3:
        birth = ""
    civility = "Mme" if woman else "M."
    row = [
        f"C{index:06d}",
        civility,
        first,
        last,
        email,
        fixed,
        mobile,
        zip_code,
        city,
        birth,
    ]
    return damage(rng, row)


def damage(rng: random.Random, row: list[str]) -> list[str]:
    """Spoil about one contact in 25 the way real exports are spoiled.

    06 39 98 is the mobile range set aside for fiction, never a valid number.
    """
    roll = rng.random()
    if roll < 0.01:
        row[6] = f"06 39 98 {rng.randrange(100):02d} {rng.randrange(100):02d}"
        row[4] = ""
    elif roll < 0.02:
        row[4] = row[4].replace("@", " at ")
    elif roll < 0.03:
        row[4] = row[5] = row[6] = ""
    elif roll < 0.04:
        row[4] = row[4].split("@")[0] + "@"
    return row


def write_export(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=1200, help="contacts in contacts.csv"
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent, help="output folder"
    )
    arguments = parser.parse_args()

    rng = random.Random(SEED)
    contacts = [make_contact(rng, index) for index in range(1, arguments.count + 1)]
    write_export(arguments.out / "contacts.csv", contacts)

    # The small file keeps 12 contacts of the big one and adds 8 new ones,
    # so a sync with it leaves a list of exactly these 20.
    kept = [row for row in contacts if row[4] and "@" in row[4] and " " not in row[4]][
        :12
    ]
    fresh = [make_contact(rng, index) for index in range(900_001, 900_009)]
    for row in fresh:
        row[4] = row[4] or f"nouveau{row[0]}@example.fr"
    write_export(arguments.out / "contacts-small.csv", kept + fresh)


if __name__ == "__main__":
    main()
