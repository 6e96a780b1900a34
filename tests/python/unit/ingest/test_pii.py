"""Personal data: each kind is found (and its look-alikes are not), masked without a trace,
and stops a workbook's load naming where, never what."""

from __future__ import annotations

import csv
import random
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from dap.errors import Location, PiiError, WorkbookError
from dap.ingest import pii
from dap.ingest.pii import (
    PiiFinding,
    PiiKind,
    PiiPolicy,
    find_pii,
    mask_grid,
    mask_pii,
    match_rules,
    phone_shaped,
    scan_grid,
    worth_scanning,
)
from dap.ingest.workbook import ParsedWorkbook, parse_workbook
from dap.lake.load import load_workbooks
from dap.lake.storage import LocalLake
from dap.samples.excel_writer import Cell
from dap.samples.synthetic import HEADER as SAMPLE_HEADER
from dap.samples.synthetic import SHEET_NAMES, csv_rows_to_workbooks, write_sample
from dap.schema import DATASET
from testkit.workbooks import (
    HEADER,
    SHEET,
    assert_refused,
    manifest,
    raw_table,
    row,
    rows_for,
    run_dap,
    sha256_of,
)
from testkit.workbooks import xls as write_xls_book
from testkit.workbooks import xlsx as write_xlsx_book

D1 = date(2023, 3, 14)

# --- single values -----------------------------------------------------------------------

POSITIVES: list[tuple[PiiKind, str]] = [
    (PiiKind.EMAIL, "jane.doe@example.com"),
    (PiiKind.EMAIL, "j_o.hn+311@mail.city.vancouver.ca"),
    (PiiKind.EMAIL, "A.B-C@Example.CO.UK"),
    (PiiKind.PHONE, "(604) 871-7000"),
    (PiiKind.PHONE, "(604)871-7000"),
    (PiiKind.PHONE, "604-871-7000"),
    (PiiKind.PHONE, "604.871.7000"),
    (PiiKind.PHONE, "604 871 7000"),
    (PiiKind.PHONE, "604 871-7000"),
    (PiiKind.PHONE, "6048717000"),
    (PiiKind.PHONE, "+1 604 871 7000"),
    (PiiKind.PHONE, "+1-604-871-7000"),
    (PiiKind.PHONE, "+16048717000"),
    (PiiKind.PHONE, "1-604-871-7000"),
    (PiiKind.PHONE, "1 (604) 871-7000"),
    (PiiKind.PHONE, "1.604.871.7000"),
    (PiiKind.PHONE, "16048717000"),
    (PiiKind.PHONE, "+44 20 7946 0958"),
    (PiiKind.PHONE, "+33 1 23 45 67 89"),
    (PiiKind.PHONE, "+61 2 9374 4000"),
    (PiiKind.PHONE, "+49 (30) 901820"),
    (PiiKind.PHONE, "+7 495 123-45-67"),
    # phonenumbers finds these too: dialled from Canada with 011, a full-width plus, a short
    # but valid foreign number (Niue), another script's digits, a toll-free exchange 1xx.
    (PiiKind.PHONE, "011 44 20 7946 0958"),
    (PiiKind.PHONE, "\uff0b44 20 7946 0958"),
    (PiiKind.PHONE, "\uff0b683 4002"),
    (PiiKind.PHONE, "+683 4002"),
    (PiiKind.PHONE, "\u0666\u0660\u0664 \u0668\u0667\u0661 \u0667\u0660\u0660\u0660"),
    (PiiKind.PHONE, "1-800-149-6475"),
    (PiiKind.POSTAL_CODE, "V5Y 1V4"),
    (PiiKind.POSTAL_CODE, "V5Y1V4"),
    (PiiKind.POSTAL_CODE, "v5y 1v4"),
    (PiiKind.POSTAL_CODE, "V5Y-1V4"),
    (PiiKind.POSTAL_CODE, "K1A 0B1"),
    (PiiKind.POSTAL_CODE, "X0A 0H0"),
    (PiiKind.CARD_NUMBER, "4111 1111 1111 1111"),  # Visa
    (PiiKind.CARD_NUMBER, "4111-1111-1111-1111"),
    (PiiKind.CARD_NUMBER, "4111111111111111"),
    (PiiKind.CARD_NUMBER, "4222222222222"),  # Visa, 13 digits
    (PiiKind.CARD_NUMBER, "5555 5555 5555 4444"),  # Mastercard
    (PiiKind.CARD_NUMBER, "2223 0031 2200 3222"),  # Mastercard 2-series
    (PiiKind.CARD_NUMBER, "3782 822463 10005"),  # Amex, 4-6-5
    (PiiKind.CARD_NUMBER, "378282246310005"),
    (PiiKind.CARD_NUMBER, "6011 1111 1111 1117"),  # Discover
    (PiiKind.CARD_NUMBER, "3530111333300000"),  # JCB
    (PiiKind.CARD_NUMBER, "3056 930902 5904"),  # Diners, 4-6-4
    (PiiKind.CARD_NUMBER, "6200000000000005"),  # UnionPay
    (PiiKind.SIN, "123 456 782"),
    (PiiKind.SIN, "123-456-782"),
    (PiiKind.SIN, "123456782"),
    (PiiKind.SIN, "130 692 544"),
    (PiiKind.SIN, "912 345 675"),  # temporary residents' SINs start with 9
    (PiiKind.BC_PHN, "9698 658 215"),
    (PiiKind.BC_PHN, "9698-658-215"),
    (PiiKind.BC_PHN, "9698658215"),
]

