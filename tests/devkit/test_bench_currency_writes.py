"""devkit.bench.currency: DynamoDB writes per command are read from the functions' EMF lines, not assumed."""

from __future__ import annotations

import json
from pathlib import Path

from devkit.bench import currency


def _emf(writes: int) -> str:
    document = {
        "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "ns", "Dimensions": [[]], "Metrics": []}]},
        "DynamoDBWrites": writes,
    }
    return json.dumps(document)


def _log(directory: Path, function: str, texts: list[str]) -> None:
    lines = [f"2026-01-01T00:00:00Z\t{function}\treq-{i}\t{text}\n" for i, text in enumerate(texts)]
    with (directory / f"{function}.log").open("a", encoding="utf-8") as handle:
        handle.writelines(lines)


def test_writes_are_summed_from_emf_lines_per_function(tmp_path: Path) -> None:
    _log(tmp_path, "CurrencyWrite", [_emf(1), '{"message": "command accepted"}', _emf(1), "not json"])
    _log(tmp_path, "CurrencyProjector", [_emf(3), '{"DynamoDBWrites": 9}'])  # the second is no EMF document
    assert currency.dynamodb_writes(tmp_path) == {"CurrencyWrite": 2.0, "CurrencyProjector": 3.0}


def test_writes_per_command_is_the_delta_over_the_commands(tmp_path: Path) -> None:
    _log(tmp_path, "CurrencyWrite", [_emf(1)])
    before = currency.dynamodb_writes(tmp_path)
    _log(tmp_path, "CurrencyWrite", [_emf(1)] * 4)
    _log(tmp_path, "CurrencyProjector", [_emf(2), _emf(2)])
    found = currency.writes_per_command(before, currency.dynamodb_writes(tmp_path), commands=4)
    assert found == {
        "dynamodb_writes_per_command": 2.0,
        "dynamodb_writes_by_function": {"CurrencyWrite": 1.0, "CurrencyProjector": 1.0},
        "dynamodb_writes": 8,
    }
    assert currency.writes_per_command(before, before, commands=0)["dynamodb_writes_per_command"] is None
