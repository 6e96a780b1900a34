"""A local, Athena-compatible endpoint: moto's S3 and Glue, with Athena queries executed.

See `server.AthenaLocal` (the endpoint), `engine.Engine` (what a statement does) and
`dialect` (how Athena SQL is checked and translated to DuckDB).
"""

from athena_local.server import AthenaLocal

__all__ = ["AthenaLocal"]