NEGATIVES: list[str] = [
    # checksums and issuer prefixes
    "4111 1111 1111 1112",  # Luhn fails
    "4111111111111112",
    "1000000000000008",  # Luhn passes, no issuer starts with 1
    "9000 0000 0000 0008",  # Luhn passes, no issuer starts with 9
    "5555 5555 5555 444",  # Mastercard prefix, 15 digits
    "123 456 789",  # SIN Luhn fails
    "046 454 286",  # Luhn passes, SINs never start with 0
    "800000002",  # Luhn passes, 8 is a business number
    "9698 658 216",  # PHN check digit wrong
    "9698 658 210",
    # phone numbering-plan rules and decimals
    "(104) 871-7000",  # area code starts with 1
    "(060) 871-7000",  # area code starts with 0
    "604-173-7000",  # exchange starts with 1
    "604-073-7000",
    "604.8717000",  # a decimal, not 604.871.7000
    "1.6048717000",
    "1.7655913978",
    "249.8832335",
    "0.8832335329",
    ".657470423",
    "-0.123456782",
    "0,8832335329",
    "+25 000 000",  # a signed figure with thousands separators
    "+12.5%",
    "+5 calls",
    "+28 1234 5678",  # no country code starts 28
    "+1 234 567 890",  # +1 but not a valid North American number
    # shaped like phone numbers, valid for no country (phonenumbers' judgement)
    "+44 604 871 7000",  # no UK number starts 6
    "+61 604 871 7000",
    "+39 123 456 7890",
    "(555) 871-7000",  # area codes that do not exist
    "(999) 871-7000",
    "0.6048717000",  # phonenumbers finds 604 871 7000 in it; it is a decimal
    "310-5961",  # valid to phonenumbers: a seven-digit BC company number, or a code
    "Ref 3105961",
    "6048717000.5",
    # digits inside longer runs or codes
    "41111111111111110",
    "1234567821",
    "6048717000123",
    "12-123-456-782",
    "123-456-782-001",
    "INV123456782",
    "SN4111111111111111",
    "0.123456782",
    "1,234,567,890",
    "123,456,782",
    # postal-code letter rules
    "D5Y 1V4",  # D never starts a postal code
    "W5Y 1V4",  # nor W
    "Z5Y 1V4",  # nor Z
    "V5D 1V4",  # D nowhere
    "V5Y 1U4",  # U nowhere
    "V5Y 1V45",
    "AV5Y 1V4",
    "#a1b2c3",  # a colour
    # emails
    "user@localhost",
    "@ 5pm",
    "icon@2x.png",
    "calls @ 10am",
    "a@b",
    # dates, times, counts, labels
    "2021-03-04",
    "2021/03/04",
    "2021-03-04 00:00:00",
    "2021-03-04T12:30:45+07:00",
    "20240930",
    "20240930123456",
    "12:30:45",
    "1727740800",  # a Unix timestamp
    "1727740800000",
    "311",
    "3-1-1",
    "12,345",
    "N/A",
    "n/a",
    "#N/A",
    "#DIV/0!",
    "-",
    "",
    "TRUE",
    "85.02174",
    "0.99163179916318",
    "4.83809523809524",
    "1.5E+308",
    "Date",
    "AverageSpeedofAnswer",
    "BI_ID",
    "CallsOffered (B12): '12a' is not a number",
    "3-1-1 Contact Centre Metrics",
    "City of Vancouver Open Data Portal, dataset 3-1-1-contact-centre-metrics",
    "Contains information licensed under the Open Government Licence \N{EN DASH} Vancouver.",
    "https://opendata.vancouver.ca/explore/dataset/3-1-1-contact-centre-metrics/",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Version 1.2.3.4",
    "Section 1.2.3",
]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _traces(value: str) -> list[str]:
    """Forms of ``value`` that must appear nowhere once it is masked or reported."""
    traces = {value, value.replace(" ", ""), re.sub(r"[\s.\-()]", "", value)}
    digits = _digits(value)
    if len(digits) >= 4:
        traces.add(digits)
    if "@" in value:
        traces.update(value.split("@"))
    return sorted(t for t in traces if t)


def _assert_no_trace(text: str, value: str) -> None:
    for trace in _traces(value):
        assert trace.lower() not in text.lower(), f"{trace!r} leaked into {text!r}"


@pytest.mark.parametrize(("kind", "value"), POSITIVES)
def test_each_kind_is_found_alone_and_inside_text(kind, value):
    assert [(m.kind, m.start, m.end) for m in find_pii(value)] == [(kind, 0, len(value))]
    text = f"Caller {value}, asked for callback."
    (match,) = find_pii(text)
    assert (match.kind, text[match.start : match.end]) == (kind, value)


