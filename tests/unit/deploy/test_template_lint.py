"""cfn-lint over template.yaml in the default run: a duplicate logical id (YAML keeps only the last) or an
invalid property fails here, not at deploy time."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_template_passes_cfn_lint():
    # Given the template, when cfn-lint reads it, then it reports nothing.
    exe = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([exe, str(ROOT / "template.yaml")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
