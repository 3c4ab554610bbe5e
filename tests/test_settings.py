"""``uet.settings``: what a client's ``uet`` section turns into, value by value, and the
VS Code contributions generated from the same class."""

from __future__ import annotations

import json
import subprocess
import sys

from uet.settings import Settings, configuration_contributions, parse_settings


def test_every_kind_of_value_is_checked_and_a_bad_one_falls_back_alone() -> None:
    settings, messages = parse_settings(
        {
            "schemas": {"workstream_spec": "plans/*.yaml", "none": ["a/**", "b/**"]},
            "schemaConventions": False,
            "maxFileSize": 2048.0,  # a whole number written as a float
            "debounce": 5001,
            "exclude": ["build/**", 3],
            "logLevel": "debug",
            "trusted_workspace": True,  # the Python name is accepted too
            "runPriority": "urgent",
        }
    )
    assert settings == Settings(
        schemas={"workstream_spec": ("plans/*.yaml",), "none": ("a/**", "b/**")},
        schema_conventions=False,
        max_file_size=2048,
        log_level="debug",
        trusted_workspace=True,
    )
    assert messages == [
        "invalid setting 'uet.debounce': expected a number from 0 to 5000; using the default",
        "invalid setting 'uet.exclude': expected a list of glob patterns; using the default",
        "invalid setting 'uet.runPriority': expected one of idle, low, normal; using the default",
    ]


def test_values_of_the_wrong_type_are_refused() -> None:
    settings, messages = parse_settings(
        {
            "uet": {
                "schemaConventions": 1,
                "maxFileSize": True,
                "debounce": 1.5,
                "schemas": ["plans/*.yaml"],
                "exclude": "build/**",
            }
        }
    )
    assert settings == Settings()
    assert [message.split(": ")[1] for message in messages] == [
        "expected true or false; using the default",
        "expected a whole number; using the default",
        "expected a whole number; using the default",
        "expected an object; using the default",
        "expected a list of glob patterns; using the default",
    ]


def test_a_number_below_the_minimum_names_it() -> None:
    assert parse_settings({"maxFileSize": 10})[1] == [
        "invalid setting 'uet.maxFileSize': expected a number of at least 1024; using the default"
    ]


def test_null_values_keep_the_default_and_json_special_numbers_are_refused() -> None:
    raw = json.loads('{"debounce": null, "maxFileSize": Infinity, "logLevel": NaN}')
    settings, messages = parse_settings(raw)
    assert settings == Settings()
    assert len(messages) == 2


def test_contributions_describe_each_setting_for_the_editor() -> None:
    contributions = configuration_contributions()
    assert contributions["uet.debounce"] == {
        "default": 150,
        "description": contributions["uet.debounce"]["description"],
        "maximum": 5000,
        "minimum": 0,
        "scope": "resource",
        "type": "integer",
    }
    assert contributions["uet.logLevel"]["enum"] == ["error", "warning", "info", "debug"]
    assert contributions["uet.logLevel"]["scope"] == "window"
    assert contributions["uet.exclude"]["default"] == []
    assert contributions["uet.schemas"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_reading_the_settings_loads_no_model_library() -> None:
    """The server reads settings before its first diagnostics: nothing heavy on that path."""
    code = (
        "import sys\n"
        "from uet.settings import parse_settings\n"
        "parse_settings({'debounce': 20})\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'pydantic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
