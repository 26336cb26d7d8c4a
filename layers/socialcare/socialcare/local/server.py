"""`socialcare local up` / `local down`: the local stack kept running on loopback for other terminals.

`up` starts moto's threaded server on 127.0.0.1 (Step Functions execution switched on through
POST /moto-api/config), deploys template.yaml into it with the same LocalStack code as the demo and
the tests, runs Lambda handlers in-process (the adapter), and keeps a scheduler thread polling the
loopback X server (fed with the sample mentions, wave by wave) and pumping the mentions queue to the
router. It writes the endpoint and stack name to .local-stack/state.json, where `socialcare agent ...`
finds them, and runs until `local down` (or Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialcare.local.stack import MOTO_CONFIG, REGION, LocalStack
from socialcare.settings import project_root

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class LocalServer:
    stack_name: str = "socialcare"
    port: int = 0
    poll_every_s: float = 2.0
    wave_every_s: float = 20.0
    config_path: str | None = None
    feed_samples: bool = True
    sla_scale: float = 1.0
    console_port: int = 0
    publish_every_s: float = 10.0
    serve_console: bool = True
    root: Path = field(default_factory=project_root)
    stack: LocalStack | None = None
    stats: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _moto: Any = None
    _platform: Any = None
    _console: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_path(self) -> Path:
        from socialcare.agents.connect import state_path

        return state_path(self.root)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> dict[str, Any]:
        import requests
        from moto.server import ThreadedMotoServer

        from socialcare import aws
        from socialcare.assembly import reset_deps
        from socialcare.config_check import require_fit
        from socialcare.local.demo import demo_data_dir
        from socialcare.settings import get_settings

        config = self.config_path or str(demo_data_dir() / "brand.yaml")
        # A bad configuration stops here, before anything says "up" (the check `config check` runs).
        require_fit(config, self.root / "template.yaml")
        self.port = self.port or _free_port()
        # The ASL interpreter's own clients call localhost:$MOTO_PORT; in-process handlers use the endpoint.
        os.environ.update(FAKE_CREDENTIALS, MOTO_PORT=str(self.port), AWS_ENDPOINT_URL=self.endpoint_url)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._moto.start()
        requests.post(f"{self.endpoint_url}/moto-api/config", json=MOTO_CONFIG, timeout=5).raise_for_status()
        aws.reset_clients()
        self.stack = LocalStack(
            stack_name=self.stack_name,
            parameters={"BrandConfigPath": config, "SlaScale": str(self.sla_scale)},
            root=self.root,
        )
        self.stack.deploy()
        os.environ.update(self.stack.environment())
        get_settings.cache_clear()
        reset_deps()
        self._start_scheduler()
        if self.serve_console:
            from socialcare.local.console import ConsoleServer

            names = list(self.stack.outputs.get("Departments", "").split(","))
            self._console = ConsoleServer(
                self.stack, [n.strip() for n in names if n.strip()], port=self.console_port
            ).start()
        self._write_state()
        return self.state()

    def state(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "stack_name": self.stack_name,
            "region": REGION,
            "pid": os.getpid(),
            "outputs": self.stack.outputs if self.stack else {},
            "platform_url": self._platform.base_url if self._platform else None,
            "console_url": self._console.url if self._console else None,
            "started_at": time.time(),
        }

    def _write_state(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2), encoding="utf-8")
        tmp.replace(self.state_path)

    def wait(self) -> None:
        """Blocks until `local down` (SIGTERM) or Ctrl-C."""
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        if self._console is not None:
            self._console.stop()
        if self._platform is not None:
            self._platform.stop()
        if self._moto is not None:
            self._moto.stop()
        for key in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
            os.environ.pop(key, None)
        if self.state_path.exists():
            try:
                if json.loads(self.state_path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    self.state_path.unlink()
            except (OSError, ValueError):
                pass

    # ------------------------------------------------------------------ the scheduler
    def _start_scheduler(self) -> None:
        waves: list[list[dict[str, Any]]] = []
        secret = None
        if self.feed_samples:
            import boto3

            from socialcare.local.demo import load_posts
            from socialcare.local.platform_server import PlatformServer

            token = "local-bearer-token"  # noqa: S105 - the loopback server's fake token
            param = f"/{self.stack_name}/x-bearer"
            boto3.client("ssm", region_name=REGION).put_parameter(
                Name=param, Value=token, Type="SecureString", Overwrite=True
            )
            self._platform = PlatformServer([], token=token).start()
            by_wave: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for post in load_posts(None):
                by_wave[int(post.get("wave", 0))].append(post)
            waves, secret = [by_wave[k] for k in sorted(by_wave)], f"ssm:{param}"
        thread = threading.Thread(target=self._schedule, args=(waves, secret), daemon=True, name="local-scheduler")
        thread.start()
        self._threads.append(thread)

    def _schedule(self, waves: list[list[dict[str, Any]]], secret: str | None) -> None:
        """EventBridge schedules and Lambda's SQS trigger, stood in for: now and then a wave of sample
        posts on the loopback X server; every tick a poll, and the mentions queue pumped to the router."""
        import boto3
        import requests

        from socialcare.ingest.http import Deadline
        from socialcare.ingest.poller import poll_source
        from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink
        from socialcare.ingest.state import DynamoCursorStore
        from socialcare.sources import SourceConfig

        assert self.stack is not None
        out = self.stack.outputs
        poll = None
        if self._platform is not None and secret:
            ddb, sqs = boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)
            source = SourceConfig(
                id="local-x-search",
                platform="x",
                query="@SkylarkAir OR to:SkylarkAir",
                base_url=self._platform.base_url,
                secret=secret,
                backfill_s=7 * 86400,
                page_size=100,
            )
            cursor, seen = DynamoCursorStore(ddb, out["TableName"]), DynamoSeenIndex(ddb, out["TableName"])
            sink = SqsMentionSink(sqs, out["MentionsQueueUrl"])
            dlq = SqsDeadLetterSink(sqs, out["IngestDeadLetterQueueUrl"])
            session = requests.Session()

            def poll() -> int:
                return poll_source(source, session, cursor, sink, Deadline(30), seen=seen, dead_letters=dlq).queued

        next_wave = next_publish = 0.0
        while not self._stop.is_set():
            try:
                if poll is not None:
                    if waves and time.monotonic() >= next_wave:
                        self._platform.add_posts(waves.pop(0))
                        self.stats["waves"] += 1
                        next_wave = time.monotonic() + self.wave_every_s
                    self.stats["queued"] += poll()
                self.stats["routed"] += self.stack.pump("RouteMentionFunction").received
                if "WarnSlaFunction" in self.stack.functions:
                    self.stats["sla_warning_checks"] += self.stack.pump("WarnSlaFunction").received
                if "PublishPostsFunction" in self.stack.functions and time.monotonic() >= next_publish:
                    # Its schedule (rate 5 minutes in AWS), faster here so a scheduled post shows up while watched.
                    self.stack.invoke("PublishPostsFunction", self.stack.scheduled_event("PublishPostsFunction"))
                    self.stats["post_publish_runs"] += 1
                    next_publish = time.monotonic() + self.publish_every_s
            except Exception as exc:  # noqa: BLE001 - a scheduler keeps its schedule; the error is counted
                self.stats["errors"] += 1
                self.stats[f"error:{type(exc).__name__}"] += 1
            self._stop.wait(self.poll_every_s)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def down(root: Path | None = None, *, timeout_s: float = 20.0) -> str:
    """Stops the server that `up` started (the pid in its state file), and says what it did."""
    from socialcare.agents.connect import read_local_state, state_path

    path = state_path(root)
    state = read_local_state(path)
    if not state:
        return "no local stack is running (no .local-stack/state.json)"
    pid = int(state.get("pid", 0))
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return f"the local stack (pid {pid}) had already stopped; removed its state file"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and path.exists():
        time.sleep(0.2)
    path.unlink(missing_ok=True)
    return f"stopped the local stack {state.get('stack_name')} at {state.get('endpoint_url')} (pid {pid})"
