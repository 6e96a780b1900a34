"""Finding personal data in the text of a workbook, before anything reaches the raw zone.

The 3-1-1 metrics export holds dates and counts, never people; a person's details in a
workbook are a mistake (a note typed into a spare column, a pasted call record, a sheet
named after a caller). Every text cell of every sheet, and every sheet name, is scanned.
Numbers and dates are not: here they are metrics, and a figure cannot be told from an
identifier. By default a hit stops the load (:class:`~dap.errors.PiiError`, naming file,
sheet, row, column and kind, never the value); with the ``mask`` policy each hit is
replaced by a fixed token (``[email address removed]``) that keeps no part of the value.

What is detected, and what keeps each rule from firing on ordinary spreadsheet text:

- **email address**: ``local@domain.tld`` with a dotted domain and an alphabetic top-level
  domain of 2-24 letters. Needs an ``@`` with text on both sides, so "@ 5pm" or "user@host"
  are not addresses, and common file extensions are not domains (``icon@2x.png``).
- **phone number**: North American numbers, ``(604) 873-7000``, ``604-873-7000``,
  ``604.873.7000``, ``604 873 7000``, ``6048737000``, ``+1 604 873 7000``,
  ``1-604-873-7000``. Area code and exchange cannot start with 0 or 1 (the numbering
  plan's own rule), which rules out most ten-digit counters and every Unix timestamp of
  this century (they start with 1). Dots count as separators only when both gaps have
  one (``604.8737000`` and ``1.6048737000`` are decimals). International numbers only
  with a leading ``+``, a valid ITU country code (the codes are prefix-free, so the code
  is read off the digits) and 8-15 digits in all; a ``+`` followed by groups of exactly
  three digits reads as a signed figure with thousands separators ("+25 000 000").
- **Canadian postal code**: ``A1A 1A1``, ``A1A1A1`` or ``A1A-1A1`` in either case, with
  Canada Post's letter set: the first letter one of ABCEGHJKLMNPRSTVXY, and no D, F, I, O,
  Q or U anywhere. It must stand alone (no letter or digit either side, no ``#`` before
  it, so a colour such as ``#a1b2c3`` is not one).
- **payment card number**: 13-19 digits, unseparated or in the printed groupings (4-4-4-4,
  4-4-4-4-3, 4-6-5 for Amex, 4-6-4 for Diners) with one kind of separator (space or dash),
  passing the Luhn check and starting with a known issuer prefix at a length that issuer
  uses (Visa 4; Mastercard 51-55 and 2221-2720; Amex 34, 37; Discover 6011, 644-649, 65,
  622126-622925; Diners 300-305, 3095, 36, 38, 39; JCB 3528-3589; UnionPay 62; Maestro
  5018, 5020, 5038, 5893, 6304, 6759, 6761-6763). Luhn alone passes one random number in
  ten; the issuer prefix and length cut that much further.
- **social insurance number (SIN)**: nine digits as ``123 456 782``, ``123-456-782`` or
  ``123456782``, passing the Luhn check, first digit not 0 (never issued) or 8 (business
  numbers).
- **BC Personal Health Number**: ten digits starting with 9, as ``9123 456 789`` or
  unseparated, passing the Ministry of Health's modulus-11 check digit. An unseparated
  ten-digit number that is both a valid PHN and a valid phone number is reported as a PHN;
  either way the load stops.

Digits are bounded: a number is not found inside a longer run of digits, nor inside a
decimal (``0.8832335329`` and ``.123456782`` hold no phone number or SIN: digits joined
to the match by ``.`` or ``,`` are the same number, unless the point ends a word, as in
``tel.6048737000``), nor inside a dash-joined code (``12-123-456-782``), nor right after
a letter (``INV123456782`` is a reference, not a SIN). So dates (2021-03-04), times,
counts with separators (12,345), the ratios of the real export (0.99163179916318) and
labels such as "311" or "N/A" never match. Where matches of different kinds overlap,
the longest wins, then the more specific kind (a card number is not also a phone number).

Left out on purpose: IPv4 addresses (version and section numbers such as 1.2.3.4 look
the same), names and street addresses (no reliable pattern), seven-digit local phone
numbers (indistinguishable from codes and counts), and numbers stored as numbers (a SIN
typed into a cell as 123456782 is a number cell, like every count in the sheet).

Speed: the prefilter :func:`worth_scanning` is the only test most strings get (at least
six characters, and an ``@``, or a digit with a ``+``, a letter-digit-letter run or nine
digits in all, and not a lone decimal such as numbers stored as text); non-text cells are
skipped on their type. A 1,000,000-row by 6-column sheet of Excel dates and numbers with
a text note in one row in ten scans in about half a second; the same sheet with its dates
stored as text in about two seconds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeVar

from dap.errors import Location

PiiPolicy = Literal["stop", "mask"]
"""What the loader does on finding personal data: refuse the workbook, or land it masked."""
PII_POLICIES: tuple[PiiPolicy, ...] = ("stop", "mask")
_Cell = TypeVar("_Cell")


class PiiKind(StrEnum):
    """A kind of personal data; the value is the code recorded in manifests."""

    EMAIL = "email"
    PHONE = "phone"
    POSTAL_CODE = "postal_code"
    CARD_NUMBER = "card_number"
    SIN = "sin"
    BC_PHN = "bc_phn"

    @property
    def label(self) -> str:
        """The kind as people read it in messages."""
        return _LABELS[self]

    @property
    def mask(self) -> str:
        """The fixed text that replaces a value of this kind."""
        return f"[{_MASK_NAMES[self]} removed]"


_LABELS: dict[PiiKind, str] = {
    PiiKind.EMAIL: "email address",
    PiiKind.PHONE: "phone number",
    PiiKind.POSTAL_CODE: "postal code",
    PiiKind.CARD_NUMBER: "payment card number",
    PiiKind.SIN: "social insurance number",
    PiiKind.BC_PHN: "BC Personal Health Number",
}
_MASK_NAMES: dict[PiiKind, str] = {
    PiiKind.EMAIL: "email address",
    PiiKind.PHONE: "phone number",
    PiiKind.POSTAL_CODE: "postal code",
    PiiKind.CARD_NUMBER: "card number",
    PiiKind.SIN: "SIN",
    PiiKind.BC_PHN: "health number",
}
# Among overlapping matches of the same length, the first kind here wins.
_PRIORITY: tuple[PiiKind, ...] = (
    PiiKind.CARD_NUMBER,
    PiiKind.BC_PHN,
    PiiKind.SIN,
    PiiKind.EMAIL,
    PiiKind.PHONE,
    PiiKind.POSTAL_CODE,
)
_RANK = {kind: rank for rank, kind in enumerate(_PRIORITY)}


@dataclass(frozen=True)
class PiiMatch:
    """One value of personal data in a text: ``text[start:end]``."""

    kind: PiiKind
    start: int
    end: int


@dataclass(frozen=True)
class PiiFinding:
    """A cell (or a sheet or file name) holding personal data of one kind; never the value.

    ``location`` names the file and sheet as they would land, masked where they themselves
    hold personal data. A cell's row is 1-based and its column is Excel's letter.
    """

    location: Location
    kind: PiiKind

    def __str__(self) -> str:
        return f"{self.location} ({self.kind.label})"

    def as_record(self) -> dict[str, object]:
        """For manifests and audit records: where, and which kind."""
        return {
            "file": self.location.file,
            "sheet": self.location.sheet,
            "row": self.location.row,
            "column": self.location.column,
            "kind": str(self.kind),
        }


def column_letter(index: int) -> str:
    """Excel's name for a 0-based column index (0 -> A, 27 -> AB).

    Here rather than in :mod:`dap.ingest.workbook` (which re-exports it) so that both modules
    can use it without an import cycle."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


