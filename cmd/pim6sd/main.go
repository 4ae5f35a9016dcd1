// Command pim6sd is the IPv6 multicast routing daemon: the MLDv1/MLDv2
// router side and PIM-SM with SSM. See pim6sd(8), docs/ and the example
// configuration etc/pim6sd.toml.
package main

import (
	"os"

	"github.com/pim6sd/pim6sd/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args, os.Stdout, os.Stderr))
}
