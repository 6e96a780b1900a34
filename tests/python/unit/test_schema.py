"""dap.schema.normalise_header: headers match whatever invisible characters they carry."""

from __future__ import annotations

import pytest

from dap.schema import HEADER_INDEX, normalise_header


@pytest.mark.parametrize(
    "header",
    [
        "CallsHandled",
        "callshandled",
        "CALLS_HANDLED",
        " Calls Handled ",
        "Calls\u00a0Handled",  # no-break space
        "Calls\u2009Handled",  # thin space
        "Calls\u202fHandled",  # narrow no-break space
        "Calls\u200bHandled",  # zero-width space
        "\ufeffCallsHandled",  # byte-order mark
        "Calls\u200dHandled\u2060",  # zero-width joiner, word joiner
        "Calls\tHandled\r\n",
        "Calls\u3000Handled",  # ideographic space
        "\uff23\uff41\uff4c\uff4c\uff53Handled",  # full-width letters
    ],
)
def test_invisible_characters_do_not_hide_a_header(header):
    assert HEADER_INDEX[normalise_header(header)].raw_name == "callshandled"


@pytest.mark.parametrize("header", ["Calls Handled %", "CallsHandled2", "Calls-Handled"])
def test_visible_differences_still_count(header):
    assert normalise_header(header) not in HEADER_INDEX
