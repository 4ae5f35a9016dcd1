package ctl

// Where an RP mapping comes from: the one vocabulary of the wire, in
// Snapshot's RP-set (RP.Origin), in an explanation (ExplainRP.Origin) and
// in an EventRPChange (Event.Origin), and what pim6stat and the metrics
// show. The PIM engine has words of its own; internal/view translates
// them to these.
const (
	RPOriginStatic   = "static"          // a static mapping
	RPOriginOverride = "static-override" // a static mapping with override: it wins over the BSR's
	RPOriginBSR      = "bsr"             // the elected BSR's RP-set (RFC 5059)
	RPOriginEmbedded = "embedded"        // embedded in the group address (RFC 3956)
)
