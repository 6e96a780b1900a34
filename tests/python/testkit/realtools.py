"""Workbooks and CSV files written the way real spreadsheet tools write them.

No spreadsheet tool runs here, so each writer reproduces, part by part, what one class of
tool puts in its files (openpyxl writes one dialect only, so the XML is written here):

- :func:`excel_xlsx`: Excel 365's own `.xlsx` (``x14ac`` row attributes, shared formulas,
  17-digit floats, the system's long date format).
- :func:`text_figures_xlsx`: figures stored as text (``1,037``, ``85%``).
- :func:`libreoffice_xlsx`: LibreOffice Calc's `.xlsx` (shared strings with rich-text runs
  and ``xml:space="preserve"``, ``<cols>`` to column 1025, rows with every attribute,
  formulas with cached values, ``t="n"`` and ``t="str"`` formula results).
- :func:`streamed_xlsx`: streaming writers' `.xlsx` (inline strings, rows and cells
  without ``r``, ``spans``, ragged and sparse rows).
- :func:`google_sheets_xlsx`: Google Sheets' download (shared strings, custom number
  formats, dates with ``yyyy-mm-dd``, percentages stored as 0.85 with ``0%``).
- :func:`strict_xlsx`: "Strict Open XML Spreadsheet" (the ``purl.oclc.org`` namespaces),
  with ISO dates in ``t="d"`` cells.
- :func:`prefixed_xlsx`: the Open XML SDK's spelling (``<x:worksheet xmlns:x=...>``,
  ``<x:row>``, ``<x:c>``).
- :func:`libreoffice_ods`: LibreOffice's `.ods` (``table:number-columns-repeated``,
  ``office:date-value``, ``office:value-type="percentage"``, the trailing repeated rows).
- :func:`excel97_xls`: a legacy `.xls` (xlwt) with date and percent formats.
- :func:`spreadsheet_csv`: CSV as spreadsheet tools save it (byte-order mark, CRLF, ``;`` or
  ``,``, percentages and thousands separators as displayed).

Each takes :class:`Day` figures and returns the file's bytes; :class:`CorpusCase` pairs a
file with the figures the marts must then hold.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

import xlwt

HEADER = (
    "Date",
    "CallsOffered",
    "CallsHandled",
    "CallsAbandoned",
    "AverageSpeedofAnswer",
    "ServiceLevel",
    "BI_ID",
)
SHEET = "3-1-1 Contact Centre Metrics"
EXCEL_EPOCH = date(1899, 12, 30)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Day:
    """One day's figures as the workbook states them."""

    day: date
    offered: int
    handled: int
    abandoned: int
    speed: float
    """Average speed of answer, seconds."""
    service_level: float
    """0-1."""
    bi_id: int

    @property
    def serial(self) -> int:
        return (self.day - EXCEL_EPOCH).days


