package conf

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/pim6sd/pim6sd/pim"
)

// Administrative scope zones of the BSR mechanism (RFC 5059 1.3): the
// [[bsr-zone]] entries. Which ranges, borders and candidacies are good is
// the PIM engine's rule (pim.Config.Validate, pim/zones.go); conf decodes
// the entries, maps them to pim.BSRZone and says what only the file can
// get wrong: an entry without a range, and (with default-interfaces =
// "none") a border interface that has no [[interface]] entry, so never
// runs PIM and was likely misspelt.

// BSRZone is a [[bsr-zone]] entry: a scope zone this router is in.
type BSRZone struct {
	// Range is the zone's group range (required): an IPv6 multicast
	// prefix of /16 or longer with a scope between 3 and d, such as
	// ff15::/16 (site-local).
	Range netip.Prefix
	// Border are the interfaces at the zone's border, by name: the zone's
	// Bootstrap messages, Joins and listeners never cross them. Empty: the
	// router is inside the zone on every interface.
	Border []string
	// Candidate makes the router a Candidate-BSR of the zone, with
	// Address (required then), Priority and HashMaskLength as in [bsr]
	// (64 and 126 by default).
	Candidate      bool
	Address        netip.Addr
	Priority       uint8
	HashMaskLength uint8
}

var bsrZoneFields = []field[BSRZone]{
	{"range", func(d *decoder, n node, v any, z *BSRZone) {
		if p, ok := d.prefix(n, v); ok {
			z.Range = p
		}
	}},
	{"border", func(d *decoder, n node, v any, z *BSRZone) {
		a, ok := d.array(n, v)
		if !ok {
			return
		}
		names := []string{}
		for i, e := range a {
			if name, ok := d.ifaceName(d.index(n, i), e); ok {
				names = append(names, name)
			}
		}
		z.Border = names
	}},
	{"candidate", func(d *decoder, n node, v any, z *BSRZone) {
		if x, ok := d.boolean(n, v); ok {
			z.Candidate = x
		}
	}},
	{"address", func(d *decoder, n node, v any, z *BSRZone) {
		if a, ok := d.address(n, v, true); ok {
			z.Address = a
		}
	}},
	uint8Field("priority", func(z *BSRZone) *uint8 { return &z.Priority }),
	uint8Field("hash-mask-length", func(z *BSRZone) *uint8 { return &z.HashMaskLength }),
}

// ifaceName decodes an interface name: not empty, at most 15 bytes (the
// limit of a Linux interface name), no '/', ':' or white space, not "."
// or "..".
func (d *decoder) ifaceName(n node, v any) (string, bool) {
	s, ok := d.str(n, v)
	switch {
	case !ok:
	case s == "":
		d.errorf(n, "must not be empty")
	case len(s) > 15:
		d.errorf(n, "%q is longer than 15 bytes, the limit of a Linux interface name", s)
	case s == "." || s == ".." || strings.ContainsAny(s, "/: \t\n\r\v\f"):
		d.errorf(n, "%q is not a valid interface name", s)
	default:
		return s, true
	}
	return "", false
}

// bsrZones decodes the [[bsr-zone]] array at n.
func (d *decoder) bsrZones(n node, v any, c *Config) {
	ts, ok := d.tables(n, v, "bsr-zone")
	if !ok {
		return
	}
	def := pim.DefaultCandidateBSR()
	for i, m := range ts {
		zn := d.index(n, i)
		z := BSRZone{Priority: def.Priority, HashMaskLength: def.HashMaskLen}
		decodeTable(d, zn, m, "bsr-zone", bsrZoneFields, &z)
		if _, ok := m["range"]; !ok {
			d.errorf(zn, "missing range")
			d.errKeys[d.at(zn, "range").path] = true // the engine would say it too
		}
		c.BSRZones = append(c.BSRZones, z)
	}
}

// checkBorders refuses, when only [[interface]] entries run
// (default-interfaces = "none"), a border interface without one: it never
// runs PIM, so the name is most likely a typing mistake.
func (d *decoder) checkBorders(c *Config) {
	if c.Global.DefaultInterfaces != NoInterfaces {
		return
	}
	zones := d.at(node{}, "bsr-zone")
	for i, z := range c.BSRZones {
		bn := d.at(d.index(zones, i), "border")
		for j, name := range z.Border {
			if _, ok := c.Interface(name); !ok {
				d.errorf(d.index(bn, j), `%q has no [[interface]] entry: with default-interfaces = "none" it never runs PIM`, name)
			}
		}
	}
}

// bsrZonesConfig puts the zones in the PIM router's configuration.
func (c *Config) bsrZonesConfig(pc *pim.Config) {
	for _, z := range c.BSRZones {
		bz := pim.BSRZone{Range: z.Range, Border: slices.Clone(z.Border)}
		if z.Candidate {
			bz.CandidateBSR = &pim.CandidateBSR{Addr: z.Address, Priority: z.Priority, HashMaskLen: z.HashMaskLength}
		}
		pc.BSRZones = append(pc.BSRZones, bz)
	}
}

// zonesAsIfCandidates returns the zones with every candidacy on, so that
// check judges a zone's candidate settings before they are switched on
// (as for [bsr]).
func zonesAsIfCandidates(zs []BSRZone) []BSRZone {
	zs = slices.Clone(zs)
	for i := range zs {
		zs[i].Candidate = true
	}
	return zs
}

// zoneAddressOff reports whether a problem is the missing address of a
// zone's candidacy that is off: not one (only the address may be missing
// while it is off).
func zoneAddressOff(c *Config, p problem) bool {
	tmpl, idx := splitField(p.field)
	if tmpl != "BSRZones[].CandidateBSR.Addr" || len(idx) != 1 || idx[0] >= len(c.BSRZones) {
		return false
	}
	z := c.BSRZones[idx[0]]
	return !z.Candidate && !z.Address.IsValid()
}

// equalBSRZones reports whether a and b are the same zones.
func equalBSRZones(a, b []BSRZone) bool {
	return slices.EqualFunc(a, b, func(x, y BSRZone) bool {
		return x.Range == y.Range && slices.Equal(x.Border, y.Border) && x.Candidate == y.Candidate &&
			x.Address == y.Address && x.Priority == y.Priority && x.HashMaskLength == y.HashMaskLength
	})
}
