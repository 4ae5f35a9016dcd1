package conf

import (
	"errors"
	"github.com/pim6sd/pim6sd/internal/engine"
	"maps"
	"strconv"
	"strings"
)

// The engines own the rules of their settings (mld.Config.Validate,
// pim.IfConfig.Validate, pim.Config.Validate). check builds the settings a
// file gives with the functions Engines uses, asks the engines, and puts
// each of their FieldErrors at the key and line the value came from. It
// reads no message text: an engine names the field (a Go path) and the
// other fields its message mentions, and the tables below give their keys.

// mldKeys are the keys of the fields of mld.Config in an [mld] or
// [interface.mld] table.
var mldKeys = map[string]string{
	"Version":                      "version",
	"Robustness":                   "robustness",
	"QueryInterval":                "query-interval",
	"QueryResponseInterval":        "query-response-interval",
	"StartupQueryInterval":         "startup-query-interval",
	"StartupQueryCount":            "startup-query-count",
	"StartupQueryResponseInterval": "startup-query-response-interval",
	"LastListenerQueryInterval":    "last-listener-query-interval",
	"LastListenerQueryCount":       "last-listener-query-count",
	"MaxGroups":                    "max-groups",
	"MaxSources":                   "max-sources",
	// global.ssm-range: reported once, from the PIM router's
	// configuration, whose rule for it is the same.
	"SSMRange[]": "",
}

// pimIfKeys are the keys of the fields of pim.IfConfig in a [pim] or
// [interface.pim] table.
var pimIfKeys = map[string]string{
	"HelloPeriod":         "hello-period",
	"HelloHoldtime":       "hello-holdtime",
	"TriggeredHelloDelay": "triggered-hello-delay",
	"DRPriority":          "dr-priority",
	"PropagationDelay":    "propagation-delay",
	"OverrideInterval":    "override-interval",
	"JoinPrunePeriod":     "join-prune-period",
	"JoinPruneHoldtime":   "join-prune-holdtime",
	// Not settings: the MTU is the link's (Link), and the T bit of the
	// LAN Prune Delay option stays off.
	"TrackingSupport": "",
	"MTU":             "",
}

// pimKeys are the keys of the fields of pim.Config, from the top of the
// file. "[]" stands for an index, the same in the field and the key.
var pimKeys = map[string]string{
	"SSMRange":                 "global.ssm-range",
	"SSMRange[]":               "global.ssm-range[]",
	"RPs[].Addr":               "rp[].address",
	"RPs[].Groups[]":           "rp[].groups[]",
	"RPs[].Override":           "rp[].override",
	"SPT":                      "pim.spt-switch",
	"KeepalivePeriod":          "pim.keepalive-period",
	"RegisterSuppressionTime":  "pim.register-suppression-time",
	"RegisterProbeTime":        "pim.register-probe-time",
	"AssertTime":               "pim.assert-time",
	"MaxRoutes":                "limits.max-routes",
	"MaxNeighbors":             "limits.max-neighbors-per-interface",
	"CandidateBSR.Addr":        "bsr.address",
	"CandidateBSR.Priority":    "bsr.priority",
	"CandidateBSR.HashMaskLen": "bsr.hash-mask-length",
	"CandidateRP.Addr":         "candidate-rp.address",
	"CandidateRP.Priority":     "candidate-rp.priority",
	"CandidateRP.Holdtime":     "candidate-rp.holdtime",
	"CandidateRP.Interval":     "candidate-rp.interval",
	"CandidateRP.Groups":       "candidate-rp.groups",
	"CandidateRP.Groups[]":     "candidate-rp.groups[]",
	"BootstrapPeriod":          "bsr.period",
	"EmbeddedRP":               "embedded-rp.enable",
	"MaxEmbeddedRPGroups":      "embedded-rp.max-groups",
	"MaxRPSet":                 "bsr.max-rp-set",
	"AnycastRP.Addr":           "anycast-rp.address",
	"AnycastRP.Members":        "anycast-rp.members",
	"AnycastRP.Members[]":      "anycast-rp.members[]",
	// Not settings: the daemon's randomness; the counter interval,
	// derived from pim.keepalive-period and good whenever that is; the
	// Register rate limit, the engine's default.
	"Rand":             "",
	"ActivityInterval": "",
	"MaxRegisterRate":  "",
	// Administrative scope zones ([[bsr-zone]], bsrzone.go); the most
	// zones known at once is the engine's default.
	"BSRZones[].Range":                    "bsr-zone[].range",
	"BSRZones[].Border[]":                 "bsr-zone[].border[]",
	"BSRZones[].CandidateBSR.Addr":        "bsr-zone[].address",
	"BSRZones[].CandidateBSR.Priority":    "bsr-zone[].priority",
	"BSRZones[].CandidateBSR.HashMaskLen": "bsr-zone[].hash-mask-length",
	"MaxBSRZones":                         "",
}

