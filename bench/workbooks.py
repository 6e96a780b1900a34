"""The benchmarks' synthetic workbooks, written fast and cached under ``build/bench/``.

Every sheet has the City's export header (``Date, CallsOffered, CallsHandled,
CallsAbandoned, AverageSpeedofAnswer, ServiceLevel, BI_ID``) and rows shaped like the real
data: its 5,585 days, 2024-09-30 back to 2009-06-15 without the two days it misses, newest
first, with the figures :func:`dap.samples.synthetic.generate_day` gives each day. Dates are Excel
dates (serial numbers with a date format), counts integers, speed of answer and service
level floats (4 decimals before 2022, full precision after, like the export's drift).

- :func:`big_workbook`: the loader benchmark's one sheet of a million rows: those days
  repeated until it has its rows (each date about 180 times; the loader lands them as they
  are, deduplication is dbt's job), ``BI_ID`` numbering the rows from 1.
- :func:`extracts`: full-history extracts for the scale benchmark, each those 5,585 days.

openpyxl writing a million rows cell by cell would take minutes, so the sheet's XML is
streamed straight into the zip. A file is rebuilt only when missing or when :data:`FORMAT`
changes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from dap.samples.synthetic import HEADER, generate_day

FORMAT = 2
"""Bump when the bytes written change, so a cached workbook is rebuilt."""
SHEET_NAME = "3-1-1 Contact Centre Metrics"
FIRST_DAY = date(2009, 6, 15)
LAST_DAY = date(2024, 9, 30)
MISSING_DAYS = (date(2010, 3, 7), date(2013, 3, 8))
"""The two days the real dataset does not have."""
EXCEL_EPOCH = date(1899, 12, 30)
ROUNDED_BEFORE_YEAR = 2022
_CHUNK_ROWS = 20_000
_COLUMNS = "ABCDEFG"

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/xl/sharedStrings.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""

_WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name="{SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets></workbook>"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/>\
<Relationship Id="rId3" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" \
Target="sharedStrings.xml"/></Relationships>"""

# Style 1 is the date format yyyy-mm-dd (custom format 164), as the City's export has it.
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
</cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _shared_strings() -> str:
    items = "".join(f"<si><t>{label}</t></si>" for label in HEADER)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(HEADER)}" uniqueCount="{len(HEADER)}">{items}</sst>'
    )


def real_days() -> list[date]:
    """The real dataset's days, newest first: 2024-09-30 back to 2009-06-15, without the
    two days missing from it (5,585 days)."""
    count = (LAST_DAY - FIRST_DAY).days + 1
    days = (LAST_DAY - timedelta(days=i) for i in range(count))
    return [d for d in days if d not in MISSING_DAYS]


def day_templates(days: Sequence[date]) -> list[str]:
    """Each day's row XML, with ``{r}`` for the row number and ``{n}`` for BI_ID."""
    templates: list[str] = []
    for day in days:
        m = generate_day(311, day)
        rounded = day.year < ROUNDED_BEFORE_YEAR
        asa = round(m.asa, 4) if rounded else m.asa
        sl = round(m.service_level, 4) if rounded else m.service_level
        serial = (day - EXCEL_EPOCH).days
        values = (m.offered, m.handled, m.abandoned, repr(asa), repr(sl))
        cells = [f'<c r="A{{r}}" s="1"><v>{serial}</v></c>']
        cells += [
            f'<c r="{letter}{{r}}"><v>{value}</v></c>'
            for letter, value in zip(_COLUMNS[1:6], values, strict=True)
        ]
        cells.append('<c r="G{r}"><v>{n}</v></c>')
        templates.append('<row r="{r}">' + "".join(cells) + "</row>")
    return templates


def write_metrics_workbook(
    path: Path, templates: Sequence[str], rows: int, *, first_bi_id: int = 1
) -> None:
    """Write a one-sheet workbook of ``rows`` data rows under the export's header, row
    ``n`` (from 0) being ``templates[n % len(templates)]`` with BI_ID ``first_bi_id + n``.
    Written to a temporary name and renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/sharedStrings.xml", _shared_strings())
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            header = "".join(
                f'<c r="{letter}1" t="s"><v>{i}</v></c>' for i, letter in enumerate(_COLUMNS)
            )
            sheet.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    f'<dimension ref="A1:G{rows + 1}"/><sheetData>'
                    f'<row r="1">{header}</row>'
                ).encode()
            )
            for start in range(0, rows, _CHUNK_ROWS):
                chunk = [
                    templates[n % len(templates)].format(r=n + 2, n=first_bi_id + n)
                    for n in range(start, min(rows, start + _CHUNK_ROWS))
                ]
                sheet.write("".join(chunk).encode())
            sheet.write(b"</sheetData></worksheet>")
    tmp.replace(path)


def big_workbook(folder: Path, rows: int) -> Path:
    """The loader benchmark's workbook of ``rows`` data rows in ``folder``, written if
    missing: the real span's days, newest first, repeated."""
    path = folder / f"metrics-{rows}-v{FORMAT}.xlsx"
    if not path.is_file():
        write_metrics_workbook(path, day_templates(real_days()), rows)
    return path


def extracts(folder: Path, count: int) -> list[Path]:
    """``count`` full-history extracts (each the real span's 5,585 days, newest first) in
    ``folder``, written if missing, oldest first. Extract ``k`` numbers its rows from
    ``k + 1`` (BI_ID is the row number of the day it was exported, so later exports number
    the same dates differently); the figures are the same, so dbt keeps the newest copy of
    each date and finds no conflict."""
    templates = day_templates(real_days())
    paths: list[Path] = []
    for k in range(count):
        path = folder / f"extract-{k + 1:04d}-v{FORMAT}.xlsx"
        if not path.is_file():
            write_metrics_workbook(path, templates, len(templates), first_bi_id=k + 1)
        paths.append(path)
    return paths
