// Command etcd is etcd's own server main (go.etcd.io/etcd/server/v3/etcdmain), built in this module
// so that Go's minimal version selection picks the etcd server version that k8s.io/kubernetes
// requires. etcd's own go.mod files carry replace directives, so `go install go.etcd.io/etcd/...@v`
// does not work.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