@pytest.mark.parametrize(("kind", "value"), POSITIVES)
def test_masking_keeps_no_part_of_the_value(kind, value):
    text = f"Caller {value}, asked for callback."
    masked = mask_pii(text)
    assert masked == f"Caller {kind.mask}, asked for callback."
    _assert_no_trace(masked, value)
    assert find_pii(masked) == []
    assert mask_pii(masked) == masked


@pytest.mark.parametrize("text", NEGATIVES)
def test_look_alikes_are_not_personal_data(text):
    assert find_pii(text) == []
    assert match_rules(text) == [], "the prefilter must not be what saves this text"
    assert mask_pii(text) == text


def test_several_values_in_one_text_are_each_masked_in_order():
    text = "jane@example.com / (604) 871-7000 / V5Y 1V4 / SIN 123-456-782 / 4111111111111111"
    assert [m.kind for m in find_pii(text)] == [
        PiiKind.EMAIL,
        PiiKind.PHONE,
        PiiKind.POSTAL_CODE,
        PiiKind.SIN,
        PiiKind.CARD_NUMBER,
    ]
    assert mask_pii(text) == (
        "[email address removed] / [phone number removed] / [postal code removed] / "
        "SIN [SIN removed] / [card number removed]"
    )


def test_a_card_number_is_not_also_a_phone_number_or_a_sin():
    for text in ["4111 1111 1111 1111", "4532015112830366", "5555-5555-5555-4444"]:
        assert [m.kind for m in find_pii(text)] == [PiiKind.CARD_NUMBER]


def test_a_seven_digit_bc_company_number_is_not_a_phone_number_even_beside_one():
    """phonenumbers reads 310-xxxx as a valid (province-wide) number; it is a company's, and
    as often a code. Next to a real number, which makes the library look, it stays."""
    text = "Ref 310-5961, call +44 20 7946 0958"
    assert [(m.kind, text[m.start : m.end]) for m in find_pii(text)] == [
        (PiiKind.PHONE, "+44 20 7946 0958")
    ]


def test_an_international_number_is_one_match_with_its_country_code():
    """Its last ten digits are a valid Vancouver number on their own; still one match."""
    text = "tel +49 30 604 871 7000."
    assert [(m.kind, m.start, m.end) for m in find_pii(text)] == [(PiiKind.PHONE, 4, 23)]
    assert mask_pii(text) == "tel [phone number removed]."


def test_a_phone_number_ends_a_sentence_and_takes_an_extension():
    assert mask_pii("Call 604-871-7000.") == "Call [phone number removed]."
    assert mask_pii("604-871-7000 x123") == "[phone number removed] x123"
    assert mask_pii("tel.6048717000") == "tel.[phone number removed]"
    assert mask_pii("1-604-871-7000 ext. 22") == "[phone number removed] ext. 22"
    assert (
        mask_pii("+1 604 871 7000 x 55, ask for Sam") == "[phone number removed] x 55, ask for Sam"
    )
    assert mask_pii("604 871 7000 / 604 873 7001") == (
        "[phone number removed] / [phone number removed]"
    )


def test_an_email_ends_before_a_file_extension():
    assert mask_pii("jane@example.com.xlsx") == "[email address removed].xlsx"


def _kinds_of(text: str) -> list[PiiKind]:
    return [m.kind for m in find_pii(text)]


def test_check_digits_decide_cards_sins_and_health_numbers():
    """One digit changed, the check fails and the number is nothing (or something else)."""
    assert _kinds_of("4532015112830366") == [PiiKind.CARD_NUMBER]
    assert _kinds_of("4532015112830367") == []
    assert _kinds_of("130 692 544") == [PiiKind.SIN]
    assert _kinds_of("130 692 545") == []
    assert _kinds_of("9698 658 215") == [PiiKind.BC_PHN]
    assert _kinds_of("9698 658 217") == []
    # A weighted sum divisible by 11 gives check digit 0 (python-stdnum's reading of the
    # Ministry's rule); 910 000 0030 is no phone number either (exchange 000).
    assert _kinds_of("9100 000 030") == [PiiKind.BC_PHN]
    assert _kinds_of("9100 000 031") == []


def test_kinds_have_labels_and_masks_without_digits():
    for kind in PiiKind:
        assert kind.label
        assert kind.mask.startswith("[")
        assert kind.mask.endswith(" removed]")
        assert find_pii(kind.mask) == []
    assert PiiKind.EMAIL.mask == "[email address removed]"


def test_the_prefilter_never_hides_a_match():
    """Random digit-heavy strings: whatever the rules find, the prefilter lets through."""
    rng = random.Random(311)
    alphabet = "0123456789" * 4 + " .-,+()@abcVYKxX#:/%_\u00a0"
    found = 0
    for _ in range(60_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 26)))
        if match_rules(text):
            found += 1
            assert worth_scanning(text), text
    assert found > 100  # the check was not vacuous


