// Package metrics exports the daemon's state to Prometheus
// (`pim6sd --metrics-listen ADDR`, path /metrics).
//
// The Collector takes one snapshot of the daemon per scrape, through the
// same function the control socket uses (daemon.Snapshot, which runs on
// the loop), and turns it into constant metrics: nothing reaches into the
// engines, so a scrape costs the loop exactly one snapshot. Every family
// is prefixed pim6sd_; the label sets are bounded by the interfaces, the
// fixed reason/kind vocabularies of the engines, and, for the per-(S,G)
// forwarding counters, by Options.MaxSGSeries (see sgSeries).
package metrics
