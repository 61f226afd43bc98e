"""Every `/api` response of a full Symbia flow conforms to Symbia's own
published OpenAPI document (../shared/spec/symbia-openapi.json), so a client
generated from it works against hubbub: each JSON body is validated against
the schema that document gives for its path, method and status (OpenAPI's
`nullable` read as JSON Schema's null type; formats uuid and date-time checked).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from pathlib import Path
from typing import Any

import jsonschema_rs

from tests.integration.symbia import Person, group, person
from tests.support import ServerProcess

# A copy of ../shared/spec/symbia-openapi.json (a clean clone has no ../shared; keep them equal).
SPEC = Path(__file__).resolve().parents[1] / "protocols" / "specs" / "symbia-openapi.json"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema `anyOf [..., null]`."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    def __init__(self) -> None:
        doc = json.loads(SPEC.read_text())
        self.paths: dict[str, Any] = doc["paths"]
        self.components = _nullable(copy.deepcopy(doc["components"]))
        self.checked: list[str] = []

    def schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        for template, ops in self.paths.items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in ops:
                resp = ops[method.lower()]["responses"].get(str(status))
                assert resp is not None, f"{method} {path}: status {status} not in Symbia's spec"
                content = resp.get("content", {}).get("application/json")
                return None if content is None else _nullable(content["schema"])
        raise AssertionError(f"{method} {path} is not in Symbia's spec")

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        schema = self.schema(method, path, status)
        self.checked.append(f"{method} {path} {status}")
        if schema is None:
            return
        root = {**schema, "components": self.components}
        v = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
        errors = [e.message for e in v.iter_errors(body)]
        assert errors == [], f"{method} {path} {status}: {errors[:3]} in {json.dumps(body)[:800]}"


class Checked:
    """A person whose every call is checked against the spec."""

    def __init__(self, p: Person, spec: Spec) -> None:
        self.p, self.spec = p, spec

    async def __call__(self, method: str, path: str, status: int, **kw: Any) -> Any:
        r = await self.p.call(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        body = r.json() if r.content else None
        self.spec.check(method, path, status, body)
        return body


async def test_every_response_conforms_to_symbias_openapi(server: ServerProcess) -> None:
    spec = Spec()
    root_p = await person(server, admin=True)
    owner_p, bob_p = await person(server), await person(server)
    bot_p = await person(server, agent=True)
    root, owner, bob, bot = (Checked(p, spec) for p in (root_p, owner_p, bob_p, bot_p))

    await owner("GET", "/health", 200)
    await owner("GET", "/bootstrap", 200)
    await owner("GET", "/auth/session", 200)
    conv = await owner(
        "POST",
        "/conversations",
        201,
        json={
            "type": "group",
            "name": "conf",
            "description": "d",
            "metadata": {"a": 1},
            "participants": [{"userId": bot_p.user_id, "userType": "agent"}],
        },
    )
    cid = conv["id"]
    await owner("POST", "/conversations", 201, json={"type": "private"})
    await owner("GET", "/conversations", 200)
    await owner("GET", f"/conversations/{cid}", 200)
    await owner("PATCH", f"/conversations/{cid}", 200, json={"name": "conf2"})
    await bob("POST", f"/conversations/{cid}/join", 201)
    run = str(uuid.uuid4())
    sent = await bot(
        "POST",
        f"/conversations/{cid}/messages",
        201,
        json={
            "id": str(uuid.uuid4()),
            "content": "hi",
            "contentType": "text/markdown",
            "runId": run,
            "traceId": "t",
            "priority": "low",
            "interruptible": True,
            "metadata": {"x": None},
        },
    )
    await bob(
        "POST", f"/conversations/{cid}/messages", 201, json={"content": "re", "replyTo": sent["id"]}
    )
    await owner("GET", f"/conversations/{cid}/messages", 200)
    await owner("GET", f"/conversations/{cid}/messages", 200, params={"limit": 1})
    await owner(
        "POST",
        f"/conversations/{cid}/control",
        201,
        json={"event": "stream.pause", "runId": run, "reason": "r"},
    )
    await owner(
        "POST",
        f"/conversations/{cid}/control",
        201,
        json={"event": "stream.preempt", "runId": run, "preemptedBy": str(uuid.uuid4())},
    )
    await root("GET", "/admin/conversations", 200)
    await root("GET", "/admin/conversations", 200, params={"type": "group", "limit": 5})
    await root("GET", f"/admin/conversations/{cid}", 200)
    await root("GET", f"/admin/users/{bob_p.user_id}/conversations", 200)
    await root(
        "POST",
        f"/admin/conversations/{cid}/participants",
        201,
        json={"userId": root_p.user_id, "role": "admin"},
    )
    await root("DELETE", f"/admin/conversations/{cid}/participants/{root_p.user_id}", 204)
    await root("GET", "/admin/stats", 200)
    await owner("POST", f"/conversations/{cid}/participants", 201, json={"userId": root_p.user_id})
    await owner("DELETE", f"/conversations/{cid}/participants/{root_p.user_id}", 204)
    await bob("POST", f"/conversations/{cid}/leave", 204)
    await owner("DELETE", f"/conversations/{cid}", 204)
    other = await group(owner_p)
    await root("DELETE", f"/admin/conversations/{other['id']}", 204)
    await owner("POST", "/auth/logout", 200)
    assert len(spec.checked) >= 25
    for p in (root_p, owner_p, bob_p, bot_p):
        await p.aclose()
