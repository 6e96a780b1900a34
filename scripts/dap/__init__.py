"""dap: the loader side of the Vancouver 3-1-1 contact centre data platform.

Data enters here: ``dap fetch`` downloads the City's export, ``dap sample`` writes
synthetic workbooks, ``dap load`` validates workbooks and writes the landing and
raw zones of the lake. Everything after the raw zone is dbt (``models/``).
"""

__version__ = "0.1.0"
