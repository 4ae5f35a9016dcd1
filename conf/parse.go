package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// Load reads the file at path and parses it. A file that cannot be read
// gives the error of os.ReadFile (errors.Is(err, fs.ErrNotExist) for a
// missing file); the daemon runs on Default when it is given no file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse decodes a configuration file, named filename in errors, and checks
// it. The error is Errors, with every problem found, sorted by line; a TOML
// syntax error stops the parse and is the only one. Keys left out take the
// defaults (see Default and the package documentation).
func Parse(data []byte, filename string) (*Config, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		e := &Error{File: filename, Msg: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			e.Line = syntaxLine(data, pe.Position)
			e.Msg = "syntax error: " + pe.Message
			if pe.LastKey != "" {
				e.Msg += fmt.Sprintf(" (last key %s)", pe.LastKey)
			}
			if m := redefined.FindStringSubmatch(pe.Message); m != nil {
				e.Msg += fmt.Sprintf("; %s = true/false and an [interface.%[1]s] table cannot be used together: write enable = true/false in the table", m[1])
			}
		}
		return nil, Errors{e}
	}
	d := &decoder{file: filename, lines: keyLines(data), errKeys: map[string]bool{}, elems: map[string][]node{}}
	c := d.config(raw)
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
		return nil, d.errs
	}
	return c, nil
}

// syntaxLine is the line of a syntax error at pos. The toml package
// counts a newline as soon as it reads it, so an error at a newline (a
// table header without its "]": "[pim" then the line's end) comes with the
// number of the next line; the line to fix is the one the newline ends.
// pos.Start and pos.Len are byte offsets in the document after a byte
// order mark, which the toml package skips; if they do not fit the
// reported line, the line is kept as reported.
func syntaxLine(data []byte, pos toml.Position) int {
	for _, bom := range []string{"\xef\xbb\xbf", "\xff\xfe", "\xfe\xff"} {
		if bytes.HasPrefix(data, []byte(bom)) {
			data = data[len(bom):]
			break
		}
	}
	end := pos.Start + pos.Len // just after the offending text
	if pos.Len < 1 || pos.Start < 0 || end > len(data) || data[end-1] != '\n' {
		return pos.Line
	}
	if after := 1 + bytes.Count(data[:end], []byte("\n")); after != pos.Line {
		return pos.Line
	}
	return pos.Line - 1
}

// redefined matches the toml package's message for a key given twice, for
// [interface.mld] and [interface.pim].
var redefined = regexp.MustCompile(`^Key 'interface\.(mld|pim)' has already been defined`)

// decoder walks the decoded TOML document, collecting every problem.
type decoder struct {
	file    string
	lines   map[string]int  // see keyLines
	errs    Errors          // in the order found
	errKeys map[string]bool // paths with an error
	// badValues are the paths whose values were refused: check does not
	// look at them again.
	badValues map[string]bool
	// elems are the nodes of the elements of the prefix arrays as decoded
	// (duplicates dropped, "ff3x::/32" expanded), by the array's path, so
	// that check finds the file's element of an engine's index.
	elems map[string][]node
}

// node is a place in the document: a key's path and line.
type node struct {
	path string
	line int
}

// at returns the node of key in the table at n; a key that is not in the
// file is at n's line.
func (d *decoder) at(n node, key string) node {
	p := child(n.path, key)
	if l, ok := d.lines[p]; ok {
		return node{p, l}
	}
	return node{p, n.line}
}

// index returns the node of element i of the array at n.
func (d *decoder) index(n node, i int) node {
	p := elem(n.path, i)
	if l, ok := d.lines[p]; ok {
		return node{p, l}
	}
	return node{p, n.line}
}

// isSet reports whether the key at n is in the file.
func (d *decoder) isSet(n node) bool {
	_, ok := d.lines[n.path]
	return ok
}

func (d *decoder) errorf(n node, format string, args ...any) {
	d.errKeys[n.path] = true
	d.errs = append(d.errs, &Error{File: d.file, Line: n.line, Key: n.path, Msg: fmt.Sprintf(format, args...)})
}

// entry is a key of a table and its node.
type entry struct {
	key string
	node
}

