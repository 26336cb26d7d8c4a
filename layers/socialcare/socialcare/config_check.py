"""`socialcare config check FILE`: is this brand configuration fit to deploy with this template?

The same check runs where a configuration comes into use: `socialcare local up` before it says "up",
and every Lambda's cold start (`Deps`), where the deployed departments come from the environment.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from socialcare.config import BrandConfig, ConfigError, load_config


def template_departments(template: Path) -> list[str]:
    """The departments template.yaml deploys: listed in DEPARTMENTS and with a work queue resource."""
    from socialcare.local.template import load_sam
    from socialcare.template_sync import logical_name

    try:
        sam = load_sam(template)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read template {template}: {exc}") from exc
    variables = sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    listed = [d.strip() for d in str(variables.get("DEPARTMENTS", "")).split(",") if d.strip()]
    resources = sam.get("Resources", {})
    return [d for d in listed if f"Dept{logical_name(d)}Queue" in resources]


def check_file(path: str, template: Path | None = None) -> tuple[BrandConfig, list[str]]:
    """The parsed configuration and what is wrong with it against the template (ConfigError when it
    does not parse at all)."""
    from socialcare.settings import project_root

    config = load_config(path)
    template = template or project_root() / "template.yaml"
    return config, config.problems(template_departments(template))


def require_fit(path: str, template: Path | None = None) -> BrandConfig:
    config, problems = check_file(path, template)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return config


def _check(args: argparse.Namespace) -> int:
    from socialcare.errors import Exit

    config, problems = check_file(args.file, Path(args.template) if args.template else None)
    if problems:
        for problem in problems:
            print(f"{args.file}: {problem}")
        return Exit.INVALID_CONFIG
    print(
        f"{args.file}: ok ({len(config.departments)} departments, {len(config.sources)} sources, "
        f"{len(config.regions)} regions)"
    )
    managed = config.classifier.managed_service
    if managed is not None:  # a deploy-time choice the file alone cannot show: say it before the deploy does
        print(f"{args.file}: calls Amazon {managed.capitalize()}: deploy with ManagedClassifier={managed}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="check a brand configuration")
    csub = config.add_subparsers(dest="config_command", required=True)
    check = csub.add_parser("check", help="validate a brand configuration: keys, values, and fit with template.yaml")
    check.add_argument("file", help="brand configuration (YAML)")
    check.add_argument("--template", help="template.yaml to check against (default: the checkout's)")
    check.set_defaults(func=_check)
