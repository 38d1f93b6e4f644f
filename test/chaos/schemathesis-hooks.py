# Schemathesis hooks for hostile-fuzzing.test.ts.
#
# Three refusals are right although the fuzzer, which only knows the OpenAPI
# document, calls them "schema-valid request rejected" (ST202); only these
# are dropped, every other failure, any other 400 or 422 included, stands:
#
# - Schemathesis sends the same Idempotency-Key (such as "0") with different
#   bodies. The API refuses that with 422, as the IETF Idempotency-Key draft
#   says.
# - Checks across fields that JSON Schema cannot state (crossFieldRules and
#   the clip's order in crds/video-download.ts): a clip that ends before it
#   starts, a cover in a container that cannot hold one. The document says
#   them in words; the API and the API server refuse them alike.
# - GET /downloads' cursor is opaque: only one the API handed out is valid,
#   which no schema can say; any other string is a 400 naming it.
import schemathesis

MISMATCH = "Idempotency-Key was already used with a different request body"
ACROSS_FIELDS = (
    "clip.endSeconds must be after clip.startSeconds",
    "embed.thumbnail: a WebM file cannot hold a thumbnail",
    "audio files cannot hold a thumbnail",
)
UNKNOWN_CURSOR = "cursor: not a cursor this API handed out"


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    if getattr(failure, "code", None) != "ST202":
        return True
    if response.status_code == 400:
        return UNKNOWN_CURSOR not in response.text
    if response.status_code != 422:
        return True
    key_reused = (
        "idempotency-key" in {name.lower() for name in (case.headers or {})}
        and MISMATCH in response.text
    )
    across_fields = any(message in response.text for message in ACROSS_FIELDS)
    return not (key_reused or across_fields)