def days_of(year: int, count: int = 6, *, month: int = 3, first_day: int = 1) -> tuple[Day, ...]:
    """``count`` consecutive days in ``year`` with distinct, exactly written figures: the
    service level has two decimals (a whole percentage), the speed quarter seconds."""
    start = date(year, month, first_day)
    out = []
    for n in range(count):
        offered = 1000 + 37 * n + year % 100
        abandoned = 40 + 3 * n
        handled = offered - abandoned - n % 3
        out.append(
            Day(
                start + timedelta(n),
                offered,
                handled,
                abandoned,
                18.25 + n * 1.5,
                (70 + (year + 3 * n) % 29) / 100,
                year * 1000 + n,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class CorpusCase:
    """A file made the way a tool makes it, and the daily figures the marts must hold once
    it is loaded: in the months its days fall in (:attr:`months`, which no other case of a
    corpus may share), exactly the days of ``expected`` with their figures."""

    name: str
    file_name: str
    data: bytes
    expected: tuple[Day, ...]
    xfail: str | None = None
    """Why the loader misreads this class today (the test is ``xfail(strict=True)``)."""
    held_back: tuple[int, ...] = ()
    """Row numbers (as the tool shows them) of rows that must be quarantined rather than
    reach the marts: a total row, say. Every other row must pass."""
    notes: str = ""
    months: frozenset[date] = field(init=False)
    """The first day of each month ``expected`` has days in."""

    def __post_init__(self) -> None:
        if not self.expected:
            raise ValueError(f"case {self.name}: no expected days")
        object.__setattr__(self, "months", frozenset(d.day.replace(day=1) for d in self.expected))

    @classmethod
    def from_figures(
        cls,
        name: str,
        file_name: str,
        data: bytes,
        figures: Mapping[date, Mapping[str, float | int]],
        **options: Any,
    ) -> CorpusCase:
        """A case from figures keyed by the daily mart's column names (``calls_offered``,
        ``calls_handled``, ``calls_abandoned``, ``avg_speed_of_answer_seconds``,
        ``service_level``), as ``testkit.tricky_cells`` gives them."""
        days = tuple(
            Day(
                day,
                int(f["calls_offered"]),
                int(f["calls_handled"]),
                int(f["calls_abandoned"]),
                float(f["avg_speed_of_answer_seconds"]),
                float(f["service_level"]),
                0,
            )
            for day, f in sorted(figures.items())
        )
        return cls(name, file_name, data, days, **options)


# --- zip packages ------------------------------------------------------------------------


def zip_bytes(members: Sequence[tuple[str, bytes]], *, stored: Sequence[str] = ()) -> bytes:
    """A zip of ``members`` in order, deflated (those named in ``stored`` stored), with
    fixed timestamps so the same input gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class Namespaces:
    """The namespaces of one OOXML flavour."""

    main: str
    relationships: str
    """The ``r:`` namespace and the prefix of relationship types."""
    strict: bool = False


TRANSITIONAL = Namespaces(
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
)
STRICT = Namespaces(
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
    strict=True,
)
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def prefix_tags(xml: str, prefix: str, namespace: str) -> str:
    """Every element of ``xml`` in ``prefix:`` (the default namespace declaration becomes
    ``xmlns:prefix``), the way the Open XML SDK writes parts."""
    xml = re.sub(r"<(/?)(?![?!])(?![A-Za-z_][\w.-]*:)([A-Za-z_])", rf"<\1{prefix}:\2", xml)
    return xml.replace(f'xmlns="{namespace}"', f'xmlns:{prefix}="{namespace}"')


@dataclass(frozen=True)
class NumberFormat:
    """A custom or built-in number format, and the cell style (``s``) that uses it."""

    style: int
    format_id: int
    code: str | None = None


GENERAL = 0
DATE_STYLE = NumberFormat(1, 164, "yyyy-mm-dd")
PERCENT_STYLE = NumberFormat(2, 9)
SECONDS_STYLE = NumberFormat(3, 165, "0.00")
COUNT_STYLE = NumberFormat(4, 3)
STYLES = (DATE_STYLE, PERCENT_STYLE, SECONDS_STYLE, COUNT_STYLE)


def styles_xml(ns: Namespaces = TRANSITIONAL, formats: Sequence[NumberFormat] = STYLES) -> str:
    custom = [f for f in formats if f.code is not None]
    num_fmts = "".join(
        f'<numFmt numFmtId="{f.format_id}" formatCode="{escape(f.code or "")}"/>' for f in custom
    )
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    for f in sorted(formats, key=lambda f: f.style):
        xfs.append(
            f'<xf numFmtId="{f.format_id}" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>'
        )
    return (
        f'{XML_HEAD}<styleSheet xmlns="{ns.main}">'
        + (f'<numFmts count="{len(custom)}">{num_fmts}</numFmts>' if custom else "")
        + '<fonts count="1"><font><sz val="10"/><name val="Arial"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def shared_strings_xml(items: Sequence[str], ns: Namespaces = TRANSITIONAL) -> str:
    """``items`` are the ``<si>`` bodies, written as given (plain ``<t>`` or runs)."""
    return (
        f'{XML_HEAD}<sst xmlns="{ns.main}" count="{len(items)}" uniqueCount="{len(items)}">'
        + "".join(f"<si>{item}</si>" for item in items)
        + "</sst>"
    )


def plain(text: str) -> str:
    """A shared string's body: one ``<t>``, spaces kept where they matter."""
    keep = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<t{keep}>{escape(text)}</t>"


def xlsx_package(
    sheet_xml: str,
    *,
    ns: Namespaces = TRANSITIONAL,
    sheet_name: str = SHEET,
    shared_strings: Sequence[str] | None = None,
    styles: str | None = None,
    prefix: str | None = None,
    application: str = "Microsoft Excel",
    workbook_extra: str = "",
) -> bytes:
    """An `.xlsx` package around one worksheet's XML: content types, relationships,
    workbook, styles, optional shared strings and app properties; with ``prefix`` every
    SpreadsheetML part's elements are written in that prefix."""
    rel_type = f"{ns.relationships}/" if ns.strict else f"{TRANSITIONAL.relationships}/"
    styles = styles if styles is not None else styles_xml(ns)
    workbook = (
        f'{XML_HEAD}<workbook xmlns="{ns.main}" xmlns:r="{ns.relationships}"'
        + (' conformance="strict"' if ns.strict else "")
        + f">{workbook_extra}<sheets>"
        f'<sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts: dict[str, str] = {
        "xl/workbook.xml": workbook,
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/styles.xml": styles,
    }
    book_rels = [
        f'<Relationship Id="rId1" Type="{rel_type}worksheet" Target="worksheets/sheet1.xml"/>',
        f'<Relationship Id="rId2" Type="{rel_type}styles" Target="styles.xml"/>',
    ]
    overrides = [
        f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEETML}.sheet.main+xml"/>',
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="{SPREADSHEETML}.worksheet+xml"/>',
        f'<Override PartName="/xl/styles.xml" ContentType="{SPREADSHEETML}.styles+xml"/>',
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>',
    ]
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings_xml(shared_strings, ns)
        book_rels.append(
            f'<Relationship Id="rId3" Type="{rel_type}sharedStrings" Target="sharedStrings.xml"/>'
        )
        overrides.append(
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{SPREADSHEETML}.sharedStrings+xml"/>'
        )
    if prefix is not None:
        parts = {name: prefix_tags(xml, prefix, ns.main) for name, xml in parts.items()}
    extended = (
        "http://purl.oclc.org/ooxml/officeDocument/extendedProperties"
        if ns.strict
        else "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
    )
    members = [
        (
            "[Content_Types].xml",
            f'{XML_HEAD}<Types xmlns="{CONTENT_TYPES}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(overrides)
            + "</Types>",
        ),
        (
            "_rels/.rels",
            f'{XML_HEAD}<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{rel_type}officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{rel_type}extendedProperties" '
            'Target="docProps/app.xml"/></Relationships>',
        ),
        (
            "docProps/app.xml",
            f'{XML_HEAD}<Properties xmlns="{extended}"><Application>{escape(application)}'
            "</Application></Properties>",
        ),
        (
            "xl/_rels/workbook.xml.rels",
            f'{XML_HEAD}<Relationships xmlns="{PACKAGE_RELS}">'
            + "".join(book_rels)
            + "</Relationships>",
        ),
        *parts.items(),
    ]
    return zip_bytes([(name, xml.encode("utf-8")) for name, xml in members])


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def worksheet_xml(sheet_data: str, *, ns: Namespaces = TRANSITIONAL, head: str = "") -> str:
    return (
        f'{XML_HEAD}<worksheet xmlns="{ns.main}" xmlns:r="{ns.relationships}">'
        f"{head}<sheetData>{sheet_data}</sheetData></worksheet>"
    )


def _number(value: float) -> str:
    return repr(value) if value != int(value) else str(int(value))


# --- LibreOffice Calc ----------------------------------------------------------------------

LIBREOFFICE_ROW = (
    'customFormat="false" ht="12.8" hidden="false" customHeight="false" outlineLevel="0" '
    'collapsed="false"'
)


def libreoffice_xlsx(days: Sequence[Day]) -> bytes:
    """What LibreOffice Calc saves as "Excel 2007-365": shared strings (the header's
    ``CallsOffered`` in two rich-text runs, ``Date`` with a preserved trailing space),
    every row with its attributes, ``<cols>`` up to column 1025, the Date column as a
    ``TEXT()`` formula whose cached result is text (``t="str"``), CallsAbandoned as a
    formula with ``t="n"`` and its cached value."""
    strings = [
        plain("Date "),
        '<r><rPr><b val="true"/><sz val="10"/><rFont val="Arial"/><family val="2"/></rPr>'
        '<t>Calls</t></r><r><rPr><sz val="10"/><rFont val="Arial"/><family val="2"/></rPr>'
        '<t xml:space="preserve">Offered</t></r>',
        *(plain(h) for h in HEADER[2:]),
    ]
    header = "".join(f'<c r="{column_letter(i)}1" s="0" t="s"><v>{i}</v></c>' for i in range(7))
    rows = [f'<row r="1" {LIBREOFFICE_ROW}>{header}</row>']
    for n, d in enumerate(days, start=2):
        rows.append(
            f'<row r="{n}" {LIBREOFFICE_ROW}>'
            f'<c r="A{n}" s="0" t="str"><f>TEXT(DATE({d.day.year};{d.day.month};{d.day.day});'
            f'"YYYY-MM-DD")</f><v>{d.day.isoformat()}</v></c>'
            f'<c r="B{n}" s="0" t="n"><v>{d.offered}</v></c>'
            f'<c r="C{n}" s="0" t="n"><v>{d.handled}</v></c>'
            f'<c r="D{n}" s="0" t="n"><f>B{n}-C{n}-{d.offered - d.handled - d.abandoned}</f>'
            f"<v>{d.abandoned}</v></c>"
            f'<c r="E{n}" s="3" t="n"><v>{_number(d.speed)}</v></c>'
            f'<c r="F{n}" s="2" t="n"><v>{_number(d.service_level)}</v></c>'
            f'<c r="G{n}" s="0" t="n"><v>{d.bi_id}</v></c>'
            "</row>"
        )
    head = (
        '<sheetPr filterMode="false"><pageSetUpPr fitToPage="false"/></sheetPr>'
        f'<dimension ref="A1:G{len(days) + 1}"/>'
        '<sheetViews><sheetView showFormulas="false" showGridLines="true" '
        'tabSelected="true" zoomScale="100" workbookViewId="0"><selection pane="topLeft" '
        'activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultColWidth="11.53515625" defaultRowHeight="12.8" '
        'zeroHeight="false" outlineLevelRow="0" outlineLevelCol="0"/>'
        '<cols><col collapsed="false" customWidth="false" hidden="false" outlineLevel="0" '
        'max="1025" min="1" style="0" width="11.52"/></cols>'
    )
    return xlsx_package(
        worksheet_xml("".join(rows), head=head),
        shared_strings=strings,
        application="LibreOffice/7.6.4.1$Linux_X86_64 LibreOffice_project/e19e193f88cd",
    )


# --- streaming writers ---------------------------------------------------------------------


def streamed_xlsx(days: Sequence[Day]) -> bytes:
    """What streaming writers emit: every string inline (``t="inlineStr"``), rows and
    cells without ``r`` (their position is their order), ``spans``, explicit ``t="n"``,
    a header with a trailing ``Notes`` column that only some rows fill, rows that stop
    before ``BI_ID`` (an optional column), and an empty row between the data rows; one
    header in rich-text runs inside ``<is>``."""

    def inline(text: str) -> str:
        return f'<c t="inlineStr"><is><t>{escape(text)}</t></is></c>'

    head = [inline(h) for h in (*HEADER, "Notes")]
    head[2] = (
        '<c t="inlineStr"><is><r><t>Calls</t></r><r><rPr><b/></rPr><t>Handled</t></r></is></c>'
    )
    rows = ['<row spans="1:8">' + "".join(head) + "</row>"]
    for n, d in enumerate(days):
        cells = [
            f'<c s="1" t="n"><v>{d.serial}</v></c>',
            f'<c t="n"><v>{d.offered}</v></c>',
            f"<c><v>{d.handled}</v></c>",
            f'<c t="n"><v>{d.abandoned}</v></c>',
            f'<c t="n"><v>{_number(d.speed)}</v></c>',
            f'<c t="n"><v>{_number(d.service_level)}</v></c>',
        ]
        if n % 2 == 0:
            cells.append(f'<c t="n"><v>{d.bi_id}</v></c>')
        if n % 3 == 0:
            if n % 2:
                cells.append("<c/>")
            cells.append(inline(f"checked {n}"))
        rows.append(f'<row spans="1:{len(cells)}">' + "".join(cells) + "</row>")
        if n == 1:
            rows.append("<row/>")
    return xlsx_package(worksheet_xml("".join(rows)), application="xlsx streaming writer")


# --- Google Sheets -------------------------------------------------------------------------


def google_sheets_xlsx(days: Sequence[Day]) -> bytes:
    """Google Sheets' "Download as .xlsx": shared strings, styles with custom number
    formats (the date ``yyyy-mm-dd``, counts ``#,##0``, seconds ``0.00``), service level
    stored as 0.85 under the built-in ``0%``, every cell with ``r`` and ``s``."""
    strings = [plain(h) for h in HEADER]
    header = "".join(f'<c r="{column_letter(i)}1" s="0" t="s"><v>{i}</v></c>' for i in range(7))
    rows = [f'<row r="1">{header}</row>']
    for n, d in enumerate(days, start=2):
        rows.append(
            f'<row r="{n}">'
            f'<c r="A{n}" s="{DATE_STYLE.style}"><v>{d.serial}</v></c>'
            f'<c r="B{n}" s="{COUNT_STYLE.style}"><v>{d.offered}</v></c>'
            f'<c r="C{n}" s="{COUNT_STYLE.style}"><v>{d.handled}</v></c>'
            f'<c r="D{n}" s="{COUNT_STYLE.style}"><v>{d.abandoned}</v></c>'
            f'<c r="E{n}" s="{SECONDS_STYLE.style}"><v>{_number(d.speed)}</v></c>'
            f'<c r="F{n}" s="{PERCENT_STYLE.style}"><v>{_number(d.service_level)}</v></c>'
            f'<c r="G{n}" s="0"><v>{d.bi_id}</v></c>'
            "</row>"
        )
    head = (
        '<sheetPr><outlinePr summaryBelow="0" summaryRight="0"/></sheetPr>'
        '<sheetFormatPr customHeight="1" defaultColWidth="12.63" defaultRowHeight="15.75"/>'
        '<cols><col customWidth="1" min="1" max="7" width="18.88"/></cols>'
    )
    return xlsx_package(
        worksheet_xml("".join(rows), head=head),
        shared_strings=strings,
        application="Google Sheets",
    )


# --- Excel ---------------------------------------------------------------------------------

EXCEL_ROW = 'spans="1:7" x14ac:dyDescent="0.25"'


LONG_DATE = NumberFormat(1, 166, "[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy")
"""Excel's "Long Date" (the system's, ``[$-F800]``): ``Friday, March 01, 2019``."""


def excel_xlsx(
    days: Sequence[Day], *, date_format: NumberFormat = LONG_DATE, total_row: bool = False
) -> bytes:
    """What Excel for Microsoft 365 saves: ``mc:Ignorable`` namespaces, ``x14ac:dyDescent``
    on every row, dates under a locale-tagged format (the system's long date by default),
    floats with 17 significant digits (``0.84999999999999998``), and CallsAbandoned as one
    shared formula (``<f t="shared" ref=... si="0">`` in its first cell,
    ``<f t="shared" si="0"/>`` in the others, over a helper column H without a header) with
    cached values; in the header, a phonetic run (``<rPh>``, Japanese Excel) after ``Date``
    and a line break typed in the cell (``Calls_x000D_\\nOffered``). With ``total_row``,
    a "Total" row under the data with ``SUBTOTAL`` formulas, as an Excel table's is."""
    header = "".join(f'<c r="{column_letter(i)}1" t="s"><v>{i}</v></c>' for i in range(7))
    rows = [f'<row r="1" {EXCEL_ROW}>{header}</row>']
    last = len(days) + 1
    for n, d in enumerate(days, start=2):
        rest = d.offered - d.handled - d.abandoned
        formula = (
            f'<f t="shared" ref="D2:D{last}" si="0">B2-C2-H2</f>'
            if n == 2
            else '<f t="shared" si="0"/>'
        )
        rows.append(
            f'<row r="{n}" {EXCEL_ROW}>'
            f'<c r="A{n}" s="{DATE_STYLE.style}"><v>{d.serial}</v></c>'
            f'<c r="B{n}"><v>{d.offered}</v></c><c r="C{n}"><v>{d.handled}</v></c>'
            f'<c r="D{n}">{formula}<v>{d.abandoned}</v></c>'
            f'<c r="E{n}" s="{SECONDS_STYLE.style}"><v>{d.speed:.17g}</v></c>'
            f'<c r="F{n}" s="{PERCENT_STYLE.style}"><v>{d.service_level:.17g}</v></c>'
            f'<c r="G{n}"><v>{d.bi_id}</v></c><c r="H{n}" s="{GENERAL}"><v>{rest}</v></c></row>'
        )
    if total_row:
        n = last + 1
        sums = "".join(
            f'<c r="{col}{n}"><f>SUBTOTAL(109,{col}2:{col}{last})</f><v>{total}</v></c>'
            for col, total in zip(
                "BCD",
                (
                    sum(d.offered for d in days),
                    sum(d.handled for d in days),
                    sum(d.abandoned for d in days),
                ),
                strict=True,
            )
        )
        rows.append(
            f'<row r="{n}" {EXCEL_ROW}><c r="A{n}" t="s"><v>{len(HEADER)}</v></c>{sums}</row>'
        )
    sheet = (
        f'{XML_HEAD}<worksheet xmlns="{TRANSITIONAL.main}" xmlns:r="{TRANSITIONAL.relationships}"'
        ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
        ' mc:Ignorable="x14ac xr xr2 xr3"'
        ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
        ' xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"'
        ' xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2"'
        ' xmlns:xr3="http://schemas.microsoft.com/office/spreadsheetml/2016/revision3"'
        ' xr:uid="{00000000-0001-0000-0000-000000000000}">'
        f'<dimension ref="A1:H{last}"/><sheetViews><sheetView tabSelected="1" '
        'workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15" '
        'x14ac:dyDescent="0.25"/>'
        f"<sheetData>{''.join(rows)}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        'footer="0.3"/></worksheet>'
    )
    formats = (date_format, *(f for f in STYLES if f.style != date_format.style))
    return xlsx_package(
        sheet,
        shared_strings=[
            '<t>Date</t><rPh sb="0" eb="4"><t>\u30d2\u30c5\u30b1</t></rPh><phoneticPr fontId="1"/>',
            '<t xml:space="preserve">Calls_x000D_\nOffered</t>',
            *(plain(h) for h in (*HEADER[2:], "Total")),
        ],
        styles=styles_xml(formats=formats),
    )


def text_figures_xlsx(days: Sequence[Day]) -> bytes:
    """A system's export pasted into a workbook as text: every value a shared string as it
    was displayed (``2019-03-01``, ``1,037``, ``18.25``, ``85%``), as Excel keeps numbers
    stored as text."""
    strings: list[str] = list(HEADER)
    for d in days:
        strings += [
            d.day.isoformat(),
            f"{d.offered:,}",
            f"{d.handled:,}",
            f"{d.abandoned:,}",
            _number(d.speed),
            f"{d.service_level * 100:.0f}%",
            str(d.bi_id),
        ]
    index: dict[str, int] = {}
    for text in strings:
        index.setdefault(text, len(index))  # position in the table, first use first
    rows = []
    for r in range(len(days) + 1):
        cells = "".join(
            f'<c r="{column_letter(c)}{r + 1}" t="s"><v>{index[strings[r * 7 + c]]}</v></c>'
            for c in range(7)
        )
        rows.append(f'<row r="{r + 1}">{cells}</row>')
    return xlsx_package(worksheet_xml("".join(rows)), shared_strings=[plain(t) for t in index])


# --- Strict OOXML and prefixed tags --------------------------------------------------------


def _plain_rows(days: Sequence[Day], *, iso_dates: bool) -> str:
    header = "".join(f'<c r="{column_letter(i)}1" t="s"><v>{i}</v></c>' for i in range(7))
    rows = [f'<row r="1" spans="1:7">{header}</row>']
    for n, d in enumerate(days, start=2):
        date_cell = (
            f'<c r="A{n}" s="1" t="d"><v>{d.day.isoformat()}T00:00:00</v></c>'
            if iso_dates
            else f'<c r="A{n}" s="1"><v>{d.serial}</v></c>'
        )
        rows.append(
            f'<row r="{n}" spans="1:7">{date_cell}'
            f'<c r="B{n}"><v>{d.offered}</v></c><c r="C{n}"><v>{d.handled}</v></c>'
            f'<c r="D{n}"><v>{d.abandoned}</v></c><c r="E{n}"><v>{_number(d.speed)}</v></c>'
            f'<c r="F{n}" s="2"><v>{_number(d.service_level)}</v></c>'
            f'<c r="G{n}"><v>{d.bi_id}</v></c></row>'
        )
    return "".join(rows)


def strict_xlsx(days: Sequence[Day], *, iso_dates: bool = False) -> bytes:
    """Excel's "Strict Open XML Spreadsheet": every part in the ``purl.oclc.org``
    namespaces, ``conformance="strict"``; with ``iso_dates`` the dates as ISO 8601 text in
    ``t="d"`` cells, as Strict allows."""
    return xlsx_package(
        worksheet_xml(_plain_rows(days, iso_dates=iso_dates), ns=STRICT),
        ns=STRICT,
        shared_strings=[plain(h) for h in HEADER],
        styles=styles_xml(STRICT),
    )


def prefixed_xlsx(
    days: Sequence[Day], *, prefix: str = "x", ns: Namespaces = TRANSITIONAL
) -> bytes:
    """The Open XML SDK's spelling: every SpreadsheetML element prefixed
    (``<x:worksheet xmlns:x="...">``, ``<x:row>``, ``<x:c>``, ``<x:si>``)."""
    return xlsx_package(
        worksheet_xml(_plain_rows(days, iso_dates=False), ns=ns),
        ns=ns,
        shared_strings=[plain(h) for h in HEADER],
        styles=styles_xml(ns),
        prefix=prefix,
        application="Open XML SDK",
    )


# --- LibreOffice .ods ----------------------------------------------------------------------

ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
)


