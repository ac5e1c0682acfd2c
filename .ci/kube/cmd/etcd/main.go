// Command etcd is the etcd server that backs the test kube-apiserver, built from
// go.etcd.io/etcd/server/v3 for stoke's integration tests (see docs/testing.md).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
