"""Runtime settings, parsed once from the environment that template.yaml gives each function.

Logic receives these values as arguments; only this module reads os.environ.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field


def _default_config_path() -> str:
    return str(resources.files("socialcare") / "data" / "brand.yaml")


class Settings(BaseModel):
    stack_name: str = "socialcare"
    table_name: str = "socialcare"
    mentions_queue_url: str = ""
    escalation_queue_url: str = ""
    # Department queues are named "<prefix><department>"; their URLs derive from the mentions queue URL.
    department_queue_prefix: str = "socialcare-dept-"
    event_bus_name: str = "socialcare"
    escalation_topic_arn: str = ""
    state_machine_arn: str = ""
    config_path: str = Field(default_factory=_default_config_path)
    departments: list[str] = Field(default_factory=list)
    sla_scale: float = Field(default=1.0, gt=0)
    # The template's ManagedClassifier parameter on the router ("none", "comprehend", "bedrock"): which
    # managed classifier its role may call. None where unknown (other functions, the CLI).
    managed_classifier: str | None = None
    # "mentions=URL,ingest=URL,department=URL": only the console's ops overview counts and redrives them.
    dead_letter_queues: dict[str, str] = Field(default_factory=dict)

    def department_queue_url(self, department: str) -> str:
        base = self.mentions_queue_url.rsplit("/", 1)[0]
        return f"{base}/{self.department_queue_prefix}{department}"


_ENV = {
    "stack_name": "STACK_NAME",
    "table_name": "TABLE_NAME",
    "mentions_queue_url": "MENTIONS_QUEUE_URL",
    "escalation_queue_url": "ESCALATION_QUEUE_URL",
    "department_queue_prefix": "DEPARTMENT_QUEUE_PREFIX",
    "event_bus_name": "EVENT_BUS_NAME",
    "escalation_topic_arn": "ESCALATION_TOPIC_ARN",
    "state_machine_arn": "STATE_MACHINE_ARN",
    "config_path": "BRAND_CONFIG_PATH",
    "departments": "DEPARTMENTS",
    "sla_scale": "SLA_SCALE",
    "managed_classifier": "MANAGED_CLASSIFIER",
    "dead_letter_queues": "DEAD_LETTER_QUEUES",
}


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    values: dict[str, object] = {}
    for field, var in _ENV.items():
        if env.get(var):
            raw = env[var]
            if field == "departments":
                values[field] = [d.strip() for d in raw.split(",") if d.strip()]
            elif field == "dead_letter_queues":
                values[field] = dict(p.strip().split("=", 1) for p in raw.split(",") if "=" in p)
            else:
                values[field] = raw
    return Settings.model_validate(values)


@functools.cache
def get_settings() -> Settings:
    return settings_from_env()


def project_root() -> Path:
    """The checkout that holds template.yaml (the CLI may run from anywhere inside it)."""
    env = os.environ.get("SOCIALCARE_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in [Path.cwd(), *Path.cwd().parents, *here.parents]:
        if (parent / "template.yaml").exists() and (parent / "functions").is_dir():
            return parent
    raise FileNotFoundError("cannot find template.yaml; run from the socialcare checkout or set SOCIALCARE_ROOT")