def _ods_cell(kind: str, value: str, shown: str, *, repeated: int = 1, style: str = "") -> str:
    attrs = f' table:number-columns-repeated="{repeated}"' if repeated > 1 else ""
    attrs += f' table:style-name="{style}"' if style else ""
    if kind == "string":
        return (
            f'<table:table-cell{attrs} office:value-type="string" calcext:value-type="string">'
            f"<text:p>{escape(shown)}</text:p></table:table-cell>"
        )
    key = {"date": "office:date-value"}.get(kind, "office:value")
    return (
        f'<table:table-cell{attrs} office:value-type="{kind}" {key}="{value}" '
        f'calcext:value-type="{kind}"><text:p>{escape(shown)}</text:p></table:table-cell>'
    )


def libreoffice_ods(days: Sequence[Day], *, headed: bool = False) -> bytes:
    """LibreOffice Calc's `.ods`: dates as ``office:date-value``, the service level as a
    ``percentage`` (0.85, shown 85%), adjacent equal values in one cell with
    ``table:number-columns-repeated`` (handled equal to offered on days nobody hung up),
    the empty rest of each row and the sheet's remaining rows as repeated cells and rows,
    an empty row between the data. With ``headed``: a title merged across the columns
    above the header (``table:number-columns-spanned`` and ``covered-table-cell``), header
    text with ``<text:s/>`` and ``<text:span>``, CallsAbandoned as a formula
    (``table:formula``) with its cached value."""
    rows = []
    if headed:
        rows.append(
            '<table:table-row table:style-name="ro1"><table:table-cell '
            'table:number-columns-spanned="7" table:number-rows-spanned="1" '
            'office:value-type="string" calcext:value-type="string">'
            "<text:p>3-1-1 Contact Centre \u2013 daily figures</text:p></table:table-cell>"
            '<table:covered-table-cell table:number-columns-repeated="6"/>'
            '<table:table-cell table:number-columns-repeated="1017"/></table:table-row>'
        )
        spelled = {
            "CallsOffered": "Calls <text:s/>Offered",
            "CallsHandled": '<text:span text:style-name="T1">Calls</text:span>Handled',
        }
        cells = "".join(
            '<table:table-cell office:value-type="string" calcext:value-type="string">'
            f"<text:p>{spelled.get(h, h)}</text:p></table:table-cell>"
            for h in HEADER
        )
    else:
        cells = "".join(_ods_cell("string", "", h) for h in HEADER)
    rows.append(
        f'<table:table-row table:style-name="ro1">{cells}'
        '<table:table-cell table:number-columns-repeated="1017"/></table:table-row>'
    )
    for n, d in enumerate(days):
        row_number = len(rows) + 1
        counts = (
            _ods_cell("float", str(d.offered), f"{d.offered}", repeated=2)
            if d.offered == d.handled
            else _ods_cell("float", str(d.offered), f"{d.offered}")
            + _ods_cell("float", str(d.handled), f"{d.handled}")
        )
        abandoned = _ods_cell("float", str(d.abandoned), f"{d.abandoned}")
        if headed:
            rest = d.offered - d.handled - d.abandoned
            abandoned = abandoned.replace(
                "<table:table-cell ",
                f'<table:table-cell table:formula="of:=[.B{row_number}]-[.C{row_number}]-{rest}" ',
                1,
            )
        rows.append(
            '<table:table-row table:style-name="ro1">'
            + _ods_cell("date", d.day.isoformat(), d.day.isoformat(), style="ce1")
            + counts
            + abandoned
            + _ods_cell("float", _number(d.speed), f"{d.speed:.2f}")
            + _ods_cell(
                "percentage",
                _number(d.service_level),
                f"{d.service_level * 100:.0f}%",
                style="ce2",
            )
            + _ods_cell("float", str(d.bi_id), str(d.bi_id))
            + '<table:table-cell table:number-columns-repeated="1017"/></table:table-row>'
        )
        if n == 2:
            rows.append(
                '<table:table-row table:style-name="ro1">'
                '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
            )
    used = len(rows)
    rows.append(
        f'<table:table-row table:style-name="ro1" table:number-rows-repeated="{1048576 - used}">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    content = (
        f'{XML_HEAD}<office:document-content {ODS_NAMESPACES} office:version="1.3">'
        "<office:automatic-styles>"
        '<number:date-style style:name="N37" number:automatic-order="true">'
        '<number:year number:style="long"/><number:text>-</number:text>'
        '<number:month number:style="long"/><number:text>-</number:text>'
        '<number:day number:style="long"/></number:date-style>'
        '<number:percentage-style style:name="N11"><number:number number:decimal-places="0" '
        'number:min-decimal-places="0" number:min-integer-digits="1"/>'
        "<number:text>%</number:text></number:percentage-style>"
        '<style:style style:name="ro1" style:family="table-row"/>'
        '<style:style style:name="ce1" style:family="table-cell" '
        'style:parent-style-name="Default" style:data-style-name="N37"/>'
        '<style:style style:name="ce2" style:family="table-cell" '
        'style:parent-style-name="Default" style:data-style-name="N11"/>'
        "</office:automatic-styles><office:body><office:spreadsheet>"
        f'<table:table table:name="{escape(SHEET)}" table:style-name="ta1">'
        '<table:table-column table:number-columns-repeated="1024" '
        'table:default-cell-style-name="Default"/>'
        + "".join(rows)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        f'{XML_HEAD}<manifest:manifest {ODS_NAMESPACES} manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    styles = (
        f'{XML_HEAD}<office:document-styles {ODS_NAMESPACES} office:version="1.3">'
        "<office:styles/></office:document-styles>"
    )
    return zip_bytes(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", content.encode()),
            ("styles.xml", styles.encode()),
            ("META-INF/manifest.xml", manifest.encode()),
        ],
        stored=("mimetype",),
    )


