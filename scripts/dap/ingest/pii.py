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
- **phone number**: whatever the `phonenumbers` library (Google's libphonenumber) finds
  in the text with Canada as the default region and its ``STRICT_GROUPING`` leniency: a
  number valid for its country (area codes and exchanges that exist, so not a ten-digit
  counter or a Unix timestamp), its digits grouped as that country groups them (so
  ``12-123-456-782`` is not +1 212 345 6782). Without a ``+`` that means North American
  numbers (``(604) 873-7000``, ``604.873.7000``, ``1-604-873-7000``, ``6048737000``) and
  numbers dialled from Canada (``011 44 20 7946 0958``); with one, any country's
  (``+44 20 7946 0958``). A number that only looks like one (``+44 604 873 7000``, not a
  UK number) is not found. On top of the library: a single dot inside a number is a
  decimal point (``604.8737000``, ``1.6048737000``; ``604.873.7000`` is a number), and an
  extension stays out of the match (``604-873-7000 x123`` keeps its ``x123``). Numbers
  the City publishes for everyone (:data:`PUBLIC_NUMBERS`, such as the 3-1-1 line
  ``604-873-7000`` for callers outside Vancouver) are not personal data, however written.
- **Canadian postal code**: ``A1A 1A1``, ``A1A1A1`` or ``A1A-1A1`` in either case, with
  Canada Post's letter set: the first letter one of ABCEGHJKLMNPRSTVXY, and no D, F, I, O,
  Q or U anywhere. It must stand alone (no letter or digit either side, no ``#`` before
  it, so a colour such as ``#a1b2c3`` is not one).
- **payment card number**: 13-19 digits, unseparated or in the printed groupings (4-4-4-4,
  4-4-4-4-3, 4-6-5 for Amex, 4-6-4 for Diners) with one kind of separator (space or dash),
  passing the Luhn check (`stdnum.luhn`) and starting with a known issuer prefix at a
  length that issuer uses (Visa 4; Mastercard 51-55 and 2221-2720; Amex 34, 37; Discover
  6011, 644-649, 65, 622126-622925; Diners 300-305, 3095, 36, 38, 39; JCB 3528-3589;
  UnionPay 62; Maestro 5018, 5020, 5038, 5893, 6304, 6759, 6761-6763). Luhn alone passes
  one random number in ten; the issuer prefix and length cut that much further.
- **social insurance number (SIN)**: nine digits as ``123 456 782``, ``123-456-782`` or
  ``123456782``, valid by `stdnum.ca.sin` (the Luhn check, first digit not 0, never issued,
  nor 8, business numbers).
- **BC Personal Health Number**: ten digits starting with 9, as ``9123 456 789`` or
  unseparated, valid by `stdnum.ca.bc_phn` (the Ministry of Health's modulus-11 check
  digit, a remainder of 0 giving check digit 0). An unseparated ten-digit number that is
  both a valid PHN and a valid phone number is reported as a PHN; either way the load
  stops.

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
numbers and BC's seven-digit ``310-xxxx`` company numbers (indistinguishable from codes and
counts, though `phonenumbers` takes the latter), and numbers stored as numbers (a SIN
typed into a cell as 123456782 is a number cell, like every count in the sheet).

Speed: the prefilter :func:`worth_scanning` is the only test most strings get (at least
six characters, and an ``@``, or a digit with a ``+``, a letter-digit-letter run or nine
digits in all, and not a lone decimal such as numbers stored as text); non-text cells are
skipped on their type. `phonenumbers` takes about 100 microseconds for a string holding a
candidate, ten times the patterns' cost, so it is asked only about strings that
:func:`phone_shaped` passes: a ``+`` with six digits, or ten digits in a North American
shape (or 011 and more), joined only by phone punctuation, that is not a timestamp. A
clean text cell costs about what it did before the library; a cell that does hold a
phone number costs the library's 100 microseconds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeVar

import phonenumbers
from stdnum import luhn
from stdnum.ca import bc_phn, sin

from dap.errors import Location

PiiPolicy = Literal["stop", "mask"]
"""What the loader does on finding personal data: refuse the workbook, or land it masked."""
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
# Phone numbers and the check digits of SINs, BC PHNs and card numbers come from
# `phonenumbers` and `python-stdnum`. The patterns below find the candidates those check;
# emails and postal codes have no library here that finds them in free text, and the
# boundary rules are about spreadsheets (decimals, codes), so both stay ours.

_GROUP_SEP = r"[ \u00a0\-]"  # between the groups of a card number, SIN or PHN
# A number starts after no digit or letter (nor ``+``), not after a digit and a dash, and
# not after a decimal point or comma unless that ends an abbreviation ("tel.604..."); it
# ends before no digit, and not before a point, comma or dash followed by a digit.
_NUM_START = r"(?<![\w+])(?<!\d\-)(?<![^A-Za-z][.,])(?<!^[.,])"
_NUM_END = r"(?!\d)(?![.,\-]\d)"
_STARTS_NUMBER = re.compile(_NUM_START)
_ENDS_NUMBER = re.compile(_NUM_END)

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
# python-stdnum has no Canadian postal code module; Canada Post's letter rules are these.
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

_PHONE_REGION = "CA"
"""Numbers without a ``+`` are read as dialled in Canada (so 011 starts an international one)."""
_PHONE_LENIENCY = phonenumbers.Leniency.STRICT_GROUPING
"""Valid numbers grouped as their country groups them. ``VALID`` also takes a dash-joined
code such as ``12-123-456-782`` (read as 1 212 345 6782); ``EXACT_GROUPING`` drops numbers
written as ``604 8737000``."""
_NANP_TEN_DIGITS = 1_000_000_000
"""North American numbers below this are seven digits (``310-xxxx``): a company's number,
and as often a code or a count, so not personal data here."""
_FULL_WIDTH_PLUS = "\uff0b"
# The cheap test that decides whether `phonenumbers` runs at all (about 100 microseconds for
# a text holding a candidate, against a few for these patterns). It must pass every text in
# which :func:`_phone_spans` keeps a number, so it relies only on the library's rules and
# the boundary rules above. The library's candidates are digit blocks joined by at most
# four characters of phone punctuation (in ASCII: space, ``-``, ``x``, brackets, ``.``,
# ``/``, ``~``). With region CA a number is then one of: ``+`` and at least six digits (a
# two-digit country code and a four-digit number is the shortest valid anywhere); ten North
# American digits, maybe after some 1s (the library reads 1, 11 and 111 as country code
# and trunk prefix), the area code not starting with 0 or 1 (an exchange may: 800 145 ...
# is valid); or 011, the exit code from Canada, and six digits more. A candidate shaped
# like a timestamp with a minute after it ("2024-09-30 14:22") is never a number to the
# library. Sampled against the library itself in ``test_the_phone_shape_test_never_hides_a_number``.
_PHONE_GAP = r"[-\sxX().\[\]/~]{0,4}"  # a superset of the library's ASCII punctuation
_PHONE_TIMESTAMP = r"[12]\d{3}[-/]?[01]\d[-/]?[0-3]\d +[0-2]\d:[0-5]\d"
_PLUS_SHAPE = re.compile(r"\+" + _PHONE_GAP + r"\d(?:" + _PHONE_GAP + r"\d){5}")
_DIALLED_SHAPE = re.compile(
    _NUM_START + r"(?!" + _PHONE_TIMESTAMP + r")(?:"
    r"(?:1" + _PHONE_GAP + r")*[2-9](?:" + _PHONE_GAP + r"\d){9}" + _NUM_END + r"|"
    r"0" + _PHONE_GAP + r"1" + _PHONE_GAP + r"1(?:" + _PHONE_GAP + r"\d){6})"
)
# The library reads every script's digits (Arabic-Indic, full width, ...) and more
# punctuation than ASCII has; in such text the test is looser: a plus sign, or nine digits
# joined by at most four characters each that are not letters (but ``x``), digits or ``,:;%``.
_ANY_SCRIPT_SHAPE = re.compile(r"[+\uff0b]|\d(?:(?:[^\w,:;%]|[xX\u30fc]){0,4}\d){8}")

_MIN_LENGTH = 6
"""The shortest text any rule matches (``a@b.ca``, ``V5Y1V4``)."""
_ANY_DIGIT = re.compile(r"\d")
_NINE_DIGITS = re.compile(r"(?:\D*+\d){9}")
_LETTER_DIGIT_LETTER = re.compile(r"[A-Za-z]\d[A-Za-z]")
_PLAIN_DECIMAL = re.compile(r"-?\d*[.,]\d+%?")
"""A lone decimal ("0.99163179916318", "85,5%"): its digits are one number, never a match."""
_NOT_DIGIT = re.compile(r"\D")
_DIGIT = re.compile(r"\d")

# python-stdnum checks the Luhn digit but has no payment-card module (no issuer prefixes or
# lengths), so the issuers are listed here: (lowest prefix, highest prefix, lengths), the
# prefixes compared as numbers of the same number of digits.
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


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text)


