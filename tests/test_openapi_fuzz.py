"""Gate: schemathesis over the whole /openapi.json: no 5xx, and every answer's status, media type and body as declared.

Bounded and seeded so it runs in the suite (`pytest -m fuzz` runs just this); YUTANG_FUZZ_EXAMPLES raises the
number of cases per operation for a longer run.
"""

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as st_checks

from tests.helpers.tenants import make_tenant

EXAMPLES = int(os.environ.get("YUTANG_FUZZ_EXAMPLES", "6"))
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance, st_checks.content_type_conformance,
          st_checks.response_schema_conformance, st_checks.response_headers_conformance]
# Tracking endpoints take a source's write key, so they are fuzzed without a member key.
# File uploads: the generated multipart parts do not all survive the trip through httpx; they have their own tests.
UPLOADS = {"/v1/customers/import", "/v1/loyalty/tasks/{task_id}/submissions"}
TRACKING = {"/v1/batch", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"}


def _part(value) -> tuple:
    """A generated multipart value as httpx takes a file: (filename, bytes or text[, content type])."""
    if isinstance(value, tuple):
        name, content, *rest = value
        return (name, content if isinstance(content, bytes | str) else str(content).encode(), *rest)
    return ("f", str(value).encode())


def _fuzz(client, operation, *, headers: dict, cases: Counter, statuses: Counter, failures: dict) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        cases[label] += 1
        try:
            # Sent through the suite's client: schemathesis's own ASGI transport would run (and end) the app's
            # lifespan, stopping the background workers the rest of the suite shares.
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            if isinstance(kwargs.get("data"), dict):  # form fields travel as text
                kwargs["data"] = {k: [str(i) for i in v] if isinstance(v, list) else str(v)
                                  for k, v in kwargs["data"].items()}
            if kwargs.get("files"):
                kwargs["files"] = [(name, _part(value))
                                   for name, value in (kwargs["files"].items() if isinstance(kwargs["files"], dict)
                                                       else kwargs["files"])]
            response = client.request(**kwargs)
            statuses[response.status_code // 100] += 1
            response.request.read()  # multipart bodies are streamed; the checks read the request back
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the first failure of each is shown
            failures.setdefault(label, f"{type(exc).__name__}: {exc}"[:1500])

    run()


@pytest.mark.fuzz
@pytest.mark.slow
def test_every_operation_answers_as_its_schema_says(app, client, database):
    """Each operation gets EXAMPLES generated cases (seeded) sent in process with a workspace owner's key."""
    tenant = make_tenant(database, "Fuzzed brand")
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    failures: dict[str, str] = {}
    cases: Counter = Counter()
    statuses: Counter = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in UPLOADS:
            continue
        headers = {} if operation.path in TRACKING else tenant.headers
        _fuzz(client, operation, headers=headers, cases=cases, statuses=statuses, failures=failures)
    print(f"schemathesis: {sum(cases.values())} cases over {len(cases)} operations, answers by class "
          f"{ {f'{k}xx': v for k, v in sorted(statuses.items())} }, {len(failures)} operations failing")
    assert len(cases) > 100
    assert failures == {}, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
