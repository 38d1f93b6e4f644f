// kstatus-of reads one Kubernetes object as JSON on stdin and prints, as JSON,
// the status kstatus computes for it: what Flux, kpt and Config Sync see when
// they wait on an applied resource. The tests run it on real objects.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type output struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	// As the API machinery decodes objects: whole numbers as int64, which kstatus reads.
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(data); err != nil {
		fail("stdin is not a Kubernetes object as JSON: %v", err)
	}
	result, err := status.Compute(object)
	if err != nil {
		fail("kstatus: %v", err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(output{Status: result.Status.String(), Message: result.Message}); err != nil {
		fail("writing stdout: %v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kstatus-of: "+format+"\n", args...)
	os.Exit(2)
}
