"""Where data enters: download an export, check the file's container, read and type every
cell, scan for personal data. Nothing here writes to the lake (that is :mod:`dap.lake`)."""
