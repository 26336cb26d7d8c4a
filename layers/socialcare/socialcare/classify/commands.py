"""`socialcare train | classify | evaluate`: build, use and measure a mention classifier model."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from socialcare.classify.base import ClassifierError
from socialcare.classify.train import LABELS, label_of


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train a classifier model from labelled JSONL (or from a stack's cases)")
    p.add_argument(
        "--data",
        action="append",
        metavar="FILE.jsonl",
        help='labelled JSONL (repeatable): "text" plus any of ' + ", ".join(LABELS),
    )
    p.add_argument("--out", metavar="MODEL", help="where to write the model artifact")
    p.add_argument("--labels", default=",".join(LABELS), help="comma-separated labels to train (default: all found)")
    p.add_argument(
        "--tune",
        default="",
        metavar="LABELS",
        help="comma-separated labels whose per-class offsets are tuned by 5-fold cross-validation "
        "for accuracy + macro-F1 (slower; e.g. sentiment,department)",
    )
    p.add_argument(
        "--brand-heads",
        action="store_true",
        help="a brand's own heads, trained on its own mentions: keep every word (the multilingual "
        "sentiment head drops words seen once, for size)",
    )
    p.set_defaults(func=_train)

    p = subparsers.add_parser(
        "graft", help="add one head of a model (e.g. a brand's own sentiment) to another model under a new name"
    )
    p.add_argument("--base", required=True, metavar="MODEL", help="the general model")
    p.add_argument("--donor", required=True, metavar="MODEL", help="the model whose head is added")
    p.add_argument("--head", required=True, help="the donor's head, e.g. sentiment")
    p.add_argument("--as", dest="as_name", required=True, help="its name in the result, e.g. brand_sentiment")
    p.add_argument("--out", required=True, metavar="MODEL")
    p.set_defaults(func=_graft)

    p = subparsers.add_parser("classify", help="tag JSONL mentions with a trained model")
    p.add_argument("--model", required=True, metavar="MODEL")
    p.add_argument("--input", metavar="FILE.jsonl", help='JSONL with "text" (default: standard input)')
    p.add_argument("--config", metavar="BRAND.yaml", help="brand configuration whose rules apply on top")
    p.set_defaults(func=_classify)

    p = subparsers.add_parser("evaluate", help="accuracy, macro-F1 and confusion tables on labelled JSONL")
    p.add_argument("--model", required=True, metavar="MODEL")
    p.add_argument("--data", action="append", required=True, metavar="FILE.jsonl")
    p.add_argument("--config", metavar="BRAND.yaml", help="brand configuration whose rules apply on top")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=_evaluate)


def read_jsonl(stream: IO[bytes], source: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, object or None, error or None) per line; bad UTF-8 is replaced, not fatal."""
    for n, raw in enumerate(stream, start=1):
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            yield n, None, "blank line"
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"{source}:{n}: not JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict):
            yield n, None, f"{source}:{n}: expected a JSON object"
            continue
        yield n, obj, None


