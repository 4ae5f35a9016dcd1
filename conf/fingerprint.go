package conf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// Fingerprint identifies what the configuration makes the engines do: a
// hash of their effective settings (Engines) for an interface without an
// [[interface]] entry and for each entry, by name, with the routing table
// and which interfaces run. A checkpoint (global.state-file) is restored
// only into a daemon with the same fingerprint: state learned under other
// timers, SSM range, RPs or interfaces is not trusted. Keys that change
// nothing the engines do (paths, log level, global.restart-grace,
// global.state-max-age), a key written with its default or inherited
// value, and the order of the entries leave it as it is.
func (c *Config) Fingerprint() string {
	type entry struct {
		Name    string
		Engines Engines
	}
	fp := struct {
		Table             uint32
		DefaultInterfaces DefaultInterfaces
		Default           Engines
		Interfaces        []entry
	}{Table: c.Global.MRTTable, DefaultInterfaces: c.Global.DefaultInterfaces, Default: c.Engines(Link{})}
	for _, ifc := range c.Interfaces {
		e := c.Engines(Link{Name: ifc.Name})
		e.PIM = fp.Default.PIM // router-wide: hashed once
		fp.Interfaces = append(fp.Interfaces, entry{ifc.Name, e})
	}
	slices.SortFunc(fp.Interfaces, func(a, b entry) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.Marshal(fp)
	if err != nil {
		// The settings are plain values; a field JSON cannot encode is a
		// programming error that the tests catch.
		panic("conf: Fingerprint: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