# --- the rules -------------------------------------------------------------------------

_SEP = r"[ \u00a0.\-]"  # between the groups of a phone number
_GROUP_SEP = r"[ \u00a0\-]"  # between the groups of a card number, SIN or PHN
# A number starts after no digit or letter (nor ``+``), not after a digit and a dash, and
# not after a decimal point or comma unless that ends an abbreviation ("tel.604..."); it
# ends before no digit, and not before a point, comma or dash followed by a digit.
_NUM_START = r"(?<![\w+])(?<!\d\-)(?<![^A-Za-z][.,])(?<!^[.,])"
_NUM_END = r"(?!\d)(?![.,\-]\d)"

_EMAIL = re.compile(
    r"(?<![\w.%+'\-])"
    r"[\w%+'\-](?:[\w.%+'\-]{0,62}[\w%+'\-])?"
    r"@(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+"
    # File extensions are not top-level domains: icon@2x.png is an image, and the address
    # in jane@example.com.xlsx ends at .com.
    r"(?!(?:png|jpe?g|gif|svg|webp|bmp|tiff?|pdf|txt|csv|xlsx?|xlsm|xlsb|docx?|json|xml)"
    r"(?![\w\-]))"
    r"[A-Za-z]{2,24}(?![\w\-])"
)
_AREA, _EXCHANGE, _LINE = r"[2-9]\d\d", r"[2-9]\d\d", r"\d{4}"
_NANP = re.compile(
    # +1 with any separator; 1 with a space or dash or none, or a dot only when the
    # number goes on in dots (1.604.873.7000): 1.6048737000 is a decimal.
    _NUM_START + r"(?:\+1" + _SEP + r"?|1(?:[ \u00a0\-]|\.(?=[2-9]\d\d\.))?)?"
    # (604) 873-7000 with any separators; 604-873-7000 or 604 873 7000 (dashes and
    # spaces mixed); 604.873.7000 (a single dot would be a decimal: 604.8737000); or none.
    r"(?:\(\s?" + _AREA + r"\s?\)" + _SEP + "?" + _EXCHANGE + _SEP + "?"
    r"|" + _AREA + r"(?:[ \u00a0\-]" + _EXCHANGE + r"[ \u00a0\-]"
    r"|\." + _EXCHANGE + r"\."
    r"|" + _EXCHANGE + r"))" + _LINE + _NUM_END
)
_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:" + _SEP + r"?(?:\(\d{1,4}\)|\d+)){1,8}" + _NUM_END
)
_POSTAL_CODE = re.compile(
    r"(?<![A-Za-z0-9#])"
    r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \u00a0\-]?\d[ABCEGHJ-NPRSTV-Z]\d"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CARD = re.compile(
    _NUM_START + r"(?:\d{13,19}"
    r"|\d{4}(" + _GROUP_SEP + r")\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?"
    r"|\d{4}(" + _GROUP_SEP + r")\d{6}\2\d{4,5})" + _NUM_END
)
_SIN = re.compile(_NUM_START + r"\d{3}(" + _GROUP_SEP + r"?)\d{3}\1\d{3}" + _NUM_END)
_PHN = re.compile(_NUM_START + r"9\d{3}(" + _GROUP_SEP + r"?)\d{3}\1\d{3}" + _NUM_END)

