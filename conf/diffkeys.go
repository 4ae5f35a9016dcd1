package conf

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// changedKeys names the keys whose effective value differs from old to
// new, for the reload's log line: "pim.hello-period",
// `interface "eth0".mld.query-interval`, `rp "2001:db8::1".groups`, and
// `interface "eth1" added`, `bsr-zone "ff15::/16" removed`, "anycast-rp
// added" for whole entries. It follows Diff's rules, so that it is empty
// exactly when Diff finds no change apart from RestartNeeded (those keys,
// with their values, are there):
//
//   - A key is compared by its effective value: written with its default
//     (or, in an [[interface]] entry, with the value it inherits), it is no
//     change.
//   - A value the RFCs derive from another (startup-query-interval,
//     hello-holdtime, candidate-rp.holdtime...) is named only when it is
//     not its derived value in old or in new: otherwise the key it derives
//     from is named.
//   - An [[interface]] entry's MLD or PIM key is named where the entry
//     writes it (in old or in new), and only while the protocol runs there
//     in both; what it inherits is named at [mld] or [pim] (or
//     global.ssm-range). Its enable keys say when a protocol starts or
//     stops.
//
// Keys come in the order of the schema: [global], [mld], [pim], the
// interfaces by name, the RPs by address, [bsr], [candidate-rp],
// [embedded-rp], [anycast-rp], [limits], [[bsr-zone]] by range.
func changedKeys(old, new *Config) []string {
	var out []string
	add := func(k string) { out = append(out, k) }

	// [global]: the keys that need a restart are in RestartNeeded.
	diffStruct("global.", old.Global, new.Global, func(f string) bool {
		return f == "MRTTable" || f == "Socket" || f == "PIDFile" || f == "StateFile"
	}, add)

	// [mld] and [pim]: the setting of an interface without an entry.
	diffMLD("mld.", old.mldConfig(nil), new.mldConfig(nil), nil, add)
	diffPIMIf("pim.", old.pimIfConfig(nil, 0), new.pimIfConfig(nil, 0), nil, add)
	op, np := old.PIM, new.PIM
	op.PIMInterface, np.PIMInterface = PIMInterface{}, PIMInterface{}
	diffStruct("pim.", op, np, func(f string) bool { return f == "PIMInterface" }, add)

	var names []string
	for _, c := range []*Config{old, new} {
		for _, ifc := range c.Interfaces {
			names = append(names, ifc.Name)
		}
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		interfaceKeys(old, new, name, add)
	}

	rpKeys(old.RPs, new.RPs, add)
	diffStruct("bsr.", old.BSR, new.BSR, nil, add)
	ocr, ncr := old.CandidateRP, new.CandidateRP
	derived := func(r CandidateRP) bool {
		return r.Holdtime == pim.CandidateRP{Interval: r.Interval}.Derive().Holdtime
	}
	if derived(ocr) && derived(ncr) {
		ocr.Holdtime, ncr.Holdtime = 0, 0
	}
	diffStruct("candidate-rp.", ocr, ncr, nil, add)
	diffStruct("embedded-rp.", old.EmbeddedRP, new.EmbeddedRP, nil, add)
	switch oa, na := old.AnycastRP, new.AnycastRP; {
	case !oa.Enable && na.Enable:
		add("anycast-rp added")
	case oa.Enable && !na.Enable:
		add("anycast-rp removed")
	case oa.Enable:
		diffStruct("anycast-rp.", oa, na, func(f string) bool { return f == "Enable" }, add)
	}
	diffStruct("limits.", old.Limits, new.Limits, nil, add)
	zoneKeys(old.BSRZones, new.BSRZones, add)
	return out
}

// interfaceKeys adds the changed keys of the [[interface]] entry named
// name, in old or new or both.
func interfaceKeys(old, new *Config, name string, add func(string)) {
	p := "interface " + strconv.Quote(name)
	oi, inOld := old.Interface(name)
	ni, inNew := new.Interface(name)
	switch {
	case !inOld:
		add(p + " added")
		return
	case !inNew:
		add(p + " removed")
		return
	}
	if oi.Enable != ni.Enable {
		add(p + ".enable")
	}
	if oi.MLD.Enable != ni.MLD.Enable {
		add(p + ".mld.enable")
	}
	if oi.PIM.Enable != ni.PIM.Enable {
		add(p + ".pim.enable")
	}
	o, n := old.Engines(Link{Name: name}), new.Engines(Link{Name: name})
	if o.RunMLD && n.RunMLD {
		diffMLD(p+".mld.", o.MLD, n.MLD, func(f string) bool { return setIn(oi.MLD, f) || setIn(ni.MLD, f) }, add)
	}
	if o.RunPIM && n.RunPIM {
		diffPIMIf(p+".pim.", o.PIMInterface, n.PIMInterface, func(f string) bool { return setIn(oi.PIM, f) || setIn(ni.PIM, f) }, add)
	}
}

// setIn reports whether the override table o (MLDOverride, PIMOverride)
// writes the field named f.
func setIn(o any, f string) bool {
	v := reflect.ValueOf(o).FieldByName(f)
	return v.IsValid() && v.Kind() == reflect.Pointer && !v.IsNil()
}

