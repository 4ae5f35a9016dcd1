package pim

import "time"

// The LAN Prune Delay rules of RFC 7761 section 4.3.3 and the timer values
// of 4.11 that depend on them. Our own option is always sent, with the T
// bit of IfConfig.TrackingSupport (clear by default).

// lanDelayEnabled is lan_delay_enabled(I): every neighbor sent the LAN
// Prune Delay option.
func (ifc *iface) lanDelayEnabled() bool {
	for _, nb := range ifc.neighbors {
		if !nb.hasLANPruneDelay {
			return false
		}
	}
	return true
}

// effectivePropagationDelay is Effective_Propagation_Delay(I): the largest
// Propagation_Delay of the link, ours included, or
// Propagation_delay_default (0.5 s) when the delay is not enabled.
func (ifc *iface) effectivePropagationDelay() time.Duration {
	if !ifc.lanDelayEnabled() {
		return DefaultIfConfig().PropagationDelay
	}
	d := ifc.cfg.PropagationDelay
	for _, nb := range ifc.neighbors {
		d = max(d, time.Duration(nb.lanPruneDelay.PropagationDelay)*time.Millisecond)
	}
	return d
}

// effectiveOverrideInterval is Effective_Override_Interval(I): the largest
// Override_Interval of the link, ours included, or t_override_default
// (2.5 s) when the delay is not enabled.
func (ifc *iface) effectiveOverrideInterval() time.Duration {
	if !ifc.lanDelayEnabled() {
		return DefaultIfConfig().OverrideInterval
	}
	d := ifc.cfg.OverrideInterval
	for _, nb := range ifc.neighbors {
		d = max(d, time.Duration(nb.lanPruneDelay.OverrideInterval)*time.Millisecond)
	}
	return d
}

// suppressionEnabled is Suppression_Enabled(I): Join suppression stays on
// unless the delay is enabled and every router on the link, this one
// included, set the T bit. With our T bit clear (the default) it is always
// true.
func (ifc *iface) suppressionEnabled() bool {
	if !ifc.lanDelayEnabled() || !ifc.cfg.TrackingSupport {
		return true
	}
	for _, nb := range ifc.neighbors {
		if !nb.lanPruneDelay.T {
			return true
		}
	}
	return false
}

// jpOverrideInterval is J/P_Override_Interval(I) (4.11): the
// Prune-Pending time of 4.5.2.
func (ifc *iface) jpOverrideInterval() time.Duration {
	return ifc.effectivePropagationDelay() + ifc.effectiveOverrideInterval()
}

// tOverride is t_override (4.11): rand(0, Effective_Override_Interval(I)).
func (r *Router) tOverride(ifc *iface) time.Duration {
	return r.randBelow(ifc.effectiveOverrideInterval())
}

// tSuppressed is t_suppressed (4.11): rand(1.1 * t_periodic, 1.4 *
// t_periodic) when Suppression_Enabled(I), else 0.
func (r *Router) tSuppressed(ifc *iface) time.Duration {
	if !ifc.suppressionEnabled() {
		return 0
	}
	tp := ifc.cfg.JoinPrunePeriod
	return tp*11/10 + r.randBelow(tp*3/10)
}
