import json

import pytest
from click.testing import CliRunner

from sambung.cli import main


@pytest.mark.slow
def test_bench_append_prints_one_json_object_of_the_two_rates():
    result = CliRunner().invoke(main, ["bench", "append", "--events", "2001", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == {"events", "rate_first_1000", "rate_last_1000", "ratio"}
    assert figures["events"] == 2001
    assert figures["rate_first_1000"] > 0 and figures["rate_last_1000"] > 0
    assert figures["ratio"] == pytest.approx(
        figures["rate_last_1000"] / figures["rate_first_1000"], rel=0.01
    )
    assert "side by side" in result.stderr


def test_bench_append_needs_room_for_two_windows():
    result = CliRunner().invoke(main, ["bench", "append", "--events", "1500"])
    assert result.exit_code == 2
    assert "1500 is not in the range x>=2001" in result.output
