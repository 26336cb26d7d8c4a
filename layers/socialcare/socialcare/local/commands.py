"""`socialcare demo` (and the local stack commands)."""

from __future__ import annotations

import argparse


def _demo(args: argparse.Namespace) -> int:
    from socialcare.local.demo import run

    report = run(json_output=args.json)
    return 0 if report["lost_mentions"] == 0 else 1


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the whole pipeline end to end on the embedded local stack")
    demo.add_argument("--json", action="store_true", help="end with one JSON object of figures")
    demo.set_defaults(func=_demo)
    register_template(sub)


def _template_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from socialcare.config import load_config
    from socialcare.local.stack import project_root
    from socialcare.settings import settings_from_env
    from socialcare.template_sync import sync

    config = load_config(args.config or settings_from_env().config_path)
    path = Path(args.template) if args.template else project_root() / "template.yaml"
    changed = sync(path, config.department_names, check=args.check)
    if args.check:
        print(f"{path}: {'out of step with' if changed else 'in step with'} the brand configuration")
        return 1 if changed else 0
    print(f"{path}: {'updated for' if changed else 'already has'} departments {', '.join(config.department_names)}")
    return 0


def register_template(sub: argparse._SubParsersAction) -> None:
    template = sub.add_parser("template", help="keep template.yaml in step with the brand configuration")
    tsub = template.add_subparsers(dest="template_command", required=True)
    sync = tsub.add_parser("sync", help="regenerate the per-department queues and alarms in template.yaml")
    sync.add_argument("--config", help="brand configuration (default: the packaged one or BRAND_CONFIG_PATH)")
    sync.add_argument("--template", help="path to template.yaml (default: the checkout's)")
    sync.add_argument("--check", action="store_true", help="only report; exit 1 when out of step")
    sync.set_defaults(func=_template_sync)