@pytest.mark.parametrize(
    "text",
    [
        "2024-09-30 14:22:05",  # a date-time stored as text, as a whole column may be
        "Case 20240930123456 escalated 2024-09-30 14:22",
        "budget line 3-1-1-2024-0930-001",
        "batch 13808-952966-878150",
        "rate +12.5% vs 2023",
        "Ref INV1234567890 closed",
        "0.6048717000",
        "call volume 1,234,567,890 in 2024",
    ],
)
def test_phonenumbers_is_not_asked_about_text_without_a_phone_shape(text, monkeypatch):
    """The library costs ~100 us a string: strings of digits that cannot hold a number
    (timestamps, digit runs of the wrong length, decimals) skip it."""
    assert not phone_shaped(text)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"phonenumbers was asked about {text!r}")

    monkeypatch.setattr(pii.phonenumbers, "PhoneNumberMatcher", refuse)
    assert match_rules(text) == []


@pytest.mark.parametrize(
    "text",
    ["604-871-7000", "call (604) 871-7000", "+44 20 7946 0958", "011 44 20 7946 0958"],
)
def test_phonenumbers_is_asked_about_phone_shaped_text(text):
    assert phone_shaped(text)


def _phone_like(rng: random.Random) -> str:
    """A number in one of many spellings, valid or nearly so."""
    area = rng.choice(["604", "778", "250", "800", "212", "416", "555", "999", "104", "060"])
    exchange, line = str(rng.randrange(100, 1000)), f"{rng.randrange(10_000):04d}"
    sep = rng.choice([" ", "-", ".", "", "\u00a0", " / ", "  "])
    forms = [
        f"{area}{sep}{exchange}{sep}{line}",
        f"({area}){sep}{exchange}-{line}",
        f"1{sep}{area}{sep}{exchange}{sep}{line}",
        f"+1{sep}{area}{sep}{exchange}{sep}{line}",
        f"{area}{exchange[:1]}{sep}{exchange[1:]}{line}",
        f"+44{sep}20{sep}7946{sep}{line}",
        f"011{sep}44{sep}20{sep}7946{sep}{line}",
        f"\uff0b33 6 {line[:2]} {line[2:]} 37 00",
        f"+683{sep}{line}",
        f"{area}{sep}{exchange}{sep}{line}".translate(
            str.maketrans(
                "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
            )
        ),
    ]
    return rng.choice(forms)


def test_the_phone_shape_test_never_hides_a_number(monkeypatch):
    """Random texts around phone-like numbers: asking phonenumbers about every one finds
    exactly what asking only about the phone-shaped ones finds."""
    rng = random.Random(604)
    before = ["", "tel ", "tel.", "0.", "1", "1 ", "11", "1-1 ", "011", "12-", "x", "INV", "+", "("]
    before += ["a ", "2024-09-30 ", "8005 / "]
    after = ["", "", ".", " ", ",5", "-3", "0", ":22", " x12", " ext. 5", ")", "/2", "%", " 1"]
    texts = [rng.choice(before) + _phone_like(rng) + rng.choice(after) for _ in range(4_000)]
    texts += ["2024-09-30 14:22:05", "1 2024-09-30 14:22", "(2024-09-30 14:22"]
    gated = [match_rules(text) for text in texts]
    monkeypatch.setattr(pii, "phone_shaped", lambda _text: True)
    ungated = [match_rules(text) for text in texts]
    assert [t for t, g, u in zip(texts, gated, ungated, strict=True) if g != u] == []
    phones = sum(any(m.kind is PiiKind.PHONE for m in found) for found in ungated)
    assert phones > 500, phones  # the check was not vacuous


# --- grids -------------------------------------------------------------------------------


def test_scan_grid_gives_excel_rows_and_letters_and_only_reads_text():
    grid: list[list[object]] = [
        ["Date", "Notes"],
        [D1, "call jane@example.com"],
        [6048717000, 123456782.0],  # numbers are metrics here, not personal data
        [None, None, None, None, None, None, None, None, None, None, None, None, None, "V5Y 1V4"],
        [None] * 27 + ["ok", "604-871-7000 or jane@example.com"],
    ]
    findings = scan_grid("book.xlsx", "Data", grid)
    assert [(f.location, f.kind) for f in findings] == [
        (Location("book.xlsx", "Data", 2, "B"), PiiKind.EMAIL),
        (Location("book.xlsx", "Data", 4, "N"), PiiKind.POSTAL_CODE),
        (Location("book.xlsx", "Data", 5, "AC"), PiiKind.PHONE),
        (Location("book.xlsx", "Data", 5, "AC"), PiiKind.EMAIL),
    ]
    assert grid[1][1] == "call jane@example.com"  # scanning does not change the grid


def test_mask_grid_masks_in_place_and_reports_the_same():
    grid: list[list[object]] = [["Notes", "x"], ["call jane@example.com", 5], ["fine", None]]
    findings = mask_grid("book.xlsx", "Data", grid)
    assert findings == [PiiFinding(Location("book.xlsx", "Data", 2, "A"), PiiKind.EMAIL)]
    assert grid == [["Notes", "x"], ["call [email address removed]", 5], ["fine", None]]


def test_a_sheet_name_is_scanned_and_never_shown():
    findings = scan_grid("book.xlsx", "Jane 604-871-7000", [["604 871 7000"]])
    assert findings == [
        PiiFinding(Location("book.xlsx", "Jane [phone number removed]"), PiiKind.PHONE),
        PiiFinding(Location("book.xlsx", "Jane [phone number removed]", 1, "A"), PiiKind.PHONE),
    ]