def _valid_card(text: str) -> bool:
    digits = _digits(text)
    if not luhn.is_valid(digits):
        return False
    for low, high, lengths in _CARD_ISSUERS:
        prefix = digits[: len(low)]
        if low <= prefix <= high and len(digits) in lengths:
            return True
    return False


def _valid_sin(text: str) -> bool:
    return sin.is_valid(_digits(text))


def _valid_phn(text: str) -> bool:
    return bc_phn.is_valid(_digits(text))


PUBLIC_NUMBERS: dict[str, str] = {
    "+16048737000": "City of Vancouver 3-1-1, for callers outside Vancouver (vancouver.ca/311)",
}
"""Phone numbers published for the public, in E.164 form, with whose they are: an About
sheet or a footnote that gives them is not personal data. Add a number only when it is
published by the organisation that owns it (a help line, a switchboard), never a person's."""


def phone_shaped(text: str) -> bool:
    """Whether `phonenumbers` could find a number in ``text`` (if not, it is not asked)."""
    if not text.isascii():
        return _ANY_SCRIPT_SHAPE.search(text) is not None
    if "+" in text and _PLUS_SHAPE.search(text):
        return True
    return _DIALLED_SHAPE.search(text) is not None


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each phone number in ``text``, found by `phonenumbers`."""
    if not phone_shaped(text):
        return
    for match in phonenumbers.PhoneNumberMatcher(text, _PHONE_REGION, leniency=_PHONE_LENIENCY):
        number = match.number
        if number.country_code == 1 and (number.national_number or 0) < _NANP_TEN_DIGITS:
            continue  # 310-5961: Canada's seven-digit province-wide numbers are businesses'
        if _public(number):
            continue
        start, end = match.start, _end_before_extension(match)
        if (
            _STARTS_NUMBER.match(text, start)
            and _ENDS_NUMBER.match(text, end)
            and text.count(".", start, end) != 1  # 604.8737000 is a decimal
        ):
            yield start, end


def _public(number: phonenumbers.PhoneNumber) -> bool:
    """Whether ``number`` (any extension aside) is one of :data:`PUBLIC_NUMBERS`."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 in PUBLIC_NUMBERS


