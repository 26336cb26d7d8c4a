from __future__ import annotations

import pytest
from socialcare.config import ConfigError, load_config, parse_config
from socialcare.settings import settings_from_env

MINIMAL = """
brand: Test
default_department: billing
sla: {first_response_s: 10, next_update_s: 20, resolution_s: 100}
departments:
  - name: billing
"""


def test_minimal_configuration_loads():
    config = parse_config(MINIMAL)
    assert config.department_names == ["billing"]


def test_unknown_department_is_a_clear_startup_error():
    text = MINIMAL + "rules:\n  - pattern: refund\n    department: finance\n"
    with pytest.raises(ConfigError, match="unknown department 'finance'"):
        parse_config(text)


def test_configured_department_without_a_queue_fails_at_startup():
    config = parse_config(MINIMAL)
    with pytest.raises(ConfigError, match=r"\['billing'\] are configured but have no queue"):
        config.check_deployed(["support"])


def test_invalid_yaml_and_bad_sla_are_reported_with_the_source():
    with pytest.raises(ConfigError, match=r"cfg.yaml:1:9: not valid YAML"):
        parse_config("brand: [", source="cfg.yaml")
    with pytest.raises(ConfigError, match="first_response_s must not exceed resolution_s"):
        parse_config(MINIMAL.replace("resolution_s: 100", "resolution_s: 5"))


def test_overlay_extends_the_packaged_brand(tmp_path):
    base = settings_from_env({}).config_path
    overlay = tmp_path / "fast.yaml"
    overlay.write_text(f"extends: {base}\nsla: {{first_response_s: 1, next_update_s: 2, resolution_s: 9}}\n")
    config = load_config(str(overlay))
    assert config.sla.first_response_s == 1
    assert "baggage" in config.department_names


def test_packaged_brand_matches_the_template_departments():
    from pathlib import Path

    from socialcare.local.template import load_sam

    sam = load_sam(Path(__file__).resolve().parents[2] / "template.yaml")
    deployed = sam["Globals"]["Function"]["Environment"]["Variables"]["DEPARTMENTS"].split(",")
    load_config(settings_from_env({}).config_path).check_deployed(deployed)


def test_unknown_keys_name_their_path_and_the_nearest_valid_key():
    # Given a configuration with a typo at the top level and one inside a department's SLA
    text = MINIMAL.replace("departments:", "departmnets:\n  - name: x\ndepartments:") + (
        "    sla: {first_respons_s: 1, next_update_s: 2, resolution_s: 3}\n"
    )
    # When it is parsed
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="brand.yaml")
    # Then one message names each key path and suggests the key that was meant
    message = str(caught.value)
    assert "\n" not in message and message.startswith("brand.yaml: ")
    assert "departmnets: unknown key; did you mean 'departments'?" in message
    assert "departments[0].sla.first_respons_s: unknown key; did you mean 'first_response_s'?" in message


def test_a_yaml_error_gives_file_line_and_column_in_one_line():
    text = MINIMAL + "rules:\n  - pattern: refund\n    department: [billing\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="brand.yaml")
    message = str(caught.value)
    assert message.startswith("brand.yaml:10:") and "not valid YAML" in message and "\n" not in message


def test_problems_a_parsing_configuration_can_still_have():
    # Given sources without a secret or with an unknown region, and an acknowledgement for no department
    text = MINIMAL + (
        "regions:\n  - {name: eu, includes: [DE, FR]}\n"
        "sources:\n"
        "  - {id: x-search, platform: x, query: brand, region: DE}\n"
        "  - {id: news, platform: rss, feed_url: 'https://example.com/feed', region: mars, secret: 'ssm:/a'}\n"
        "acknowledgements:\n  - {department: finance}\n"
    )
    config = parse_config(text)
    # When it is checked against a deployment that has no billing queue
    problems = config.problems(deployed=["support"])
    # Then each problem is named
    assert any("['billing'] are configured but have no queue" in p for p in problems)
    assert any(p.startswith("source x-search: x needs `secret:`") for p in problems)
    assert any(p.startswith("source news: region 'mars' is in no configured region") for p in problems)
    assert any("acknowledgement for unknown department 'finance'" in p for p in problems)
    assert len(problems) == 4
    # And the cold-start check refuses it as one error
    with pytest.raises(ConfigError, match="no queue.*needs `secret:`"):
        config.check_deployed(["support"])


def test_shipped_configurations_pass_the_check_against_the_template():
    from pathlib import Path

    from socialcare.config_check import check_file

    root = Path(__file__).resolve().parents[2]
    shipped = [
        root / "layers/socialcare/socialcare/data/brand.yaml",
        root / "layers/socialcare/socialcare/data/demo/brand.yaml",
    ]
    for path in shipped:
        _config, problems = check_file(str(path), root / "template.yaml")
        assert problems == [], path
