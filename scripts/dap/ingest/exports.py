"""The open-data portal's exports of the dataset: their formats and addresses.

Apart from :mod:`dap.ingest.fetch` so that naming them (``dap --help``, ``dap pipeline``)
does not import the HTTP client every command would then pay for (about 0.1 s).
"""

from __future__ import annotations

from typing import Literal, get_args

ExportFormat = Literal["xlsx", "csv", "parquet"]
"""The portal's exports that ``dap load`` reads (the portal's JSON export it does not)."""
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
EXPORTS_URL = (
    "https://opendata.vancouver.ca/api/explore/v2.1/catalog/datasets/"
    "3-1-1-contact-centre-metrics/exports"
)
DEFAULT_URL = f"{EXPORTS_URL}/xlsx"
EXPORT_STEM = "3-1-1-contact-centre-metrics"


def export_url(export_format: ExportFormat = "xlsx") -> str:
    """The portal's export URL for ``export_format``."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
    return f"{EXPORTS_URL}/{export_format}"