def _end_before_extension(match: phonenumbers.PhoneNumberMatch) -> int:
    """Where the number itself ends: before its extension (" x123", " ext. 22"), if any."""
    extension = match.number.extension
    if not extension:
        return match.end
    digits = [m.end() for m in _DIGIT.finditer(match.raw_string)]
    return match.start + digits[len(digits) - len(extension) - 1]


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
    if "+" in text or _FULL_WIDTH_PLUS in text or _LETTER_DIGIT_LETTER.search(text):
        return True
    return _NINE_DIGITS.match(text) is not None and _PLAIN_DECIMAL.fullmatch(text) is None


def _always(_text: str) -> bool:
    return True


_RULES: tuple[tuple[PiiKind, re.Pattern[str], Callable[[str], bool]], ...] = (
    (PiiKind.EMAIL, _EMAIL, _always),
    (PiiKind.CARD_NUMBER, _CARD, _valid_card),
    (PiiKind.BC_PHN, _PHN, _valid_phn),
    (PiiKind.SIN, _SIN, _valid_sin),
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
    candidates += [PiiMatch(PiiKind.PHONE, start, end) for start, end in _phone_spans(text)]
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


def scan_cells(
    file_name: str, sheet_name: str, cells: Iterable[tuple[int, int, str]]
) -> list[PiiFinding]:
    """Findings in the text cells of a sheet given as (1-based row, 0-based column, text),
    in that order: what :func:`scan_grid` finds in the same cells, without the sheet's
    name (for a sheet read column by column, as Arrow)."""
    shown_file, shown_sheet = mask_pii(file_name), mask_pii(sheet_name)
    findings: list[PiiFinding] = []
    worth = worth_scanning
    for row, column, text in cells:
        if not worth(text):
            continue
        matches = find_pii(text)
        if matches:
            where = Location(shown_file, shown_sheet, row, column_letter(column))
            findings.extend(PiiFinding(where, kind) for kind in _kinds(matches))
    return findings


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
