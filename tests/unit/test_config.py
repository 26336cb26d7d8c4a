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
    with pytest.raises(ConfigError, match="cfg.yaml: not valid YAML"):
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