_MIN_LENGTH = 6
"""The shortest text any rule matches (``a@b.ca``, ``V5Y1V4``)."""
_ANY_DIGIT = re.compile(r"\d")
_NINE_DIGITS = re.compile(r"(?:\D*+\d){9}")
_LETTER_DIGIT_LETTER = re.compile(r"[A-Za-z]\d[A-Za-z]")
_PLAIN_DECIMAL = re.compile(r"-?\d*[.,]\d+%?")
"""A lone decimal ("0.99163179916318", "85,5%"): its digits are one number, never a match."""
_NOT_DIGIT = re.compile(r"\D")

# (lowest prefix, highest prefix, lengths) per issuer; prefixes compared as numbers of
# the same number of digits.
_CARD_ISSUERS: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard
    ("34", "34", frozenset({15})),  # American Express
    ("37", "37", frozenset({15})),  # American Express
    ("6011", "6011", frozenset(range(16, 20))),  # Discover
    ("644", "649", frozenset(range(16, 20))),  # Discover
    ("65", "65", frozenset(range(16, 20))),  # Discover
    ("622126", "622925", frozenset(range(16, 20))),  # Discover / UnionPay co-brand
    ("300", "305", frozenset(range(14, 20))),  # Diners Club
    ("3095", "3095", frozenset(range(14, 20))),  # Diners Club
    ("36", "36", frozenset(range(14, 20))),  # Diners Club
    ("38", "39", frozenset(range(16, 20))),  # Diners Club
    ("3528", "3589", frozenset(range(16, 20))),  # JCB
    ("62", "62", frozenset(range(16, 20))),  # UnionPay
    ("5018", "5018", frozenset(range(13, 20))),  # Maestro
    ("5020", "5020", frozenset(range(13, 20))),  # Maestro
    ("5038", "5038", frozenset(range(13, 20))),  # Maestro
    ("5893", "5893", frozenset(range(13, 20))),  # Maestro
    ("6304", "6304", frozenset(range(13, 20))),  # Maestro
    ("6759", "6759", frozenset(range(13, 20))),  # Maestro
    ("6761", "6763", frozenset(range(13, 20))),  # Maestro
)