# --- legacy .xls ---------------------------------------------------------------------------


def excel97_xls(days: Sequence[Day]) -> bytes:
    """An Excel 97-2003 `.xls` (xlwt): dates as serials under ``yyyy-mm-dd``, counts under
    ``#,##0``, the service level under ``0%``, a second sheet of notes before the data."""
    book = xlwt.Workbook(encoding="utf-8")
    about = book.add_sheet("About")
    about.write(0, 0, "Source: 3-1-1 contact centre, daily figures")
    sheet = book.add_sheet(SHEET)
    styles: Mapping[str, xlwt.XFStyle] = {
        code: xlwt.easyxf(num_format_str=code) for code in ("yyyy-mm-dd", "#,##0", "0%", "0.00")
    }
    for column, name in enumerate(HEADER):
        sheet.write(0, column, name)
    for n, d in enumerate(days, start=1):
        sheet.write(n, 0, d.serial, styles["yyyy-mm-dd"])
        for column, value in enumerate((d.offered, d.handled, d.abandoned), start=1):
            sheet.write(n, column, value, styles["#,##0"])
        sheet.write(n, 4, d.speed, styles["0.00"])
        sheet.write(n, 5, d.service_level, styles["0%"])
        sheet.write(n, 6, d.bi_id)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- CSV ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvDialect:
    """How a spreadsheet tool saves CSV."""

    delimiter: str = ","
    line_end: str = "\r\n"
    encoding: str = "utf-8"
    bom: bool = False
    thousands: bool = False
    """Counts shown with a thousands separator (quoted when it is the delimiter)."""
    percent: bool = False
    """The service level as displayed under ``0%`` (``85%``), not 0.85."""
    title: str | None = None
    """A title row above the header (a sheet with a heading, saved as CSV)."""
    sep_line: bool = False
    """Excel's ``sep=;`` first line, which tells Excel the delimiter on opening."""


