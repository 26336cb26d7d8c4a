"""docs/openapi.json is generated from the API code; this fails when someone forgets to regenerate it.

Regenerate: python -c "import json; from socialcare.agents.api import openapi_document; \
open('docs/openapi.json','w').write(json.dumps(openapi_document(), indent=2, sort_keys=True) + '\\n')"
"""

from __future__ import annotations

import json
from pathlib import Path

from socialcare.agents.api import openapi_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_openapi_document_is_up_to_date():
    assert json.loads(DOC.read_text(encoding="utf-8")) == json.loads(json.dumps(openapi_document()))


def test_openapi_covers_every_action_with_models_and_iam_auth():
    doc = openapi_document()
    actions = {p.rsplit("/", 1)[1] for p in doc["paths"] if p.startswith("/cases/{case_id}/")}
    assert actions == {"claim", "reply", "handoff", "transfer", "wait-customer", "label", "resolve", "reopen"}
    claim = doc["paths"]["/cases/{case_id}/claim"]["post"]
    assert claim["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ClaimRequest")
    assert {"200", "401", "403", "409", "415", "422", "503"} <= set(claim["responses"])
    # One error shape: every error response, the function's and API Gateway's, is an ErrorBody
    for code, response in claim["responses"].items():
        if code != "200":
            assert response["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody"), code
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["security"] == [{"sigv4": []}]
    assert "CaseView" in doc["components"]["schemas"]