// entries returns the keys of the table m at n in file order.
func (d *decoder) entries(n node, m map[string]any) []entry {
	out := make([]entry, 0, len(m))
	for k := range m {
		out = append(out, entry{k, d.at(n, k)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].line != out[j].line {
			return out[i].line < out[j].line
		}
		return out[i].key < out[j].key
	})
	return out
}

// A field is a key of a table and how to decode its value into a T.
type field[T any] struct {
	key    string
	decode func(d *decoder, n node, v any, dst *T)
}

// embed adapts fields of a U to a T that holds a U.
func embed[T, U any](fs []field[U], get func(*T) *U) []field[T] {
	out := make([]field[T], len(fs))
	for i, f := range fs {
		out[i] = field[T]{f.key, func(d *decoder, n node, v any, dst *T) { f.decode(d, n, v, get(dst)) }}
	}
	return out
}

// decodeTable decodes the table v at n, named table in the schema, into
// dst; keys not in fields are errors.
func decodeTable[T any](d *decoder, n node, v any, table string, fields []field[T], dst *T) {
	m, ok := v.(map[string]any)
	if !ok {
		d.errorf(n, "expected a table, found %s", describe(v))
		return
	}
	for _, e := range d.entries(n, m) {
		i := slices.IndexFunc(fields, func(f field[T]) bool { return f.key == e.key })
		if i < 0 {
			d.unknown(e.node, table, e.key)
			continue
		}
		fields[i].decode(d, e.node, m[e.key], dst)
	}
}

// unknown reports the key at n, not in the schema of table.
func (d *decoder) unknown(n node, table, key string) {
	if table == "interface.pim" && slices.Contains(schemaKeys["pim"], key) {
		d.errorf(n, "not a per-interface setting: set it in [pim]")
		return
	}
	var elsewhere []string
	for _, t := range schemaTables {
		if t != table && slices.Contains(schemaKeys[t], key) {
			elsewhere = append(elsewhere, tableName(t))
		}
	}
	if len(elsewhere) > 0 {
		d.errorf(n, "unknown key (it is a key of %s)", strings.Join(elsewhere, ", "))
		return
	}
	if s := suggest(key, schemaKeys[table]); s != "" {
		d.errorf(n, "unknown key (did you mean %s?)", s)
		return
	}
	if table == "" {
		d.errorf(n, "unknown key")
		return
	}
	d.errorf(n, "unknown key in %s", tableName(table))
}

// tableName is how the file writes the table named t in the schema.
func tableName(t string) string {
	switch t {
	case "":
		return "the top level"
	case "interface", "rp", "bsr-zone":
		return "[[" + t + "]]"
	}
	return "[" + t + "]"
}

// suggest returns the key of known nearest to key, if near enough to be a
// typing mistake.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names a decoded TOML value's type, with the value if short.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "string " + strconv.Quote(x)
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "float " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

// Value decoders: each reports a problem at n and returns false.

func (d *decoder) str(n node, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.errorf(n, "expected a string, found %s", describe(v))
	}
	return s, ok
}

func (d *decoder) boolean(n node, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.errorf(n, "expected true or false, found %s", describe(v))
	}
	return b, ok
}

// integer decodes an integer in lo..hi. The int settings take 32 bits
// (math.MinInt32..math.MaxInt32, "no practical limit"), whatever the
// platform; the engines check what they accept.
func (d *decoder) integer(n node, v any, lo, hi int64) (int64, bool) {
	x, ok := v.(int64)
	switch {
	case !ok:
		d.errorf(n, "expected an integer, found %s", describe(v))
	case x < lo && hi == math.MaxInt32 && lo != math.MinInt32:
		d.errorf(n, "%d must be at least %d", x, lo)
	case x > hi && lo == math.MinInt32:
		d.errorf(n, "%d is more than %d", x, hi)
	case x < lo || x > hi:
		d.errorf(n, "%d is out of range %d..%d", x, lo, hi)
	default:
		return x, true
	}
	return 0, false
}

// duration decodes a Go duration string, more than zero.
func (d *decoder) duration(n node, v any) (time.Duration, bool) {
	s, ok := v.(string)
	if !ok {
		d.errorf(n, `expected a duration string such as "125s", found %s`, describe(v))
		return 0, false
	}
	t, err := time.ParseDuration(s)
	switch {
	case err != nil:
		d.errorf(n, `%q is not a duration: write a number and a unit, such as "125s", "500ms" or "1m30s"`, s)
	case t <= 0:
		d.errorf(n, "%q must be more than zero", s)
	default:
		return t, true
	}
	return 0, false
}