def _records(paths: list[str]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                for _, obj, err in read_jsonl(fh, path):
                    if obj is not None:
                        out.append(obj)
                    elif err != "blank line":
                        print(f"skipped {err}", file=sys.stderr)
        except OSError as exc:
            raise ClassifierError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return out


def _classifier(model_path: str, config_path: str | None) -> Any:
    from socialcare.classify.trained import ModelClassifier, load_model

    model = load_model(Path(model_path))
    if config_path:
        from socialcare.config import ConfigError, load_config

        try:
            config = load_config(config_path)
        except ConfigError as exc:
            raise ClassifierError(str(exc)) from exc
    else:
        config = config_for_model(model)
    return ModelClassifier(config, model)


def config_for_model(model: Any) -> Any:
    """A neutral brand configuration for a bare model: its own departments, no rules."""
    from socialcare.config import BrandConfig

    head = model.head("department")
    names = list(head.classes) if head is not None else ["general"]
    return BrandConfig.model_validate(
        {
            "brand": str(model.meta.get("brand") or "model"),
            "default_department": names[0],
            "departments": [{"name": n} for n in names],
            "sla": {"first_response_s": 3600, "next_update_s": 14400, "resolution_s": 172800},
        }
    )


def _train(args: argparse.Namespace) -> int:
    from socialcare.classify.train import BRAND_HEADS, DEFAULT_HEADS, TrainParams, train
    from socialcare.errors import UsageError

    if not args.data or not args.out:
        raise UsageError(
            "train needs --data FILE.jsonl and --out MODEL (or --from-cases to learn from a stack's cases)"
        )
    try:
        records = _records(args.data)
        labels = [x.strip() for x in args.labels.split(",") if x.strip()]
        unknown = sorted(set(labels) - set(LABELS))
        if unknown:
            print(f"unknown labels {unknown}; choose from {list(LABELS)}", file=sys.stderr)
            return 2
        tune = tuple(x.strip() for x in args.tune.split(",") if x.strip())
        params = TrainParams(heads=dict(BRAND_HEADS if args.brand_heads else DEFAULT_HEADS), tune=tune)
        blob = train(records, params, labels=labels, meta={"data": [Path(p).name for p in args.data]})
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_bytes(blob)
    except ClassifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = {name: sum(label_of(r, name) is not None for r in records) for name in labels}
    print(
        f"wrote {args.out} ({len(blob) / 1e6:.2f} MB) from {len(records)} rows; labelled rows: "
        + ", ".join(f"{k}={v}" for k, v in counts.items() if v)
    )
    return 0


def _graft(args: argparse.Namespace) -> int:
    from socialcare.classify.train import graft

    try:
        blob = graft(_read(args.base), _read(args.donor), args.head, args.as_name)
    except ClassifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_bytes(blob)
    print(f"wrote {args.out} ({len(blob) / 1e6:.2f} MB): {args.base} + {args.donor}:{args.head} as {args.as_name}")
    return 0


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ClassifierError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _classify(args: argparse.Namespace) -> int:
    try:
        clf = _classifier(args.model, args.config)
    except ClassifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    failures = 0
    source = args.input or "<stdin>"
    try:
        stream = open(args.input, "rb") if args.input else sys.stdin.buffer  # noqa: SIM115
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    out = sys.stdout
    with stream:
        for n, obj, err in read_jsonl(stream, source):
            if obj is None:
                failures += 1
                out.write(json.dumps({"line": n, "error": err}) + "\n")
                continue
            text = obj.get("text")
            rating = obj.get("rating") if isinstance(obj.get("rating"), int) else None
            tags = clf.classify(text if isinstance(text, str) else "", platform=obj.get("platform"), rating=rating)
            out.write(json.dumps({**obj, "tags": tags.model_dump()}, ensure_ascii=False) + "\n")
    if failures:
        print(f"{failures} line(s) of {source} could not be classified", file=sys.stderr)
    return 1 if failures else 0


def evaluate(clf: Any, records: list[dict[str, Any]], labels: tuple[str, ...] = LABELS) -> dict[str, Any]:
    """Metrics per label over the rows that carry that label (department: rows with a department)."""
    from socialcare.classify.metrics import binary_f1, report

    truth: dict[str, list[str]] = {k: [] for k in labels}
    pred: dict[str, list[str]] = {k: [] for k in labels}
    for r in records:
        wanted = [k for k in labels if label_of(r, k) is not None]
        if not wanted:
            continue
        text = r.get("text")
        rating = r.get("rating") if isinstance(r.get("rating"), int) else None
        tags = clf.classify(text if isinstance(text, str) else "", platform=r.get("platform"), rating=rating)
        for k in wanted:
            truth[k].append(label_of(r, k) or "")
            pred[k].append(getattr(tags, k).value)
    result: dict[str, Any] = {}
    for k in labels:
        if truth[k]:
            rep = report(k, truth[k], pred[k])
            result[k] = rep
            if k == "actionable":
                rep.per_class["_binary_f1_yes"] = {"f1": round(binary_f1(truth[k], pred[k]), 4)}
    return result


def _evaluate(args: argparse.Namespace) -> int:
    try:
        clf = _classifier(args.model, args.config)
        records = _records(args.data)
    except ClassifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result = evaluate(clf, records)
    if not result:
        print("error: no labelled rows to evaluate", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: v.as_dict() for k, v in result.items()}, indent=2))
        return 0
    for _k, rep in result.items():
        extra = rep.per_class.pop("_binary_f1_yes", None)
        print(rep.table())
        if extra:
            print(f"actionable F1 (yes): {extra['f1']:.4f}")
        print()
    return 0
