"""Synthetic workbooks for ``dap sample``, ``make run`` and the tests: deterministic data in
the City's layout, written as real ``.xls`` and ``.xlsx`` files."""
