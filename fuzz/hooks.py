"""
Schemathesis hooks of `npm run fuzz` (fuzz/run.ts passes this file as SCHEMATHESIS_HOOKS).

Two rules of the API lie outside what an OpenAPI document can say, so schema-valid ("positive")
requests drawn from the document alone would break them and be refused with 400, as documented:
- a webhook URL must be a destination this deployment allows (the SSRF guard: resolved addresses,
  WEBHOOK_ALLOW_HTTP, WEBHOOK_*_CIDRS); the fuzz stack resolves no names and allows loopback only;
- an event's `id` and its `Idempotency-Key` header, when both are given, must be the same;
- a webhook's custom header names are case-insensitive (`X-A` and `x-a` are one header, given
  twice), and names and values may total at most 8192 bytes;
- no object in a body has a key `__proto__`, at any depth (src/api/json-body.ts): JSON Schema could
  say it for free-form `data` only with a recursive definition, which the generator cannot follow;
- a webhook's transformation code (and transformation-test's `code`) must compile and define
  `function handler(webhook)` (checked in the sandbox on save);
- a source's secret must be what its provider issues (Standard Webhooks: `whsec_` + base64 that
  decodes), and a PATCH's `hmac` settings and secret depend on the stored source's type.
These hooks make positive requests keep them: every check stays on, and negative requests are sent
as drawn.
"""

import schemathesis

#: A destination the fuzz stack allows (WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8, nothing listens there).
LOOPBACK_URL = "http://127.0.0.1:9/fuzz"
#: Code that compiles and defines handler (src/transformations/).
VALID_CODE = "function handler(webhook) { return webhook; }"
#: A secret every source type takes: Stripe's whsec_ prefix, Standard Webhooks' base64 after it.
ANY_SOURCE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#: CUSTOM_HEADER_LIMITS.totalBytes (src/api/schemas/custom-headers.ts).
HEADERS_TOTAL_BYTES = 8192


def _within_header_rules(headers: dict) -> dict:
    """The headers less any that repeat a name in another case or go over the total size."""
    kept, seen, total = {}, set(), 0
    for name, value in headers.items():
        size = len(name) + (len(value) if isinstance(value, str) else 0)
        if name.lower() in seen or total + size > HEADERS_TOTAL_BYTES:
            continue
        seen.add(name.lower())
        total += size
        kept[name] = value
    return kept


def _without_proto_keys(value):
    if isinstance(value, dict):
        return {k: _without_proto_keys(v) for k, v in value.items() if k != "__proto__"}
    if isinstance(value, list):
        return [_without_proto_keys(v) for v in value]
    return value


def _is_positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not _is_positive(case) or not isinstance(case.body, dict):
        return
    case.body = _without_proto_keys(case.body)
    if "url" in case.body and isinstance(case.body["url"], str) and case.path.startswith("/v1/webhooks"):
        case.body["url"] = LOOPBACK_URL
    if isinstance(case.body.get("headers"), dict) and case.path.startswith("/v1/webhooks"):
        case.body["headers"] = _within_header_rules(case.body["headers"])
    if case.path.startswith("/v1/webhooks"):
        if isinstance(case.body.get("transformation"), dict) and "code" in case.body["transformation"]:
            case.body["transformation"]["code"] = VALID_CODE
        if case.path.endswith("/transformation-test") and "code" in case.body:
            case.body["code"] = VALID_CODE
    if case.path == "/v1/sources" and case.body.get("type") == "standard-webhooks":
        case.body["secret"] = ANY_SOURCE_SECRET
    if case.path.startswith("/v1/sources/") and case.method.upper() == "PATCH":
        case.body.pop("hmac", None)
        if "secret" in case.body:
            case.body["secret"] = ANY_SOURCE_SECRET
    if case.path == "/v1/events" and isinstance(case.body.get("id"), str) and case.headers:
        for name in list(case.headers):
            if name.lower() == "idempotency-key" and case.headers[name] != case.body["id"]:
                case.headers[name] = case.body["id"]
