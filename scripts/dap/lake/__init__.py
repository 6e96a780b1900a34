"""Where each zone is written: storage (a local folder or s3:// buckets), the landing and
raw zones with their manifests (:mod:`dap.lake.load`), the audit record of every load
(:mod:`dap.lake.audit`) and the Glue catalog (:mod:`dap.lake.catalog`). The curated and
trusted zones are dbt's (``models/``)."""