// array decodes an array; its elements are at d.index(n, i).
func (d *decoder) array(n node, v any) ([]any, bool) {
	a, ok := v.([]any)
	if !ok {
		d.errorf(n, "expected an array, found %s", describe(v))
	}
	return a, ok
}

// tables decodes an array of tables named name.
func (d *decoder) tables(n node, v any, name string) ([]map[string]any, bool) {
	switch x := v.(type) {
	case []map[string]any:
		return x, true
	case []any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				d.errorf(d.index(n, i), "expected a table, found %s", describe(e))
				return nil, false
			}
			out[i] = m
		}
		return out, true
	case map[string]any:
		d.errorf(n, "expected an array of tables: write [[%s]], not [%s]", name, name)
	default:
		d.errorf(n, "expected an array of tables ([[%s]]), found %s", name, describe(v))
	}
	return nil, false
}

// prefix decodes an IPv6 prefix. Which prefixes a key takes (multicast
// ones, written without bits beyond their length) is the engines' rule.
func (d *decoder) prefix(n node, v any) (netip.Prefix, bool) {
	s, ok := v.(string)
	if !ok {
		d.errorf(n, `expected a prefix string such as "ff3e::/32", found %s`, describe(v))
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		d.errorf(n, "%q is not an IPv6 prefix", s)
		return netip.Prefix{}, false
	}
	return p, true
}

// prefixes decodes an array of prefixes; with ssm, the entry "ff3x::/32"
// stands for ff30::/32 .. ff3f::/32. Duplicates are dropped. The node of
// each prefix kept is in d.elems. When some elements are refused, the
// others are returned too (not nil), so that the engines can still judge
// them and every problem is listed at once.
func (d *decoder) prefixes(n node, v any, ssm bool) ([]netip.Prefix, bool) {
	a, ok := d.array(n, v)
	if !ok {
		return nil, false
	}
	out := []netip.Prefix{}
	var nodes []node
	for i, e := range a {
		en := d.index(n, i)
		var ps []netip.Prefix
		if s, isStr := e.(string); ssm && isStr && strings.EqualFold(s, ssmShorthand) {
			ps = mld.DefaultSSMRange()
		} else if p, good := d.prefix(en, e); good {
			ps = []netip.Prefix{p}
		} else {
			ok = false
		}
		for _, p := range ps {
			if !slices.Contains(out, p) {
				out, nodes = append(out, p), append(nodes, en)
			}
		}
	}
	d.elems[n.path] = nodes
	return out, ok
}

// Field constructors.

func durField[T any](key string, get func(*T) **time.Duration) field[T] {
	return field[T]{key, func(d *decoder, n node, v any, dst *T) {
		if x, ok := d.duration(n, v); ok {
			*get(dst) = &x
		}
	}}
}

// durValue is durField for a setting without inheritance.
func durValue[T any](key string, get func(*T) *time.Duration) field[T] {
	return field[T]{key, func(d *decoder, n node, v any, dst *T) {
		if x, ok := d.duration(n, v); ok {
			*get(dst) = x
		}
	}}
}

// durIn is durValue for a setting that must lie in lo..hi.
func durIn[T any](key string, lo, hi time.Duration, get func(*T) *time.Duration) field[T] {
	return field[T]{key, func(d *decoder, n node, v any, dst *T) {
		x, ok := d.duration(n, v)
		switch {
		case !ok:
		case x < lo || x > hi:
			d.errorf(n, "%v is outside %s..%s", x, shortDur(lo), shortDur(hi))
		default:
			*get(dst) = x
		}
	}}
}