// diffMLD adds prefix+key for each MLD setting that differs; with
// written, only for the fields it accepts. A value derived in both is
// left to the key it derives from.
func diffMLD(prefix string, o, n mld.Config, written func(string) bool, add func(string)) {
	derived := func(c mld.Config, f string) bool {
		z := c
		reflect.ValueOf(&z).Elem().FieldByName(f).SetZero()
		return reflect.DeepEqual(z.Derive(), c)
	}
	diffEngine(prefix, o, n, mldKeys, written, func(f string) bool {
		return (f == "StartupQueryInterval" || f == "StartupQueryCount" || f == "LastListenerQueryCount") &&
			derived(o, f) && derived(n, f)
	}, add)
}

// diffPIMIf is diffMLD for the per-interface PIM setting.
func diffPIMIf(prefix string, o, n pim.IfConfig, written func(string) bool, add func(string)) {
	derived := func(c pim.IfConfig, f string) bool {
		z := c
		reflect.ValueOf(&z).Elem().FieldByName(f).SetZero()
		return z.Derive() == c
	}
	diffEngine(prefix, o, n, pimIfKeys, written, func(f string) bool {
		return (f == "HelloHoldtime" || f == "JoinPruneHoldtime") && derived(o, f) && derived(n, f)
	}, add)
}

// diffEngine adds prefix+key for each field of the engine settings o and
// n (structs of one type) that differs and has a key in keys (check.go),
// unless written rejects it or skip takes it.
func diffEngine(prefix string, o, n any, keys map[string]string, written, skip func(string) bool, add func(string)) {
	ov, nv := reflect.ValueOf(o), reflect.ValueOf(n)
	for i := range ov.NumField() {
		f := ov.Type().Field(i).Name
		key := keys[f]
		if key == "" || written != nil && !written(f) || skip(f) {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			add(prefix + key)
		}
	}
}

// diffStruct adds prefix+key for each field of o and n (conf structs of
// one type) that differs, except those skip takes. The key of a field is
// its name in lowercase words joined by "-" (keyName); a test checks each
// against the schema.
func diffStruct(prefix string, o, n any, skip func(string) bool, add func(string)) {
	ov, nv := reflect.ValueOf(o), reflect.ValueOf(n)
	for i := range ov.NumField() {
		f := ov.Type().Field(i).Name
		if skip != nil && skip(f) {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			add(prefix + keyName(f))
		}
	}
}

// keyName turns a Go field name into its key: "HashMaskLength" is
// "hash-mask-length", "MaxRPSet" "max-rp-set", "SSMRange" "ssm-range".
func keyName(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) &&
			(unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// rpKeys adds the changes of the static RPs, by address (an address has
// one entry).
func rpKeys(old, new []RP, add func(string)) {
	var addrs []RP
	addrs = append(append(addrs, old...), new...)
	slices.SortFunc(addrs, func(a, b RP) int { return a.Address.Compare(b.Address) })
	addrs = slices.CompactFunc(addrs, func(a, b RP) bool { return a.Address == b.Address })
	find := func(rs []RP, x RP) (RP, bool) {
		i := slices.IndexFunc(rs, func(r RP) bool { return r.Address == x.Address })
		if i < 0 {
			return RP{}, false
		}
		return rs[i], true
	}
	for _, x := range addrs {
		p := "rp " + strconv.Quote(x.Address.String())
		o, inOld := find(old, x)
		n, inNew := find(new, x)
		switch {
		case !inOld:
			add(p + " added")
		case !inNew:
			add(p + " removed")
		default:
			diffStruct(p+".", o, n, func(f string) bool { return f == "Address" }, add)
		}
	}
}

// zoneKeys adds the changes of the [[bsr-zone]] entries, by range (a
// range has one entry); "bsr-zone order" when they only moved.
func zoneKeys(old, new []BSRZone, add func(string)) {
	var keys []string
	var zones []BSRZone
	zones = append(append(zones, old...), new...)
	slices.SortFunc(zones, func(a, b BSRZone) int {
		if c := a.Range.Addr().Compare(b.Range.Addr()); c != 0 {
			return c
		}
		return a.Range.Bits() - b.Range.Bits()
	})
	zones = slices.CompactFunc(zones, func(a, b BSRZone) bool { return a.Range == b.Range })
	find := func(zs []BSRZone, x BSRZone) (BSRZone, bool) {
		i := slices.IndexFunc(zs, func(z BSRZone) bool { return z.Range == x.Range })
		if i < 0 {
			return BSRZone{}, false
		}
		return zs[i], true
	}
	for _, x := range zones {
		p := "bsr-zone " + strconv.Quote(x.Range.String())
		o, inOld := find(old, x)
		n, inNew := find(new, x)
		switch {
		case !inOld:
			keys = append(keys, p+" added")
		case !inNew:
			keys = append(keys, p+" removed")
		default:
			diffStruct(p+".", o, n, func(f string) bool { return f == "Range" }, func(k string) { keys = append(keys, k) })
		}
	}
	if len(keys) == 0 && !equalBSRZones(old, new) {
		// The same entries in another order.
		keys = append(keys, "bsr-zone order")
	}
	for _, k := range keys {
		add(k)
	}
}
