// Command kube-apiserver is the Kubernetes API server, built from the k8s.io/kubernetes
// module for stoke's integration tests (see docs/testing.md).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	// The blank imports register what the upstream binary registers, so flags such as
	// --logging-format=json and the version metric behave as in a released server.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
