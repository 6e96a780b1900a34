"""Helpers the test modules share (fixtures are in conftest.py): workbooks, the bad-input
corpus, running dap and dbt, the killed-load driver."""
