# Schemathesis hooks for hostile-fuzzing.test.ts.
#
# Schemathesis sends the same Idempotency-Key (such as "0") with different
# bodies. The API refuses that with 422, as the IETF Idempotency-Key draft
# says, and the fuzzer, which knows nothing of keys bound to bodies, calls it
# "schema-valid request rejected". Only that one refusal is dropped; every
# other failure, any other 422 included, stands.
import schemathesis

MISMATCH = "Idempotency-Key was already used with a different request body"


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    key_reused = (
        getattr(failure, "code", None) == "ST202"
        and response.status_code == 422
        and "idempotency-key" in {name.lower() for name in (case.headers or {})}
        and MISMATCH in response.text
    )
    return not key_reused
