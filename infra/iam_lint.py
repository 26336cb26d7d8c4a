"""parliament (an IAM policy linter) over every role policy of the translated template.

Two steps, two environments (parliament pins its own dependencies, like checkov):
  .venv/bin/python infra/iam_lint.py --export FILE         # SAM-translate, resolve intrinsics, write policies
  .parliament-venv/bin/python infra/iam_lint.py FILE       # lint them; exit 1 on an unjustified MEDIUM+
A finding is justified only by an entry in JUSTIFIED (issue, action) with the reason.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (issue, action or "*") -> why the finding does not apply here
JUSTIFIED: dict[tuple[str, str], str] = {
    ("RESOURCE_STAR", "*"): (
        "APIs without resource-level permissions (log delivery, PutMetricData with a namespace condition, X-Ray, "
        "Comprehend's detect calls); asserted in tests/unit/security/test_template_posture.py"
    ),
    ("RESOURCE_MISMATCH", "bedrock:InvokeModel"): (
        "the foundation-model ARN is AWS's own format; the model id's version suffix (...-v1:0) holds a colon "
        "that parliament reads as an extra ARN field"
    ),
}
SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "MUTE"]


def export(path: Path) -> None:
    sys.path.insert(0, str(ROOT / "layers" / "socialcare"))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from socialcare.local.iam import Resolver, statements_by_role
    from socialcare.local.template import load_sam, parameter_values, prepare

    out = {}
    variants = (
        ("default", {}),
        ("customer-key", {"KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"}),
        ("comprehend", {"ManagedClassifier": "comprehend"}),
        ("bedrock", {"ManagedClassifier": "bedrock"}),
    )
    for label, params in variants:
        cfn = prepare(ROOT, params, "bucket").cfn
        resolver = Resolver(cfn, {}, parameter_values(load_sam(ROOT / "template.yaml"), params), "us-east-1", "sc")
        for role, statements in statements_by_role(cfn, resolver).items():
            out[f"{label}/{role}"] = {"Version": "2012-10-17", "Statement": statements}
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"wrote {len(out)} role policies to {path}")


def lint(path: Path) -> int:
    import parliament

    policies = json.loads(path.read_text(encoding="utf-8"))
    unjustified, shown = 0, set()
    for name, doc in sorted(policies.items()):
        for finding in parliament.analyze_policy_string(json.dumps(doc)).findings:
            severity = parliament.config.get(finding.issue, {}).get("severity", "MEDIUM")
            named = set((finding.location or {}).get("actions", []) or [])
            # RESOURCE_MISMATCH names its action in the detail, not the location
            named |= {d["action"] for d in finding.detail or [] if isinstance(d, dict) and d.get("action")}
            actions = sorted(named) or ["*"]
            why = JUSTIFIED.get((finding.issue, actions[0])) or JUSTIFIED.get((finding.issue, "*"))
            key = (name.split("/", 1)[1], finding.issue, json.dumps(finding.detail, default=str)[:160])
            if key in shown:
                continue
            shown.add(key)
            flag = "justified" if why else ("FAIL" if SEVERITIES.index(severity) <= 2 else "note")
            print(f"{flag:9} {severity:8} {finding.issue} in {name}: {json.dumps(finding.detail, default=str)[:160]}")
            if why:
                print(f"{'':9} {why}")
            elif SEVERITIES.index(severity) <= 2:
                unjustified += 1
    print(f"parliament: {len(policies)} role policies, {unjustified} unjustified MEDIUM or worse findings")
    return 1 if unjustified else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--export"]:
        export(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(lint(Path(sys.argv[1])))