// A problem is an engine's verdict on one value: a FieldError of either
// engine.
type problem struct {
	field string   // Go path
	refs  []string // Go paths of the other fields msg names
	msg   func(name func(field string) string) string
}

// problems returns the FieldErrors of an engine's Validate.
func problems(err error) []problem {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	out := make([]problem, 0, len(errs))
	for _, e := range errs {
		var fe *engine.FieldError // pim's and mld's FieldError
		switch {
		case errors.As(e, &fe):
			out = append(out, problem{fe.Field, fe.Refs(), fe.Message})
		default:
			// Not a field's: shown as the engine says it.
			text := e.Error()
			out = append(out, problem{msg: func(func(string) string) string { return text }})
		}
	}
	return out
}

// check asks the engines about the settings of [mld] and [pim], of each
// interface that overrides them, and of the router. A problem that an
// interface only inherits is reported once, at the section.
func (d *decoder) check(c *Config) {
	d.badValues = maps.Clone(d.errKeys)
	root := node{}
	dflt := func(string) string { return "not set: the default" }
	secMLD := d.report(d.at(root, "mld"), mldKeys, problems(c.mldConfig(nil).Validate()), nil, dflt)
	secPIM := d.report(d.at(root, "pim"), pimIfKeys, problems(c.pimIfConfig(nil, 0).Validate()), nil, dflt)
	ifaces := d.at(root, "interface")
	for i := range c.Interfaces {
		ifc := &c.Interfaces[i]
		in := d.index(ifaces, i)
		if ifc.MLD.overrides() {
			ps := problems(c.mldConfig(&ifc.MLD).Validate())
			d.report(d.at(in, "mld"), mldKeys, ps, secMLD, func(string) string { return "not set here: from [mld] or the default" })
		}
		if ifc.PIM.overrides() {
			ps := problems(c.pimIfConfig(&ifc.PIM, 0).Validate())
			d.report(d.at(in, "pim"), pimIfKeys, ps, secPIM, func(string) string { return "not set here: from [pim] or the default" })
		}
	}
	d.checkRouter(c)
}

// checkRouter asks the PIM engine about the router's configuration. A
// candidacy ([bsr], [candidate-rp]) whose table is in the file is checked
// as if it were on, so that a mistake shows before it is switched on; only
// its address may be missing while it is off.
func (d *decoder) checkRouter(c *Config) {
	root := node{}
	v := *c
	v.BSR.Candidate = c.BSR.Candidate || d.isSet(d.at(root, "bsr"))
	v.CandidateRP.Enable = c.CandidateRP.Enable || d.isSet(d.at(root, "candidate-rp"))
	v.BSRZones = zonesAsIfCandidates(c.BSRZones) // bsrzone.go
	pc := v.pimConfig()
	pc.Rand = func() uint32 { return 0 } // the daemon's, not a setting
	var ps []problem
	for _, p := range problems(pc.Validate()) {
		if p.field == "CandidateBSR.Addr" && !c.BSR.Candidate && !c.BSR.Address.IsValid() ||
			p.field == "CandidateRP.Addr" && !c.CandidateRP.Enable && !c.CandidateRP.Address.IsValid() ||
			zoneAddressOff(c, p) {
			continue
		}
		ps = append(ps, p)
	}
	d.report(root, pimKeys, ps, nil, func(key string) string {
		switch key {
		case "bsr.address", "candidate-rp.address", "bsr-zone[].address", "anycast-rp.address", "anycast-rp.members":
			return "" // there is no default
		case "candidate-rp.holdtime":
			return "not set: derived from interval"
		}
		return "not set: the default"
	})
}

