"""Lake integrity: the checksums a load records, ``dap verify`` and ``dap repair``.

- :mod:`._register`: the raw-object register (``_audit/raw_objects/``), one row per raw
  Parquet file a load wrote, with its sha256, size, rows and a content fingerprint that
  dbt recomputes from the rows it reads (``tests/assert_raw_files_match_their_register.sql``);
- :mod:`._objects`: an object's sha256, from S3's own checksum where there is one;
- :mod:`._verify`: :func:`verify_lake`, landing, raw, manifests, register and Glue;
- :mod:`._repair`: :func:`repair_extract` (raw files rebuilt from the landing copy, byte
  for byte) and :func:`restore_landing` (a landing copy put back from the original file).

The manifest of every load records the sha256 and size of every object the load wrote
(``landing_object``, ``raw_objects``; :mod:`dap.lake.load`).
"""

from dap.lake.integrity._objects import ObjectState, object_state
from dap.lake.integrity._register import (
    REGISTER,
    REGISTER_PREFIX,
    REGISTER_SCHEMA,
    RawObject,
    ensure_register,
    fingerprint,
    read_register,
)
from dap.lake.integrity._repair import (
    REPAIRS_PREFIX,
    Repair,
    RepairError,
    repair_extract,
    resolve_sha,
    restore_landing,
)
from dap.lake.integrity._verify import (
    DAMAGED,
    NOTE,
    UNFINISHED,
    UNRECORDED,
    Finding,
    Verification,
    verify_lake,
)

__all__ = [
    "DAMAGED",
    "NOTE",
    "REGISTER",
    "REGISTER_PREFIX",
    "REGISTER_SCHEMA",
    "REPAIRS_PREFIX",
    "UNFINISHED",
    "UNRECORDED",
    "Finding",
    "ObjectState",
    "RawObject",
    "Repair",
    "RepairError",
    "Verification",
    "ensure_register",
    "fingerprint",
    "object_state",
    "read_register",
    "repair_extract",
    "resolve_sha",
    "restore_landing",
    "verify_lake",
]
