// Package bsr is the Bootstrap Router mechanism of RFC 5059 for one scope
// zone, as a machine of its own: the BSR election (the Candidate-BSR
// machine of section 3.1.1 and the non-candidate machine of 3.1.2), the
// RP-set learned from Bootstrap messages (BSMs) or, at the elected BSR,
// built from Candidate-RP-Advertisements, this router's own
// Candidate-RP-Advertisements (3.2), and RP(G) from the RP-set with the
// hash function of RFC 7761 section 4.7.2. Package pim owns one Zone for
// the global zone and one for each administrative scope zone (RFC 5059
// 1.3; Config.Range, scope.go), feeds them and carries out what they ask.
//
// # Shape
//
// A Zone is a pure event processor like pim.Router: every input takes
// `now` and returns the Outputs the owner carries out, in order. Inputs:
//
//   - Bootstrap: a BSM fragment the owner accepted from its links (RFC
//     5059 3.1.3: the BSR address is routable and not ours, the sender is
//     a neighbor, and the message came from the RPF neighbor toward the
//     BSR, or it is the start-up refresh: unicast to us or with the
//     No-Forward bit, within BS_Period of start-up). The owner checks
//     where a BSM came from because it owns the neighbors, the routes and
//     the start-up time; the Zone, which knows whether it has accepted a
//     BSM, uses a refresh only as its first BSM, and decides what the
//     others mean;
//   - CandidateRPAdvertisement: a C-RP-Adv unicast to us;
//   - NewNeighbor: a neighbor came up or restarted and heard our Hello
//     (3.3: it gets the current BSM);
//   - SetConfig (the candidacies, BS_Period, MaxRPSet, Rand), Shutdown;
//   - Start, Fire and Expire for the timers: the Bootstrap Timer, the
//     RP-set's and the Candidate-RP table's expiries, and the
//     advertisement timer. The Zone owns a timerq.Queue that takes its IDs
//     from the owner's allocator; Next and Fire let the owner fire them in
//     one order with its own timers.
//
// Outputs: Forward (a BSM out of the other interfaces, 3.4), Originate
// (the elected BSR's BSM out of every interface), Unicast (the BSM to a
// new neighbor with the No-Forward bit), Advertise (a C-RP-Adv to the
// BSR), WatchBSR (the route the owner needs for the RPF check),
// RPSetChanged (RP(G) may have changed: ask Lookup again), Change (the BSR
// or the machine's state), LimitHit, and Received and Dropped for the
// owner's counters. Lookup answers RP(G) from the RP-set; Info is the view
// for the operator.
//
// # Choices where the RFC leaves room
//
// A BSM is accepted when the election machine accepts it (preferred BSMs,
// see bootstrapEvent); a refresh that is not the zone's first BSM is
// dropped before (the fragments of the first refresh, with its BSR and
// fragment tag, all count as the first); a pending candidate forwards a less preferred one
// without using it. An accepted BSM restarts the Bootstrap Timer
// (BS_Timeout), updates the RP-set, and is forwarded unless its
// No-Forward bit is set. The RP-set takes each group range of a fragment
// once all its RPs are in (a range split over fragments is reassembled by
// fragment tag); a range that two whole BSMs in a row did not carry is
// dropped when the next BSM begins, and every RP expires with its
// holdtime.
//
// The elected BSR builds the RP-set from the Candidate-RP-Advertisements
// it receives (each kept for its holdtime; a range that lost its last RP
// is advertised with no RP twice, so that the other routers drop it at
// once), originates a BSM every BS_Period and, when the set changes, at
// most once a second; a new BSR starts from the set it learned before.
// A Candidate-RP unicasts its advertisement to the BSR every
// C_RP_Adv_Period, at once when the BSR changes, and with holdtime 0 when
// it stops. A Candidate-BSR that knows no BSR listens for a hold-off
// before it claims the role (startupWait).
//
// A Zone with Config.Range is an administrative scope zone (scope.go): it
// originates BSMs that begin with its range with the Admin Scope Zone bit
// and deals only in ranges within its range. A Zone does not look at the
// Z bit of what it is given: its owner chooses the zone of a BSM by its
// first range, and the Z bit of a later range means nothing.
package bsr