def test_finding_record_has_no_value():
    finding = PiiFinding(Location("book.xlsx", "Data", 4, "H"), PiiKind.SIN)
    assert finding.as_record() == {
        "file": "book.xlsx",
        "sheet": "Data",
        "row": 4,
        "column": "H",
        "kind": "sin",
    }
    assert str(finding) == "book.xlsx, sheet 'Data', row 4, column 'H' (social insurance number)"


# --- workbooks ---------------------------------------------------------------------------

PLANTED: dict[PiiKind, str] = {
    PiiKind.EMAIL: "jane.doe@example.com",
    PiiKind.PHONE: "(604) 871-7000",
    PiiKind.POSTAL_CODE: "V5Y 1V4",
    PiiKind.CARD_NUMBER: "4111 1111 1111 1111",
    PiiKind.SIN: "130 692 544",
    PiiKind.BC_PHN: "9698 658 215",
}
KINDS = list(PLANTED)
NOTES_HEADER: list[Cell] = [*HEADER, "Notes"]  # the notes column is H


def _parse(path: Path, pii: PiiPolicy = "stop") -> ParsedWorkbook:
    return parse_workbook(path.name, path.read_bytes(), pii=pii)


def _pii_error(path: Path) -> PiiError:
    with pytest.raises(PiiError) as caught:
        _parse(path)
    return caught.value


def _everything_derived(parsed: ParsedWorkbook) -> str:
    """All a parsed workbook would put in the raw zone and the manifest, as text."""
    parts = [repr(parsed.columns), parsed.file_name, repr(parsed.skipped_sheets)]
    parts += [s.name for s in parsed.sheets]
    parts += [repr(f.as_record()) for f in parsed.pii_findings]
    parts.append(repr(parsed.to_arrow("0" * 64).to_pylist()))
    return "\n".join(parts)


def _assert_stop_message(
    error: PiiError, value: str, kind: PiiKind, sheet: str, row_number: int, column: str
) -> None:
    message = str(error)
    assert message.startswith(f"book.xlsx, sheet {sheet!r}, row {row_number}, column {column!r}")
    assert kind.label in message
    assert "Nothing was loaded" in message
    assert "--pii=mask" in message
    _assert_no_trace(message, value)
    assert error.findings[0] == PiiFinding(Location("book.xlsx", sheet, row_number, column), kind)


def _notes_book(tmp_path: Path, value: str, writer=write_xlsx_book, suffix: str = "xlsx") -> Path:
    rows: list[list[Cell]] = [
        NOTES_HEADER,
        [*row(D1, 1), "quiet day"],
        [*row(date(2023, 3, 15), 2), f"Caller {value} wants a callback"],
        [*row(date(2023, 3, 16), 3), None],
    ]
    return writer(tmp_path / f"book.{suffix}", {SHEET: rows})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("writer", "suffix"), [(write_xlsx_book, "xlsx"), (write_xls_book, "xls")])
def test_planted_in_a_notes_column_stops_the_load(tmp_path, kind, writer, suffix):
    value = PLANTED[kind]
    path = _notes_book(tmp_path, value, writer, suffix)
    error = _pii_error(path)
    message = str(error).replace(f"book.{suffix}", "book.xlsx")
    assert isinstance(error, WorkbookError)
    assert message.startswith(f"book.xlsx, sheet {SHEET!r}, row 3, column 'H'")
    assert kind.label in message
    assert "--pii=mask" in message
    _assert_no_trace(message, value)
    assert [(f.location.row, f.location.column, f.kind) for f in error.findings] == [(3, "H", kind)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("writer", "suffix"), [(write_xlsx_book, "xlsx"), (write_xls_book, "xls")])
def test_planted_in_a_notes_column_lands_masked(tmp_path, kind, writer, suffix):
    value = PLANTED[kind]
    parsed = _parse(_notes_book(tmp_path, value, writer, suffix), "mask")
    assert parsed.rows == 3
    assert parsed.columns["callsoffered"] == [1001, 1002, 1003]
    assert parsed.columns["load_issues"] == [None, None, None]
    assert parsed.pii_findings == [
        PiiFinding(Location(f"book.{suffix}", SHEET, 3, "H"), kind),
    ]
    _assert_no_trace(_everything_derived(parsed), value)


@pytest.mark.parametrize("kind", KINDS)
def test_planted_in_a_metric_cell_stops_the_load(tmp_path, kind):
    value = PLANTED[kind]
    rows: list[list[Cell]] = [HEADER, [D1, value, *row(D1, 1)[2:]], row(date(2023, 3, 15), 2)]
    error = _pii_error(write_xlsx_book(tmp_path / "book.xlsx", {SHEET: rows}))
    _assert_stop_message(error, value, kind, SHEET, 2, "B")


