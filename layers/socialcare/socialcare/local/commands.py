"""`socialcare demo` (and the local stack commands)."""

from __future__ import annotations

import argparse


def _demo(args: argparse.Namespace) -> int:
    from socialcare.local.demo import run

    report = run(json_output=args.json)
    return 1 if report["failure"] else 0


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the whole pipeline end to end on the embedded local stack")
    demo.add_argument("--json", action="store_true", help="end with one JSON object of figures")
    demo.set_defaults(func=_demo)
    register_template(sub)
    register_local(sub)


def _local_up(args: argparse.Namespace) -> int:
    import logging
    import warnings

    from socialcare.local.server import LocalServer

    warnings.filterwarnings("ignore")
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from socialcare.local import lambda_adapter
    from socialcare.local.demo import _route_logs

    server = LocalServer(
        stack_name=args.stack,
        port=args.port,
        config_path=args.config,
        feed_samples=not args.no_samples,
        wave_every_s=args.wave_every,
        sla_scale=args.sla_scale,
        console_port=args.console_port,
    )
    log = server.state_path.parent / "local-handlers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    lambda_adapter.route_function_output(log.open("a", encoding="utf-8"))
    _route_logs(lambda_adapter.OUTPUT.stream)
    state = server.start()
    print(
        f"local stack {state['stack_name']} up at {state['endpoint_url']} (pid {state['pid']}); "
        f"state in {server.state_path}",
        flush=True,
    )
    print(f"handler logs: {log}", flush=True)
    if state.get("console_url"):
        print(f"web console: {state['console_url']} (sign in with any name and your departments)", flush=True)
    print("in another terminal: socialcare agent queue baggage   |   stop with: socialcare local down", flush=True)
    try:
        server.wait()
    finally:
        server.stop()
    print(f"local stack stopped; {dict(server.stats)}", flush=True)
    return 0


def _local_down(args: argparse.Namespace) -> int:
    from socialcare.local.server import down

    print(down())
    return 0


def register_local(sub: argparse._SubParsersAction) -> None:
    local = sub.add_parser("local", help="keep a local stack running on loopback for other terminals")
    lsub = local.add_subparsers(dest="local_command", required=True)
    up = lsub.add_parser(
        "up", help="start moto's server, deploy template.yaml, feed sample mentions; runs until `local down`"
    )
    up.add_argument("--stack", default="socialcare", help="stack name (default socialcare)")
    up.add_argument("--port", type=int, default=0, help="loopback port for moto (default: a free one)")
    up.add_argument("--config", default=None, help="brand configuration (default: the demo's seconds-scale brand)")
    up.add_argument("--no-samples", action="store_true", help="do not feed the sample mentions")
    up.add_argument("--wave-every", type=float, default=20.0, help="seconds between waves of sample mentions")
    up.add_argument(
        "--sla-scale",
        type=float,
        default=30.0,
        help="multiplies the demo's seconds-long SLAs so a person at a terminal can keep up (default 30)",
    )
    up.add_argument(
        "--console-port", type=int, default=0, help="loopback port for the web console (default: a free one)"
    )
    up.set_defaults(func=_local_up)
    down = lsub.add_parser("down", help="stop the stack `local up` started")
    down.set_defaults(func=_local_down)


def _template_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from socialcare.config import load_config
    from socialcare.settings import project_root, settings_from_env
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
