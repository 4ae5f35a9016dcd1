package pim

import "time"

// The (S,G) Keepalive Timer of RFC 7761 section 4.1.3 (KAT): it keeps
// (S,G) state alive while data flows without explicit (S,G) Joins. It is
// set by the data rules of 4.2 (spt.go), at the RP by Registers (4.4.2,
// rpregister.go), and by CheckSwitchToSpt at a last-hop router; while it
// runs, JoinDesired(S,G) includes inherited_olist(S,G) (the SPT switch and
// the RP's join toward a registering source) and a DR may register
// (CouldRegister, 4.4.1). It is a lazy timer: data pushes it often.
//
// Choice: when it expires the SPT bit is cleared as well (RFC 7761 clears
// it only when the upstream (S,G) machine leaves Joined, 4.5.5, upstream.go;
// the (S,G) forwarding it described is gone with the data), so that a
// source starting again comes down the RP tree first.

func (r *Router) katRef(sg *sgEntry) timerRef { return timerRef{sg: sg, kind: timerKeepalive} }

// setKAT sets the Keepalive Timer to d from now ("set KeepaliveTimer(S,G)
// to Keepalive_Period": set, not raised).
func (r *Router) setKAT(sg *sgEntry, d time.Duration, now int64) {
	x := sg.ext()
	r.setLazy(&x.kat, now+int64(d), r.katRef(sg))
	r.touch(sg)
}

// rpKeepalivePeriod is RP_Keepalive_Period (4.11): 3 *
// Register_Suppression_Time + Register_Probe_Time.
func (r *Router) rpKeepalivePeriod() time.Duration {
	return 3*r.cfg.RegisterSuppressionTime + r.cfg.RegisterProbeTime
}

// katExpired is the expiry of KAT(S,G): JoinDesired(S,G) and
// CouldRegister(S,G) are evaluated again when the event ends.
func (r *Router) katExpired(sg *sgEntry) {
	sg.x.sptBit = false
	r.touch(sg)
}