def spreadsheet_csv(days: Sequence[Day], dialect: CsvDialect) -> bytes:
    """The days as CSV the way a tool writes what its cells display."""
    sep = dialect.delimiter

    def quote(text: str) -> str:
        return f'"{text}"' if sep in text or '"' in text else text

    def count(value: int) -> str:
        return quote(f"{value:,}") if dialect.thousands else str(value)

    lines = [f"sep={sep}"] if dialect.sep_line else []
    if dialect.title is not None:
        lines.append(quote(dialect.title) + sep * (len(HEADER) - 1))
    lines.append(sep.join(HEADER))
    for d in days:
        level = f"{d.service_level * 100:.0f}%" if dialect.percent else _number(d.service_level)
        lines.append(
            sep.join(
                [
                    d.day.isoformat(),
                    count(d.offered),
                    count(d.handled),
                    count(d.abandoned),
                    _number(d.speed),
                    level,
                    str(d.bi_id),
                ]
            )
        )
    text = dialect.line_end.join(lines) + dialect.line_end
    return (b"\xef\xbb\xbf" if dialect.bom else b"") + text.encode(dialect.encoding)


WRITERS: Mapping[str, Callable[[Sequence[Day]], bytes]] = {
    "libreoffice_xlsx": libreoffice_xlsx,
    "excel_xlsx": excel_xlsx,
    "text_figures_xlsx": text_figures_xlsx,
    "streamed_xlsx": streamed_xlsx,
    "google_sheets_xlsx": google_sheets_xlsx,
    "strict_xlsx": strict_xlsx,
    "prefixed_xlsx": prefixed_xlsx,
    "libreoffice_ods": libreoffice_ods,
    "excel97_xls": excel97_xls,
}
"""The writers that take days only, by name."""