// shortDur writes a round duration as one would: 1h, 10m, 1s.
func shortDur(x time.Duration) string {
	s := x.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func intField[T any](key string, lo, hi int64, get func(*T) **int) field[T] {
	return field[T]{key, func(d *decoder, n node, v any, dst *T) {
		if x, ok := d.integer(n, v, lo, hi); ok {
			*get(dst) = new(int(x))
		}
	}}
}

func pathField(key string, empty bool, maxLen int, get func(*Global) *string) field[Global] {
	return field[Global]{key, func(d *decoder, n node, v any, g *Global) {
		s, ok := d.str(n, v)
		switch {
		case !ok:
		case s == "" && empty:
			*get(g) = s
		case !strings.HasPrefix(s, "/"):
			d.errorf(n, "%q is not an absolute path", s)
		case maxLen > 0 && len(s) > maxLen:
			d.errorf(n, "%q is longer than %d bytes, the limit of a Unix socket path", s, maxLen)
		default:
			*get(g) = s
		}
	}}
}

// fileMode decodes the permission bits of the dump file: a string of
// octal digits, as chmod takes them ("0600", "640"). A TOML integer is
// refused: 600 would be decimal. Group and others may not write: the
// daemon alone writes the file, and a reader must be able to trust it.
func (d *decoder) fileMode(n node, v any) (fs.FileMode, bool) {
	s, ok := v.(string)
	if !ok {
		d.errorf(n, `expected a string of octal digits such as "0600", found %s`, describe(v))
		return 0, false
	}
	m, err := strconv.ParseUint(s, 8, 32)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		d.errorf(n, `%q is not a mode: write octal digits such as "0600" or "0640"`, s)
	case err != nil || m&^0o777 != 0:
		d.errorf(n, "%q has bits beyond the permissions (0777)", s)
	case m&0o022 != 0:
		d.errorf(n, "%q lets group or others write the dump, which only the daemon writes", s)
	default:
		return fs.FileMode(m), true
	}
	return 0, false
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

var globalFields = []field[Global]{
	{"mrt-table", func(d *decoder, n node, v any, g *Global) {
		if x, ok := d.integer(n, v, 0, math.MaxUint32); ok {
			g.MRTTable = uint32(x)
		}
	}},
	{"ssm-range", func(d *decoder, n node, v any, g *Global) {
		if ps, _ := d.prefixes(n, v, true); ps != nil {
			g.SSMRange = ps
		}
	}},
	{"default-interfaces", func(d *decoder, n node, v any, g *Global) {
		s, ok := d.str(n, v)
		switch {
		case !ok:
		case s == string(AllInterfaces) || s == string(NoInterfaces):
			g.DefaultInterfaces = DefaultInterfaces(s)
		default:
			d.errorf(n, `%q is not "all" or "none"`, s)
		}
	}},
	pathField("socket", false, 107, func(g *Global) *string { return &g.Socket }),
	pathField("dump-file", false, 0, func(g *Global) *string { return &g.DumpFile }),
	{"dump-file-mode", func(d *decoder, n node, v any, g *Global) {
		if m, ok := d.fileMode(n, v); ok {
			g.DumpFileMode = m
		}
	}},
	pathField("pid-file", true, 0, func(g *Global) *string { return &g.PIDFile }),
	durIn("audit-interval", time.Second, time.Hour, func(g *Global) *time.Duration { return &g.AuditInterval }),
	{"keep-table-on-stop", func(d *decoder, n node, v any, g *Global) {
		if b, ok := d.boolean(n, v); ok {
			g.KeepTableOnStop = b
		}
	}},
	durIn("restart-grace", time.Second, 10*time.Minute, func(g *Global) *time.Duration { return &g.RestartGrace }),
	pathField("state-file", true, 0, func(g *Global) *string { return &g.StateFile }),
	durIn("state-max-age", time.Second, time.Hour, func(g *Global) *time.Duration { return &g.StateMaxAge }),
	{"log-level", func(d *decoder, n node, v any, g *Global) {
		s, ok := d.str(n, v)
		if !ok {
			return
		}
		if l, ok := logLevels[strings.ToLower(s)]; ok {
			g.LogLevel = l
			return
		}
		d.errorf(n, `%q is not "debug", "info", "warn" or "error"`, s)
	}},
}

// The ranges of the integer settings: the Go type's, or 32 bits for an
// int, except where a comment says why. The engines check what they
// accept (check.go).
const minInt, maxInt = math.MinInt32, math.MaxInt32

var mldFields = []field[MLDOverride]{
	{"version", func(d *decoder, n node, v any, o *MLDOverride) {
		var ver mld.Version
		switch v {
		case "1", int64(1):
			ver = mld.V1
		case "2", int64(2):
			ver = mld.V2
		case "both":
			ver = mld.Both
		default:
			if s, ok := v.(string); ok {
				d.errorf(n, `%q is not an MLD version: use "1", "2" or "both"`, s)
			} else {
				d.errorf(n, `expected "1", "2" or "both", found %s`, describe(v))
			}
			return
		}
		o.Version = &ver
	}},
	// The Querier's Robustness Variable travels in the 3-bit QRV field:
	// the engine sends a larger one as 0 (RFC 3810 5.1.8), which the
	// other routers read as "use your default". pim6sd's configuration
	// does not offer that.
	intField("robustness", 1, 7, func(o *MLDOverride) **int { return &o.Robustness }),
	durField("query-interval", func(o *MLDOverride) **time.Duration { return &o.QueryInterval }),
	durField("query-response-interval", func(o *MLDOverride) **time.Duration { return &o.QueryResponseInterval }),
	durField("startup-query-interval", func(o *MLDOverride) **time.Duration { return &o.StartupQueryInterval }),
	// Zero stands for "not set" in MLD (derived from robustness), so it
	// cannot be written.
	intField("startup-query-count", 1, maxInt, func(o *MLDOverride) **int { return &o.StartupQueryCount }),
	durField("startup-query-response-interval", func(o *MLDOverride) **time.Duration { return &o.StartupQueryResponseInterval }),
	durField("last-listener-query-interval", func(o *MLDOverride) **time.Duration { return &o.LastListenerQueryInterval }),
	intField("last-listener-query-count", 1, maxInt, func(o *MLDOverride) **int { return &o.LastListenerQueryCount }),
	intField("max-groups", minInt, maxInt, func(o *MLDOverride) **int { return &o.MaxGroups }),
	intField("max-sources", minInt, maxInt, func(o *MLDOverride) **int { return &o.MaxSources }),
}

var pimInterfaceFields = []field[PIMOverride]{
	durField("hello-period", func(o *PIMOverride) **time.Duration { return &o.HelloPeriod }),
	durField("hello-holdtime", func(o *PIMOverride) **time.Duration { return &o.HelloHoldtime }),
	durField("triggered-hello-delay", func(o *PIMOverride) **time.Duration { return &o.TriggeredHelloDelay }),
	{"dr-priority", func(d *decoder, n node, v any, o *PIMOverride) {
		if x, ok := d.integer(n, v, 0, math.MaxUint32); ok {
			o.DRPriority = new(uint32(x))
		}
	}},
	durField("join-prune-period", func(o *PIMOverride) **time.Duration { return &o.JoinPrunePeriod }),
	durField("join-prune-holdtime", func(o *PIMOverride) **time.Duration { return &o.JoinPruneHoldtime }),
	durField("propagation-delay", func(o *PIMOverride) **time.Duration { return &o.PropagationDelay }),
	durField("override-interval", func(o *PIMOverride) **time.Duration { return &o.OverrideInterval }),
}

// pimSection is the [pim] table as written.
type pimSection struct {
	PIMOverride
	KeepalivePeriod         *time.Duration
	RegisterSuppressionTime *time.Duration
	RegisterProbeTime       *time.Duration
	AssertTime              *time.Duration
	SPTSwitch               *SPTSwitch
}

var sptRate = regexp.MustCompile(`^([0-9]+)([kmg]?)bps$`)

var pimGlobalFields = []field[pimSection]{
	durField("keepalive-period", func(s *pimSection) **time.Duration { return &s.KeepalivePeriod }),
	durField("register-suppression-time", func(s *pimSection) **time.Duration { return &s.RegisterSuppressionTime }),
	durField("register-probe-time", func(s *pimSection) **time.Duration { return &s.RegisterProbeTime }),
	durField("assert-time", func(s *pimSection) **time.Duration { return &s.AssertTime }),
	{"spt-switch", func(d *decoder, n node, v any, s *pimSection) {
		str, ok := d.str(n, v)
		if !ok {
			return
		}
		if sw, ok := parseSPTSwitch(str); ok {
			s.SPTSwitch = &sw
			return
		}
		d.errorf(n, `%q is not "first-packet", "never" or a rate such as "64kbps" (bps, kbps, mbps, gbps; more than zero)`, str)
	}},
}

// parseSPTSwitch parses first-packet, never or a rate NNN[k|m|g]bps.
func parseSPTSwitch(s string) (SPTSwitch, bool) {
	switch s = strings.ToLower(s); s {
	case "first-packet":
		return SPTSwitch{}, true
	case "never":
		return SPTSwitch{Never: true}, true
	}
	m := sptRate.FindStringSubmatch(s)
	if m == nil {
		return SPTSwitch{}, false
	}
	x, err := strconv.ParseUint(m[1], 10, 64)
	mult := map[string]uint64{"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m[2]]
	if err != nil || x == 0 || x > math.MaxUint64/mult {
		return SPTSwitch{}, false
	}
	return SPTSwitch{Rate: x * mult}, true
}

var pimFields = append(
	embed(pimInterfaceFields, func(s *pimSection) *PIMOverride { return &s.PIMOverride }),
	pimGlobalFields...)

func enableField[T any](get func(*T) *bool) field[T] {
	return field[T]{"enable", func(d *decoder, n node, v any, dst *T) {
		if b, ok := d.boolean(n, v); ok {
			*get(dst) = b
		}
	}}
}

var interfaceMLDFields = append([]field[MLDOverride]{
	enableField(func(o *MLDOverride) *bool { return &o.Enable }),
}, mldFields...)

var interfacePIMFields = append([]field[PIMOverride]{
	enableField(func(o *PIMOverride) *bool { return &o.Enable }),
}, pimInterfaceFields...)

var interfaceFields = []field[Interface]{
	{"name", func(d *decoder, n node, v any, ifc *Interface) {
		if s, ok := d.ifaceName(n, v); ok { // bsrzone.go
			ifc.Name = s
		}
	}},
	enableField(func(ifc *Interface) *bool { return &ifc.Enable }),
	{"mld", func(d *decoder, n node, v any, ifc *Interface) {
		if switchTable(d, n, v, "mld") {
			decodeTable(d, n, v, "interface.mld", interfaceMLDFields, &ifc.MLD)
		}
	}},
	{"pim", func(d *decoder, n node, v any, ifc *Interface) {
		if switchTable(d, n, v, "pim") {
			decodeTable(d, n, v, "interface.pim", interfacePIMFields, &ifc.PIM)
		}
	}},
}

// switchTable reports whether v can be an [interface.mld] or
// [interface.pim] table, and points a boolean to the table's enable key.
func switchTable(d *decoder, n node, v any, name string) bool {
	if b, ok := v.(bool); ok {
		d.errorf(n, "expected a table, found boolean %v: write %s.enable = %v", b, name, b)
		return false
	}
	return true
}

// address decodes an IPv6 address; with empty, "" is accepted as "not
// set" (the zero Addr). Which addresses a key takes (global unicast,
// without a zone) is the PIM engine's rule.
func (d *decoder) address(n node, v any, empty bool) (netip.Addr, bool) {
	s, ok := d.str(n, v)
	if !ok {
		return netip.Addr{}, false
	}
	if s == "" && empty {
		return netip.Addr{}, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Is4In6() {
		d.errorf(n, "%q is not an IPv6 address", s)
		return netip.Addr{}, false
	}
	return a, true
}

var rpFields = []field[RP]{
	{"address", func(d *decoder, n node, v any, rp *RP) {
		if a, ok := d.address(n, v, false); ok {
			rp.Address = a
		}
	}},
	{"groups", func(d *decoder, n node, v any, rp *RP) {
		ps, ok := d.prefixes(n, v, false)
		switch {
		case ok && len(ps) == 0:
			d.errorf(n, `must list at least one prefix (leave it out for "ff00::/8")`)
		case len(ps) > 0:
			rp.Groups = ps
		}
	}},
	{"override", func(d *decoder, n node, v any, rp *RP) {
		if b, ok := d.boolean(n, v); ok {
			rp.Override = b
		}
	}},
}

func uint8Field[T any](key string, get func(*T) *uint8) field[T] {
	return field[T]{key, func(d *decoder, n node, v any, dst *T) {
		if x, ok := d.integer(n, v, 0, math.MaxUint8); ok {
			*get(dst) = uint8(x)
		}
	}}
}

var bsrFields = []field[BSR]{
	{"candidate", func(d *decoder, n node, v any, b *BSR) {
		if x, ok := d.boolean(n, v); ok {
			b.Candidate = x
		}
	}},
	{"address", func(d *decoder, n node, v any, b *BSR) {
		if a, ok := d.address(n, v, true); ok {
			b.Address = a
		}
	}},
	uint8Field("priority", func(b *BSR) *uint8 { return &b.Priority }),
	uint8Field("hash-mask-length", func(b *BSR) *uint8 { return &b.HashMaskLength }),
	durValue("period", func(b *BSR) *time.Duration { return &b.Period }),
	{"max-rp-set", func(d *decoder, n node, v any, b *BSR) {
		if x, ok := d.integer(n, v, minInt, maxInt); ok {
			b.MaxRPSet = int(x)
		}
	}},
}

var candidateRPFields = []field[CandidateRP]{
	enableField(func(r *CandidateRP) *bool { return &r.Enable }),
	{"address", func(d *decoder, n node, v any, r *CandidateRP) {
		if a, ok := d.address(n, v, true); ok {
			r.Address = a
		}
	}},
	uint8Field("priority", func(r *CandidateRP) *uint8 { return &r.Priority }),
	durValue("interval", func(r *CandidateRP) *time.Duration { return &r.Interval }),
	durValue("holdtime", func(r *CandidateRP) *time.Duration { return &r.Holdtime }),
	{"groups", func(d *decoder, n node, v any, r *CandidateRP) {
		ps, ok := d.prefixes(n, v, false)
		switch {
		case ok && len(ps) == 0:
			d.errorf(n, `must list at least one prefix (leave it out for "ff00::/8")`)
		case len(ps) > 0:
			r.Groups = ps
		}
	}},
}

var anycastRPFields = []field[AnycastRP]{
	{"address", func(d *decoder, n node, v any, a *AnycastRP) {
		if x, ok := d.address(n, v, false); ok {
			a.Address = x
		}
	}},
	{"members", func(d *decoder, n node, v any, a *AnycastRP) {
		xs, ok := d.array(n, v)
		if !ok {
			return
		}
		a.Members = nil
		for i, x := range xs {
			if m, ok := d.address(d.index(n, i), x, false); ok {
				a.Members = append(a.Members, m)
			} else {
				d.errKeys[n.path] = true // the count is wrong too
			}
		}
	}},
}

var embeddedRPFields = []field[EmbeddedRP]{
	enableField(func(e *EmbeddedRP) *bool { return &e.Enable }),
	{"max-groups", func(d *decoder, n node, v any, e *EmbeddedRP) {
		if x, ok := d.integer(n, v, minInt, maxInt); ok {
			e.MaxGroups = int(x)
		}
	}},
}

var limitsFields = []field[Limits]{
	{"max-routes", func(d *decoder, n node, v any, l *Limits) {
		if x, ok := d.integer(n, v, minInt, maxInt); ok {
			l.MaxRoutes = int(x)
		}
	}},
	{"max-neighbors-per-interface", func(d *decoder, n node, v any, l *Limits) {
		if x, ok := d.integer(n, v, minInt, maxInt); ok {
			l.MaxNeighborsPerInterface = int(x)
		}
	}},
}

var topKeys = []string{"global", "mld", "pim", "interface", "rp", "bsr", "candidate-rp", "embedded-rp", "anycast-rp", "limits",
	"bsr-zone"}

// schemaTables names the tables of the schema, and schemaKeys their keys.
var (
	schemaTables = []string{"", "global", "mld", "pim", "interface", "interface.mld", "interface.pim", "rp", "bsr", "candidate-rp", "embedded-rp", "anycast-rp", "limits",
		"bsr-zone"}
	schemaKeys map[string][]string
)

func init() {
	schemaKeys = map[string][]string{
		"":              topKeys,
		"global":        keysOf(globalFields),
		"mld":           keysOf(mldFields),
		"pim":           keysOf(pimFields),
		"interface":     keysOf(interfaceFields),
		"interface.mld": keysOf(interfaceMLDFields),
		"interface.pim": keysOf(interfacePIMFields),
		"rp":            keysOf(rpFields),
		"bsr":           keysOf(bsrFields),
		"candidate-rp":  keysOf(candidateRPFields),
		"embedded-rp":   keysOf(embeddedRPFields),
		"anycast-rp":    keysOf(anycastRPFields),
		"limits":        keysOf(limitsFields),
		"bsr-zone":      keysOf(bsrZoneFields),
	}
}

func keysOf[T any](fs []field[T]) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.key
	}
	return out
}

// config decodes the document.
func (d *decoder) config(raw map[string]any) *Config {
	c := Default()
	c.CandidateRP.Holdtime = 0 // derived below unless set
	root := node{}
	var mldSec MLDOverride
	var pimSec pimSection
	for _, e := range d.entries(root, raw) {
		n, v := e.node, raw[e.key]
		switch e.key {
		case "global":
			decodeTable(d, n, v, "global", globalFields, &c.Global)
		case "mld":
			decodeTable(d, n, v, "mld", mldFields, &mldSec)
		case "pim":
			decodeTable(d, n, v, "pim", pimFields, &pimSec)
		case "interface":
			d.interfaces(n, v, c)
		case "rp":
			d.rps(n, v, c)
		case "bsr":
			decodeTable(d, n, v, "bsr", bsrFields, &c.BSR)
		case "candidate-rp":
			decodeTable(d, n, v, "candidate-rp", candidateRPFields, &c.CandidateRP)
		case "embedded-rp":
			decodeTable(d, n, v, "embedded-rp", embeddedRPFields, &c.EmbeddedRP)
		case "anycast-rp":
			decodeTable(d, n, v, "anycast-rp", anycastRPFields, &c.AnycastRP)
			c.AnycastRP.Enable = true
		case "limits":
			decodeTable(d, n, v, "limits", limitsFields, &c.Limits)
		case "bsr-zone":
			d.bsrZones(n, v, c) // bsrzone.go
		default:
			d.unknown(n, "", e.key)
		}
	}
	c.MLD = c.MLD.override(&mldSec)
	c.PIM.PIMInterface = c.PIM.PIMInterface.override(&pimSec.PIMOverride)
	set(&c.PIM.KeepalivePeriod, pimSec.KeepalivePeriod)
	set(&c.PIM.RegisterSuppressionTime, pimSec.RegisterSuppressionTime)
	set(&c.PIM.RegisterProbeTime, pimSec.RegisterProbeTime)
	set(&c.PIM.AssertTime, pimSec.AssertTime)
	set(&c.PIM.SPTSwitch, pimSec.SPTSwitch)
	if c.CandidateRP.Holdtime == 0 {
		c.CandidateRP.Holdtime = pim.CandidateRP{Interval: c.CandidateRP.Interval}.Derive().Holdtime
	}
	d.checkBorders(c) // bsrzone.go
	d.check(c)
	return c
}

func (d *decoder) interfaces(n node, v any, c *Config) {
	ts, ok := d.tables(n, v, "interface")
	if !ok {
		return
	}
	first := map[string]int{} // name -> line
	for i, m := range ts {
		in := d.index(n, i)
		ifc := Interface{Enable: true, MLD: MLDOverride{Enable: true}, PIM: PIMOverride{Enable: true}}
		decodeTable(d, in, m, "interface", interfaceFields, &ifc)
		nameNode := d.at(in, "name")
		if _, ok := m["name"]; !ok {
			d.errorf(in, "missing name")
		} else if line, dup := first[ifc.Name]; dup && ifc.Name != "" {
			d.errorf(nameNode, "duplicate interface %q (first at line %d)", ifc.Name, line)
		} else {
			first[ifc.Name] = nameNode.line
		}
		c.Interfaces = append(c.Interfaces, ifc)
	}
}

func (d *decoder) rps(n node, v any, c *Config) {
	ts, ok := d.tables(n, v, "rp")
	if !ok {
		return
	}
	first := map[netip.Addr]int{}
	for i, m := range ts {
		rn := d.index(n, i)
		rp := RP{Groups: []netip.Prefix{allGroups}}
		decodeTable(d, rn, m, "rp", rpFields, &rp)
		an := d.at(rn, "address")
		if _, ok := m["address"]; !ok {
			d.errorf(rn, "missing address")
			d.errKeys[an.path] = true // the engine would say it too
		} else if line, dup := first[rp.Address]; dup && rp.Address.IsValid() {
			d.errorf(an, "duplicate rp %v (first at line %d): list all its groups in one entry", rp.Address, line)
		} else {
			first[rp.Address] = an.line
		}
		c.RPs = append(c.RPs, rp)
	}
}