# ITU-T E.164 country codes are prefix-free: 1 and 7 are one digit, these two-digit
# codes are whole codes, and any other code is three digits whose first two are below.
_CC_TWO_DIGITS = frozenset(
    {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54}
    | {55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98}
)
_CC_THREE_DIGIT_PREFIXES = frozenset(
    {21, 22, 23, 24, 25, 26, 29, 35, 37, 38, 42, 50, 59, 67, 68, 69, 80, 85, 87, 88, 96, 97, 99}
)
_PHN_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers and SINs."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _valid_card(text: str) -> bool:
    digits = _digits(text)
    if not luhn_valid(digits):
        return False
    for low, high, lengths in _CARD_ISSUERS:
        prefix = digits[: len(low)]
        if low <= prefix <= high and len(digits) in lengths:
            return True
    return False


def _valid_sin(text: str) -> bool:
    digits = _digits(text)
    return digits[0] not in "08" and luhn_valid(digits)


def phn_valid(digits: str) -> bool:
    """BC Personal Health Number check: 10 digits, leading 9, modulus-11 check digit."""
    if len(digits) != 10 or digits[0] != "9":
        return False
    total = sum(int(d) * w for d, w in zip(digits[1:9], _PHN_WEIGHTS, strict=True))
    check = 11 - total % 11
    return check < 10 and check == int(digits[9])


def _valid_phn(text: str) -> bool:
    return phn_valid(_digits(text))


def _valid_international(text: str) -> bool:
    digits = _digits(text)
    if not 8 <= len(digits) <= 15 or digits[0] in "01":
        return False
    if digits[0] != "7":
        head = int(digits[:2])
        if head not in _CC_TWO_DIGITS and head not in _CC_THREE_DIGIT_PREFIXES:
            return False
    groups = re.findall(r"\d+", text)
    # "+25 000 000": a signed figure with thousands separators, not a phone number.
    return not (len(groups) > 1 and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]))


def worth_scanning(text: str) -> bool:
    """The cheap test every string gets: could any rule match?

    Every rule needs ``@`` (emails) or a digit, and then a ``+`` (international phone
    numbers), nine digits (every other number) or a letter-digit-letter run (postal codes).
    A lone decimal, as numbers stored as text are, cannot hold a match.
    """
    if len(text) < _MIN_LENGTH:
        return False
    if "@" in text:
        return True
    if _ANY_DIGIT.search(text) is None:
        return False
    if "+" in text or _LETTER_DIGIT_LETTER.search(text):
        return True
    return _NINE_DIGITS.match(text) is not None and _PLAIN_DECIMAL.fullmatch(text) is None


def _always(_text: str) -> bool:
    return True


_RULES: tuple[tuple[PiiKind, re.Pattern[str], Callable[[str], bool]], ...] = (
    (PiiKind.EMAIL, _EMAIL, _always),
    (PiiKind.CARD_NUMBER, _CARD, _valid_card),
    (PiiKind.BC_PHN, _PHN, _valid_phn),
    (PiiKind.SIN, _SIN, _valid_sin),
    (PiiKind.PHONE, _NANP, _always),
    (PiiKind.PHONE, _INTERNATIONAL, _valid_international),
    (PiiKind.POSTAL_CODE, _POSTAL_CODE, _always),
)