// report reports the problems found in the table at t, whose fields have
// the keys in keys (relative to t), except those in inherited (the same
// problems in the section the table inherits from) for values the table
// does not set itself, and returns them. A
// problem with a value that was refused already, or that the rule compared
// with one refused already, is left out. A problem whose key is not in the
// file is at the line of its table, with note(key).
func (d *decoder) report(t node, keys map[string]string, ps []problem, inherited map[string]bool, note func(key string) string) map[string]bool {
	out := map[string]bool{}
	for _, p := range ps {
		tmpl, idx := splitField(p.field)
		key, known := keys[tmpl]
		switch {
		case p.field == "":
			d.errorf(t, "%s", p.msg(nil))
			continue
		case !known:
			// An engine field without a key: a table above is behind the
			// engine (TestKeyTables). Say it all rather than lose it.
			d.errorf(t, "%s: %s", p.field, p.msg(nil))
			continue
		}
		if key == "" {
			continue
		}
		n := d.resolve(t, key, idx)
		// bad: the value, or one the message compares it with (found
		// while naming them), was refused already.
		bad := d.badValues[n.path]
		name := func(ref string) string {
			rtmpl, ridx := splitField(ref)
			rkey, ok := keys[rtmpl]
			if !ok || rkey == "" {
				return ref
			}
			rn := d.resolve(t, rkey, ridx)
			bad = bad || d.badValues[rn.path]
			if parent(rn.path) == parent(n.path) {
				return rn.path[len(parent(rn.path)):]
			}
			return rn.path
		}
		msg := p.msg(name)
		id := p.field + "\x00" + msg
		out[id] = true
		set := d.isSet(n)
		if inherited[id] && !set || bad {
			continue
		}
		if s := note(key); s != "" && !set {
			msg += " (" + s + ")"
		}
		d.errorf(n, "%s", msg)
	}
	return out
}

// splitField splits an engine's field path into the path with its indices
// left out ("RPs[].Groups[]"), the form of the tables above, and the
// indices.
func splitField(f string) (string, []int) {
	var b strings.Builder
	var idx []int
	for {
		open := strings.IndexByte(f, '[')
		if open < 0 {
			b.WriteString(f)
			return b.String(), idx
		}
		end := strings.IndexByte(f[open:], ']')
		if end < 0 {
			b.WriteString(f)
			return b.String(), idx
		}
		i, err := strconv.Atoi(f[open+1 : open+end])
		if err != nil {
			b.WriteString(f[:open+end+1])
		} else {
			b.WriteString(f[:open] + "[]")
			idx = append(idx, i)
		}
		f = f[open+end+1:]
	}
}

// resolve returns the node of key (with "[]" for indices, filled from
// idx) in the table at t.
func (d *decoder) resolve(t node, key string, idx []int) node {
	n := t
	for _, part := range strings.Split(key, ".") {
		name, isElem := strings.CutSuffix(part, "[]")
		n = d.at(n, name)
		if isElem && len(idx) > 0 {
			n = d.element(n, idx[0])
			idx = idx[1:]
		}
	}
	return n
}

// element returns the node of value i of the array at n as decoded: the
// file's element that gave it (see prefixes), or for an array that is not
// in the file the place of its element i.
func (d *decoder) element(n node, i int) node {
	if es, ok := d.elems[n.path]; ok && i < len(es) {
		return es[i]
	}
	return d.index(n, i)
}

// parent returns the path of the table holding the key at path, with its
// dot ("candidate-rp." for "candidate-rp.groups[1]"), or "" at the top.
func parent(path string) string {
	return path[:strings.LastIndexByte(path, '.')+1]
}
