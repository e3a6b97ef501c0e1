"""Write a deterministic CSV of fictional US contacts for the simulator's examples.

    python examples/make_contacts.py 500 examples/contacts-500.csv
    python examples/make_contacts.py 100000 /tmp/contacts-100k.csv

Phones are 555 exchange numbers (NXX-555-XXXX, reserved for fiction) spread round-robin
over area codes in every continental US time zone, Alaska and Hawaii, so a campaign's
calling window opens at different instants for different contacts. On purpose, a few rows
are bad or special, to show what a preflight reports (shares adjustable, 0 turns them off):

* ``--invalid-share``: a phone that does not parse (``invalid``);
* ``--duplicate-share``: a row repeating an earlier row's phone (``duplicate``);
* ``--toll-free-share``: an 800 number, which maps to ~40 zones from Guam to Newfoundland
  where no 09:00-17:00 window is ever open in all of them at once (``no_window_before_end``);
* ``--zone-share``: a row with an explicit ``timezone`` column (it wins over the phone's).

The same arguments always give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

AREA_CODES = (
    "212", "718", "617", "305", "404",  # Eastern
    "312", "713", "214", "612",  # Central
    "303", "801", "602",  # Mountain (Phoenix: no DST)
    "415", "213", "206", "503",  # Pacific
    "907", "808",  # Alaska, Hawaii
)
FIRST = ("Ann", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jon",
         "Kemi", "Luis", "Mei", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq")
LAST = ("Garcia", "Smith", "Nguyen", "Okafor", "Kowalski", "Haddad", "Silva", "Cohen",
        "Ito", "Brown", "Patel", "Moreau", "Jensen", "Rossi", "Kim", "Lopez")
PLANS = ("Basic", "Plus", "Premium")
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
BAD_PHONES = ("555-01", "n/a", "+1 (212) 555", "12345", "call me")
CAPACITY = len(AREA_CODES) * 10_000


def rows(count: int, seed: int, invalid: float, duplicate: float, toll_free: float,
         zone: float) -> list[list[str]]:
    rng = random.Random(seed)
    out: list[list[str]] = []
    phones: list[str] = []
    unique = 0
    for row in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        draw = rng.random()
        if draw < invalid:
            phone = rng.choice(BAD_PHONES)
        elif draw < invalid + duplicate and phones:
            phone = rng.choice(phones)
        elif draw < invalid + duplicate + toll_free:
            phone = f"+1800555{unique % 10_000:04d}"
            unique += 1
        else:
            if unique >= CAPACITY:
                raise SystemExit(f"at most {CAPACITY:,} distinct phones")
            area = AREA_CODES[unique % len(AREA_CODES)]
            phone = f"+1{area}555{unique // len(AREA_CODES):04d}"
            unique += 1
            phones.append(phone)
        tz = rng.choice(ZONES) if rng.random() < zone else ""
        email = f"{first}.{last}{row}@example.com".lower()
        out.append([phone, first, last, email, tz, rng.choice(PLANS), f"L-{row + 1:06d}"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, help="rows to write")
    parser.add_argument("out", type=Path, help="the CSV file to write ('-': stdout)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invalid-share", type=float, default=0.01)
    parser.add_argument("--duplicate-share", type=float, default=0.01)
    parser.add_argument("--toll-free-share", type=float, default=0.004)
    parser.add_argument("--zone-share", type=float, default=0.02)
    args = parser.parse_args(argv)
    data = rows(args.count, args.seed, args.invalid_share, args.duplicate_share,
                args.toll_free_share, args.zone_share)
    header = ["phone", "first_name", "last_name", "email", "timezone", "plan", "lead_id"]
    if str(args.out) == "-":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(data)
        return 0
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
