// Package conf is pim6sd's configuration: a TOML file decoded into typed
// values (Config), checked strictly, and compared with the running
// configuration on a reload (Diff).
//
// The file is documented key by key in etc/pim6sd.toml, which a test parses
// and checks against the schema. The tables are [global], [mld] (the MLD
// defaults of every interface, RFC 3810), [pim] (the PIM defaults of every
// interface and the router-wide PIM timers, RFC 7761), [limits], and the
// arrays of tables [[interface]] (with [interface.mld] and [interface.pim]
// tables) and [[rp]] (static RPs), and the RP discovery tables [bsr] (the
// Bootstrap Router mechanism, RFC 5059: Candidate-BSR, BS_Period, the size
// of the RP-set), [candidate-rp] (Candidate-RP, RFC 5059 section 3.2) and
// [embedded-rp] (RFC 3956), and [[bsr-zone]] (the administrative scope
// zones of the BSR mechanism, RFC 5059 1.3: each zone's range, border
// interfaces and Candidate-BSR). Durations are Go duration strings
// ("125s", "500ms").
//
// # Defaults and precedence
//
// The daemon runs without a file on Default: the engines' defaults (the
// RFCs', defined once, in mld and pim), every eligible interface running
// MLD and PIM. In a file, every key may be left out. For an interface, a
// value comes from, in order:
//
//  1. its [interface.mld] or [interface.pim] table;
//  2. the [mld] or [pim] table;
//  3. the engine's default.
//
// A value the RFC derives from another (startup-query-interval is
// query-interval/4; startup-query-count and last-listener-query-count are
// robustness; hello-holdtime and join-prune-holdtime are 3.5 times their
// period, rounded up to a whole second) is derived on each interface from
// the effective value of that other key, unless it is set itself in step 1
// or 2: an interface that sets query-interval = "60s" gets a 15s
// startup-query-interval unless startup-query-interval is set in its table
// or in [mld]. The rules of derivation are the engines'
// (mld.Config.Derive, pim.IfConfig.Derive, pim.CandidateRP.Derive). In
// Config.MLD and Config.PIM such a value is zero when it is not set.
//
// # The engines' settings
//
// Engines builds the engines' settings from a Config: the PIM router's
// pim.Config, and for one interface (by name, with its MTU) its mld.Config
// and pim.IfConfig and whether each protocol runs there. It is the one
// place where configuration values become engine settings; the daemon uses
// it at start-up, for each interface it starts and on every reload.
//
// An interface without an [[interface]] entry runs if default-interfaces is
// "all" (the default); with an entry, it runs unless enable = false. MLD
// runs on a running interface unless [interface.mld] says enable = false,
// PIM unless [interface.pim] does. The daemon decides eligibility (up,
// multicast, not loopback, with a link-local address); Enabled combines the
// two.
//
// A key written with its default value is the same as a key left out: Parse
// returns the same Config. candidate-rp.holdtime, when left out, is 2.5
// times the effective candidate-rp.interval rounded up to a whole second,
// and Config.CandidateRP.Holdtime holds that effective value.
//
// # RP mapping
//
// The RP of an Any-Source Multicast group G, RP(G), is the first of:
//
//  1. the RP embedded in G (RFC 3956), for a group of ff70::/12 when
//     [embedded-rp] enable = true (the default);
//  2. a static [[rp]] with override = true whose groups contain G;
//  3. the RP-set learned from the elected BSR (RFC 5059; RFC 7761 section
//     4.7.2): that of the most specific [[bsr-zone]] (or zone learned from
//     Bootstrap messages) whose range contains G, else the global one;
//  4. a static [[rp]] without override whose groups contain G.
//
// Groups in global.ssm-range never use an RP; a candidate-rp.groups prefix
// inside that range (contained in one of its prefixes) is refused, while a
// shorter one that merely contains part of it (such as the default
// ff00::/8) is accepted.
//
// # Errors
//
// Parse reports every problem at once, as Errors sorted by line, each with
// its file, line, key path ("interface[1].mld.query-interval", arrays
// counted from 0) and message. conf itself finds unknown keys (anywhere,
// with a hint when the key belongs to another table or looks like a typing
// mistake), wrong types, bad durations (a duration is more than zero),
// integers out of their type's range, malformed addresses and prefixes,
// and missing or duplicate interface names and RP addresses. Which values
// are good is the engines' rule: Parse builds the settings with the same
// functions as Engines and reports each value that mld.Config.Validate,
// pim.IfConfig.Validate or pim.Config.Validate refuses at its key, with
// the engine's message; the engine says which field (a *FieldError) and
// which other fields its message names, and a table in check.go gives
// their keys, so no message text is parsed. A [bsr] or [candidate-rp]
// table in the file is checked as if the candidacy were on, so that a
// mistake shows before it is; only the address may be missing while it is
// off. A problem an interface only inherits from [mld] or [pim] is
// reported once, at the section. A problem with a value that is not in the
// file (a default or an inherited value that conflicts with one that is)
// is reported at the line of its table and says so. A value conf refused
// is not judged by the engine, nor are the rules comparing another value
// with it. A TOML syntax error stops decoding and is reported alone, at
// its line.
//
// Two limits are conf's own: robustness is at most 7 (the engine sends a
// larger one as QRV 0, which pim6sd's configuration does not offer), and
// the counts derived from robustness cannot be written as 0 (0 stands for
// "not set").
//
// The toml package gives no positions for keys, so the lines come from a
// small scanner of the source (keyLines) that follows tables, arrays of
// tables (counting their elements), dotted keys, inline tables and arrays
// the way TOML defines them, and skips strings and comments.
//
// # Reload
//
// On SIGHUP the daemon parses the file again. A file with any problem is
// refused whole: the running configuration stays and the errors are logged.
// Otherwise Diff lists what changed and the daemon applies only that:
// interfaces started, stopped or reconfigured (including interfaces
// without an entry when [mld], [pim], the SSM range or default-interfaces
// changed), RPs added or removed, RP discovery ([bsr], [candidate-rp],
// [embedded-rp]), new limits, log level. The router-wide PIM settings (the
// [pim] timers, the static RPs, RP discovery, the limits and the SSM range)
// are applied together as the PIM router's configuration. A change the
// running daemon cannot apply (mrt-table, socket, pid-file) is listed in
// Changes.RestartNeeded; the daemon logs it and keeps the old value until it
// restarts. The log names the other changes key by key (Changes.Keys):
// "pim.hello-period", `interface "eth0".mld.query-interval`,
// `rp "2001:db8::1".groups`, `interface "eth1" added`; a value the RFCs
// derive from another is named only when the file writes it, and an
// interface's key only when its entry writes it (what it inherits is named
// at [mld] or [pim]).
package conf