@pytest.mark.parametrize("kind", KINDS)
def test_planted_in_a_metric_cell_lands_masked_and_load_issues_quote_the_mask(tmp_path, kind):
    value = PLANTED[kind]
    rows: list[list[Cell]] = [HEADER, [D1, value, *row(D1, 1)[2:]], row(date(2023, 3, 15), 2)]
    parsed = _parse(write_xlsx_book(tmp_path / "book.xlsx", {SHEET: rows}), "mask")
    assert parsed.columns["callsoffered"] == [None, 1002]
    issue = parsed.columns["load_issues"][0]
    assert isinstance(issue, str)
    assert issue.startswith("CallsOffered (B2): ")
    assert kind.mask in issue
    assert parsed.columns["load_issues"][1] is None
    assert [(f.location.row, f.location.column, f.kind) for f in parsed.pii_findings] == [
        (2, "B", kind)
    ]
    _assert_no_trace(_everything_derived(parsed), value)


def _hidden_book(tmp_path: Path, value: str, state: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    for cells in [HEADER, row(D1, 1), row(date(2023, 3, 15), 2)]:
        ws.append(cells)
    hidden = wb.create_sheet("Old")
    hidden.sheet_state = state
    for _ in range(4):
        hidden.append([])
    hidden.append([None, None, f"from {value}"])  # C5
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
@pytest.mark.parametrize("kind", KINDS)
def test_planted_in_a_hidden_sheet_stops_the_load(tmp_path, kind, state):
    value = PLANTED[kind]
    error = _pii_error(_hidden_book(tmp_path, value, state))
    _assert_stop_message(error, value, kind, "Old", 5, "C")


@pytest.mark.parametrize("kind", KINDS)
def test_planted_in_a_hidden_sheet_lands_masked_and_the_sheet_stays_skipped(tmp_path, kind):
    value = PLANTED[kind]
    parsed = _parse(_hidden_book(tmp_path, value, "hidden"), "mask")
    assert [s.name for s in parsed.sheets] == [SHEET]
    assert parsed.skipped_sheets == ["Old"]
    assert parsed.rows == 2
    assert parsed.pii_findings == [PiiFinding(Location("book.xlsx", "Old", 5, "C"), kind)]
    _assert_no_trace(_everything_derived(parsed), value)


@pytest.mark.parametrize("kind", KINDS)
def test_planted_in_the_name_of_the_metrics_sheet(tmp_path, kind):
    value = PLANTED[kind]
    path = write_xlsx_book(tmp_path / "book.xlsx", {value: [HEADER, row(D1, 1), row(D1, 2)]})
    error = _pii_error(path)
    message = str(error)
    assert message.startswith(f"book.xlsx, sheet '{kind.mask}': personal data found")
    assert f"{kind.label} in the sheet name" in message
    _assert_no_trace(message, value)
    assert error.findings == [PiiFinding(Location("book.xlsx", kind.mask), kind)]

    parsed = _parse(path, "mask")
    assert parsed.columns["source_sheet"] == [kind.mask, kind.mask]
    assert [s.name for s in parsed.sheets] == [kind.mask]
    assert parsed.pii_findings == error.findings
    _assert_no_trace(_everything_derived(parsed), value)


def test_planted_in_the_name_of_a_skipped_sheet(tmp_path):
    path = write_xlsx_book(
        tmp_path / "book.xlsx",
        {SHEET: [HEADER, row(D1, 1)], "Jane 604-871-7000": [["notes"]]},
    )
    assert "the sheet name" in str(_pii_error(path))
    parsed = _parse(path, "mask")
    assert parsed.skipped_sheets == ["Jane [phone number removed]"]


def test_planted_in_a_sheet_without_a_metrics_header(tmp_path):
    path = write_xlsx_book(
        tmp_path / "book.xlsx",
        {"About": [["Contact"], ["jane.doe@example.com"]], SHEET: [HEADER, row(D1, 1)]},
    )
    _assert_stop_message(_pii_error(path), "jane.doe@example.com", PiiKind.EMAIL, "About", 2, "A")


def test_planted_in_the_file_name(tmp_path):
    path = write_xlsx_book(tmp_path / "jane.doe@example.com.xlsx", {SHEET: [HEADER, row(D1, 1)]})
    message = str(_pii_error(path))
    assert message.startswith("[email address removed].xlsx: personal data found")
    assert "in the file name" in message
    _assert_no_trace(message, "jane.doe@example.com")
    parsed = _parse(path, "mask")
    assert parsed.file_name == "[email address removed].xlsx"
    _assert_no_trace(_everything_derived(parsed), "jane.doe@example.com")


def test_every_finding_in_the_workbook_is_collected_before_stopping(tmp_path):
    notes = [[*row(d[0], i), f"jane{i}@example.com"] for i, d in enumerate(rows_for(D1, 14), 1)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    for cells in [NOTES_HEADER, *notes]:
        ws.append(cells)
    hidden = wb.create_sheet("Scratch")
    hidden.sheet_state = "veryHidden"
    hidden.append(["V5Y 1V4"])
    path = tmp_path / "book.xlsx"
    wb.save(path)

    error = _pii_error(path)
    assert len(error.findings) == 15
    assert error.findings[-1] == PiiFinding(
        Location("book.xlsx", "Scratch", 1, "A"), PiiKind.POSTAL_CODE
    )
    message = str(error)
    assert "14 more: H3 (email address), H4 (email address)" in message
    assert "H12 (email address), and 4 more." in message  # ten listed, kinds only
    assert "@" not in message


def test_personal_data_is_reported_instead_of_a_problem_whose_message_quotes_it(tmp_path):
    """A date column of email addresses: the date error would quote one, so it is not raised."""
    rows: list[list[Cell]] = [HEADER] + [
        [f"jane{i}@example.com", *row(D1, i)[1:]] for i in range(1, 5)
    ]
    path = write_xlsx_book(tmp_path / "book.xlsx", {SHEET: rows})
    error = _pii_error(path)
    assert len(error.findings) == 4
    with pytest.raises(WorkbookError) as caught:
        _parse(path, "mask")
    assert not isinstance(caught.value, PiiError)
    assert "the date column (A) cannot be read" in str(caught.value)
    assert "'[email address removed]'" in str(caught.value)
    assert "@" not in str(caught.value)


def test_personal_data_after_a_broken_sheet_is_still_found(tmp_path):
    no_date = HEADER[1:-1]
    path = write_xlsx_book(
        tmp_path / "book.xlsx",
        {"Bad": [no_date, [1, 2, 3, 4, 0.5]], "Notes": [["604-871-7000"]]},
    )
    with pytest.raises(WorkbookError, match="required column missing: 'Date'"):
        _parse(path, "mask")
    error = _pii_error(path)
    assert error.findings == [PiiFinding(Location("book.xlsx", "Notes", 1, "A"), PiiKind.PHONE)]


def test_a_header_cell_with_personal_data_does_not_change_header_detection(tmp_path):
    rows: list[list[Cell]] = [
        ["Report for jane.doe@example.com"],
        [*HEADER, "Notes (ask 604-871-7000)"],
        row(D1, 1),
    ]
    path = write_xlsx_book(tmp_path / "book.xlsx", {SHEET: rows})
    parsed = _parse(path, "mask")
    assert parsed.sheets[0].header_row == 2
    assert parsed.columns["callsoffered"] == [1001]
    assert [(f.location.row, f.location.column) for f in parsed.pii_findings] == [
        (1, "A"),
        (2, "H"),
    ]


@pytest.mark.parametrize("policy", ["stop", "mask"])
def test_a_clean_workbook_parses_the_same_under_either_policy(tmp_path, policy):
    rows: list[list[Cell]] = [
        ["3-1-1 Contact Centre Metrics"],
        [*HEADER, "Notes"],
        [*row(D1, 1), "N/A"],
        [*row("2023-03-15", 2), "12,345 calls; see 2021-03-04"],
        [date(2023, 3, 16), "12a", *row(D1, 3)[2:], "0.99163179916318"],
    ]
    path = write_xlsx_book(tmp_path / "book.xlsx", {SHEET: rows, "About": [["311"]]})
    parsed = _parse(path, policy)
    baseline = _parse(path)
    assert parsed.pii_findings == []
    assert parsed.columns == baseline.columns
    assert parsed.skipped_sheets == ["About"]
    assert parsed.columns["load_issues"][2] == "CallsOffered (B5): '12a' is not a number"


def test_pii_error_needs_a_finding():
    with pytest.raises(ValueError, match="at least one"):
        PiiError([])


# --- through the loader ------------------------------------------------------------------


def test_the_loader_writes_nothing_under_stop_and_lands_masked_under_mask(tmp_path):
    """Acceptance: planted personal data stops the load; the mask policy lands it masked."""
    lake = tmp_path / "lake"
    path = _notes_book(tmp_path, PLANTED[PiiKind.SIN])
    with pytest.raises(PiiError) as caught:
        load_workbooks([path], LocalLake(lake))
    _assert_no_trace(str(caught.value), PLANTED[PiiKind.SIN])
    # Only the refusal's trace: where and what kind, never the value.
    record = assert_refused(
        lake, {}, sha256=sha256_of(path), code="personal_data", never=_traces(PLANTED[PiiKind.SIN])
    )
    assert [p["kind"] for p in record["personal_data"]] == [PiiKind.SIN.value]

    rows: list[list[Cell]] = [HEADER, [D1, PLANTED[PiiKind.EMAIL], *row(D1, 1)[2:]]]
    other = write_xlsx_book(tmp_path / "other.xlsx", {"Jane 604-871-7000": rows})
    summary = load_workbooks([path, other], LocalLake(lake), pii="mask")
    assert summary.rows == 4
    table = raw_table(lake).to_pylist()
    text = repr(table)
    for value in [PLANTED[PiiKind.SIN], PLANTED[PiiKind.EMAIL], "604-871-7000"]:
        _assert_no_trace(text, value)
    assert {r["source_sheet"] for r in table} == {SHEET, "Jane [phone number removed]"}
    record = manifest(lake, sha256_of(other))
    assert [(m["kind"], m["row"], m["column"]) for m in record["pii_masked"]] == [
        ("phone", None, None),
        ("email", 2, "B"),
    ]
    for json_file in (lake / "_manifests").rglob("*.json"):
        _assert_no_trace(json_file.read_text(), PLANTED[PiiKind.EMAIL])


@pytest.mark.parametrize("kind", KINDS)
def test_cli_stops_on_each_kind_without_printing_it_and_masks_on_request(tmp_path, kind):
    """Acceptance, as people run it: `dap load` exits 1 naming where and what, never the
    value; the lake is untouched; `--pii=mask` lands the workbook with the value masked."""
    value = PLANTED[kind]
    path = _notes_book(tmp_path, value)
    lake = tmp_path / "lake"
    stopped = run_dap("load", path, "--lake", lake)
    assert stopped.returncode == 1
    assert "Traceback" not in stopped.stderr
    assert stopped.stderr.splitlines()[-1].startswith(
        f"dap load: error: book.xlsx, sheet {SHEET!r}, row 3, column 'H': personal data found "
        f"({kind.label}; the value is not shown)"
    )
    _assert_no_trace(stopped.stdout + stopped.stderr, value)
    record = assert_refused(
        lake, {}, sha256=sha256_of(path), code="personal_data", never=_traces(value)
    )
    assert record["personal_data"] == [
        {"sheet": SHEET, "row": 3, "column": "H", "kind": kind.value}
    ]

    masked = run_dap("load", path, "--lake", lake, "--pii=mask")
    assert masked.returncode == 0, masked.stderr
    assert "personal data masked in 1 cell(s)" in masked.stdout
    _assert_no_trace(masked.stdout + masked.stderr, value)
    assert raw_table(lake).num_rows == 3
    _assert_no_trace(repr(raw_table(lake).to_pylist()), value)
    derived = [p for p in lake.rglob("*") if p.is_file() and "landing" not in p.parts]
    for file in derived:  # raw Parquet, manifest, audit record: the value is nowhere
        _assert_no_trace(file.read_bytes().decode("latin-1"), value)
    record = manifest(lake, sha256_of(path))
    assert record["pii_masked"] == [
        {"file": "book.xlsx", "sheet": SHEET, "row": 3, "column": "H", "kind": kind.value}
    ]
    # The landing zone keeps the original file, byte for byte (it is the loader's alone).
    landed = lake / "landing" / DATASET / f"{sha256_of(path)}.xlsx"
    assert landed.read_bytes() == path.read_bytes()


# --- real data ---------------------------------------------------------------------------


def test_the_real_export_has_no_personal_data(real_csv: Path, tmp_path: Path):
    """A false positive here would stop real loads: every cell of the City's export, as
    text (in the CSV every value is text) and in a few other renderings, finds nothing,
    with and without the prefilter; its workbooks parse under ``stop``."""
    with real_csv.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for line in csv.reader(handle, delimiter=";") for cell in line]
    assert len(cells) > 5_000 * 7
    renderings = list(cells)
    for cell in cells:
        try:
            number = float(cell)
        except ValueError:
            continue
        renderings += [
            cell.replace(".", ","),
            f"{number:.10f}",
            f"{number:.7f}",
            f"{number:,.4f}",
            f"{number * 100:.12f}%",
            f"-{cell}",
        ]
    assert [text for text in renderings if match_rules(text)] == []
    assert [text for text in renderings if find_pii(text)] == []

    books = csv_rows_to_workbooks(real_csv, tmp_path / "yearly")
    books += csv_rows_to_workbooks(real_csv, tmp_path / "full", by_year=False)
    for book in books:
        assert _parse(book).pii_findings == []


def test_the_sample_workbooks_have_no_personal_data(tmp_path: Path):
    """Every synthetic quirk (sheet names, About sheet, text dates, lowercase headers)."""
    files = write_sample(tmp_path, start=date(2020, 1, 1), end=date(2024, 9, 30))
    assert {f.path.suffix for f in files} == {".xls", ".xlsx"}
    for sample in files:
        assert _parse(sample.path).pii_findings == []
    for text in [*SHEET_NAMES.values(), *SAMPLE_HEADER]:
        assert find_pii(text) == []


PUBLIC_LINE_FORMS = [
    "604-873-7000",
    "(604) 873-7000",
    "604.873.7000",
    "6048737000",
    "1-604-873-7000",
    "+1 604 873 7000",
    "+16048737000",
    "604-873-7000 x22",
]


@pytest.mark.parametrize("text", PUBLIC_LINE_FORMS)
def test_the_citys_public_3_1_1_line_is_not_personal_data(text):
    assert "+16048737000" in pii.PUBLIC_NUMBERS
    assert find_pii(f"Call 3-1-1, or {text} from outside Vancouver") == []


def test_a_public_number_beside_a_private_one_leaves_the_private_one_found():
    text = "3-1-1: 604-873-7000; caller: 604-871-7000"
    assert [(m.kind, text[m.start : m.end]) for m in find_pii(text)] == [
        (PiiKind.PHONE, "604-871-7000")
    ]


@pytest.mark.parametrize(("writer", "suffix"), [(write_xlsx_book, "xlsx"), (write_xls_book, "xls")])
def test_an_about_sheet_giving_the_311_line_loads(tmp_path, writer, suffix):
    about: list[list[Cell]] = [
        ["About this extract"],
        ["Questions: call 3-1-1, or (604) 873-7000 from outside Vancouver."],
    ]
    rows: list[list[Cell]] = [HEADER, row(D1, 1), row(date(2023, 3, 15), 2)]
    path = writer(tmp_path / f"book.{suffix}", {SHEET: rows, "About": about})
    parsed = _parse(path)
    assert parsed.pii_findings == []
    assert parsed.columns["callsoffered"] == [1001, 1002]