# --- finding and masking ---------------------------------------------------------------


def find_pii(text: str) -> list[PiiMatch]:
    """Every value of personal data in ``text``, in order, none overlapping.

    Where candidates overlap, the longest is kept, then the more specific kind.
    """
    return match_rules(text) if worth_scanning(text) else []


def match_rules(text: str) -> list[PiiMatch]:
    """:func:`find_pii` without the prefilter (which only saves time, never a match)."""
    candidates = [
        PiiMatch(kind, m.start(), m.end())
        for kind, pattern, valid in _RULES
        for m in pattern.finditer(text)
        if valid(m.group())
    ]
    if len(candidates) <= 1:
        return candidates
    candidates.sort(key=lambda m: (m.start - m.end, _RANK[m.kind], m.start))
    kept: list[PiiMatch] = []
    for candidate in candidates:
        if all(candidate.end <= k.start or k.end <= candidate.start for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda m: m.start)


def mask_matches(text: str, matches: Sequence[PiiMatch]) -> str:
    """``text`` with each of ``matches`` (from :func:`find_pii`) replaced by its kind's mask."""
    parts: list[str] = []
    position = 0
    for match in matches:
        parts.append(text[position : match.start])
        parts.append(match.kind.mask)
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


def mask_pii(text: str) -> str:
    """``text`` with every value of personal data replaced by a fixed token naming its kind."""
    matches = find_pii(text)
    return mask_matches(text, matches) if matches else text


def _kinds(matches: Sequence[PiiMatch]) -> list[PiiKind]:
    """The distinct kinds of ``matches``, in order of first appearance."""
    return list(dict.fromkeys(m.kind for m in matches))


def scan_name(location: Location, name: str) -> list[PiiFinding]:
    """Findings for a file or sheet name, at ``location`` (which must not show the name)."""
    return [PiiFinding(location, kind) for kind in _kinds(find_pii(name))]


def _text_cells(grid: Sequence[Sequence[object]]) -> Iterator[tuple[int, int, str]]:
    """(row index, column index, text) of every text cell that passes the prefilter."""
    if str not in set(map(type, itertools.chain.from_iterable(grid))):
        return  # a grid of figures: nothing to scan (tested in C, not cell by cell)
    worth = worth_scanning
    for r, cells in enumerate(grid):
        if str not in map(type, cells):
            continue
        for c, value in enumerate(cells):
            if type(value) is str and worth(value):
                yield r, c, value


def scan_grid(
    file_name: str, sheet_name: str, grid: Sequence[Sequence[object]]
) -> list[PiiFinding]:
    """Findings in a sheet: its name, then its text cells row by row.

    ``grid`` is the sheet from A1 (list positions are Excel's rows and columns); only
    ``str`` cells are scanned. Locations show the file and sheet names masked.
    """
    return _scan(file_name, sheet_name, grid, mask=False)


def mask_grid(
    file_name: str, sheet_name: str, grid: Sequence[MutableSequence[_Cell]]
) -> list[PiiFinding]:
    """As :func:`scan_grid`, and replace the personal data in each text cell in place
    (the cell stays text: a ``str`` cell is replaced by a ``str``)."""
    return _scan(file_name, sheet_name, grid, mask=True)


def _scan(
    file_name: str, sheet_name: str, grid: Sequence[Sequence[object]], *, mask: bool
) -> list[PiiFinding]:
    shown_file, shown_sheet = mask_pii(file_name), mask_pii(sheet_name)
    findings = scan_name(Location(shown_file, shown_sheet), sheet_name)
    for r, c, text in _text_cells(grid):
        matches = find_pii(text)
        if not matches:
            continue
        where = Location(shown_file, shown_sheet, r + 1, column_letter(c))
        findings.extend(PiiFinding(where, kind) for kind in _kinds(matches))
        if mask:
            row = grid[r]
            assert isinstance(row, MutableSequence)
            row[c] = mask_matches(text, matches)  # replaces a str: the cell type allows it
    return findings
