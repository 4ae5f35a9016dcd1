// Package decode turns captured packets into PIM and MLD messages with our
// own codecs, for `pim6stat decode` and for the tests that hold those codecs
// against tcpdump's and tshark's independent decoders.
package decode

import (
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/pim6sd/pim6sd/internal/csum"
	"github.com/pim6sd/pim6sd/internal/pcapread"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Status says what became of one message.
type Status string

const (
	StatusOK        Status = "ok"
	StatusMalformed Status = "malformed"
	// StatusUnsupported is a well-formed PIM message of another address
	// family: pim6sd speaks IPv6 only, so IPv4 PIM is recognised, its
	// checksum verified, and the message parsed only where it carries no
	// encoded address.
	StatusUnsupported Status = "unsupported"
	// StatusTruncated is a message the capture holds only part of; what
	// could be parsed is shown, but it is not a whole message.
	StatusTruncated Status = "truncated"
)

// Checksum verdicts as shown to users.
const (
	ChecksumOK            = "ok"
	ChecksumRegisterWhole = "ok (whole-message register checksum)"
	ChecksumBad           = "bad"
	ChecksumUnverified    = "unverified (truncated capture)"
)

// Message is one decoded PIM or MLD message with where it came from.
type Message struct {
	Frame       int            `json:"frame"`
	Time        time.Time      `json:"time"`
	Family      string         `json:"family"`
	Src         netip.Addr     `json:"src"`
	Dst         netip.Addr     `json:"dst"`
	HopLimit    uint8          `json:"hop_limit"`
	RouterAlert bool           `json:"router_alert"`
	Protocol    string         `json:"protocol"` // "pim" or "mld"
	Type        string         `json:"type"`
	Length      int            `json:"length"`
	Checksum    string         `json:"checksum"`
	Truncated   bool           `json:"truncated,omitempty"`
	Status      Status         `json:"status"`
	Error       string         `json:"error,omitempty"`
	PIM         pimmsg.Message `json:"pim,omitempty"`
	MLD         mldmsg.Message `json:"mld,omitempty"`
}

const (
	protoICMPv6 = 58
	protoPIM    = 103
)

// Packet decodes one captured packet. It reports false for packets that are
// neither PIM nor MLD (other ICMPv6, UDP, ...).
func Packet(p pcapread.Packet) (Message, bool) {
	m := Message{
		Frame: p.Frame, Time: p.Time, Src: p.Src, Dst: p.Dst, HopLimit: p.HopLimit,
		RouterAlert: p.RouterAlert, Length: len(p.Payload), Truncated: p.Truncated, Family: "ipv6",
	}
	if p.IPv4 {
		m.Family = "ipv4"
	}
	switch {
	case p.Proto == protoPIM:
		decodePIM(&m, p)
		return m, true
	case p.Proto == protoICMPv6 && !p.IPv4 && isMLD(p.Payload):
		decodeMLD(&m, p)
		return m, true
	}
	return m, false
}

func isMLD(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case mldmsg.TypeQuery, mldmsg.TypeReportV1, mldmsg.TypeDone, mldmsg.TypeReportV2:
		return true
	}
	return false
}

func decodePIM(m *Message, p pcapread.Packet) {
	m.Protocol = "pim"
	if len(p.Payload) > 0 {
		m.Type = pimmsg.Type(p.Payload[0] & 0x0f).String()
	}
	switch {
	case p.Truncated:
		m.Checksum = ChecksumUnverified
	case p.IPv4:
		// IPv4 PIM has no pseudo-header: the sum over the message is 0. A
		// Register's checksum covers its first 8 bytes only (RFC 7761 4.9),
		// but some routers sum all of it.
		if csum.Fold(csum.Sum(0, p.Payload)) == 0 || isRegister(p.Payload) && csum.Fold(csum.Sum(0, p.Payload[:8])) == 0 {
			m.Checksum = ChecksumOK
		} else {
			m.Checksum = ChecksumBad
		}
	default:
		switch pimmsg.VerifyChecksum(p.Payload, p.Src, p.Dst) {
		case pimmsg.ChecksumOK:
			m.Checksum = ChecksumOK
		case pimmsg.ChecksumRegisterWhole:
			m.Checksum = ChecksumRegisterWhole
		default:
			m.Checksum = ChecksumBad
		}
	}
	msg, err := pimmsg.Parse(p.Payload)
	switch {
	case p.Truncated:
		m.PIM = msg
		m.Status = StatusTruncated
		if err != nil {
			m.Error = err.Error()
		}
	case err == nil:
		m.PIM = msg
		m.Status = StatusOK
		if p.IPv4 {
			m.Status = StatusUnsupported
		}
	case p.IPv4 && errors.Is(err, pimmsg.ErrAddressFamily):
		m.Status = StatusUnsupported
		m.Error = err.Error()
	default:
		m.Status = StatusMalformed
		m.Error = err.Error()
	}
}

func isRegister(b []byte) bool {
	return len(b) >= 8 && pimmsg.Type(b[0]&0x0f) == pimmsg.TypeRegister
}

func decodeMLD(m *Message, p pcapread.Packet) {
	m.Protocol = "mld"
	switch {
	case p.Truncated:
		m.Checksum = ChecksumUnverified
	case mldmsg.VerifyChecksum(p.Payload, p.Src, p.Dst):
		m.Checksum = ChecksumOK
	default:
		m.Checksum = ChecksumBad
	}
	msg, err := mldmsg.Parse(p.Payload)
	if p.Truncated {
		m.Type = mldTypeName(p.Payload[0], len(p.Payload))
		m.MLD = msg
		m.Status = StatusTruncated
		if err != nil {
			m.Error = err.Error()
		}
		return
	}
	if err != nil {
		m.Type = mldTypeName(p.Payload[0], len(p.Payload))
		m.Status = StatusMalformed
		m.Error = err.Error()
		return
	}
	m.MLD = msg
	m.Type = mldName(msg)
	m.Status = StatusOK
}

func mldTypeName(t uint8, n int) string {
	switch t {
	case mldmsg.TypeQuery:
		if n >= 28 {
			return "MLDv2 Query"
		}
		return "MLDv1 Query"
	case mldmsg.TypeReportV1:
		return "MLDv1 Report"
	case mldmsg.TypeDone:
		return "MLDv1 Done"
	case mldmsg.TypeReportV2:
		return "MLDv2 Report"
	}
	return "ICMPv6 type " + strconv.Itoa(int(t))
}

func mldName(m mldmsg.Message) string {
	switch m.(type) {
	case *mldmsg.QueryV1:
		return "MLDv1 Query"
	case *mldmsg.QueryV2:
		return "MLDv2 Query"
	case *mldmsg.ReportV1:
		return "MLDv1 Report"
	case *mldmsg.Done:
		return "MLDv1 Done"
	case *mldmsg.ReportV2:
		return "MLDv2 Report"
	}
	return "MLD"
}

// Summary counts what a decode run saw.
type Summary struct {
	Messages    int `json:"messages"`
	PIM         int `json:"pim"`
	MLD         int `json:"mld"`
	Malformed   int `json:"malformed"`
	Unsupported int `json:"unsupported"`
	Truncated   int `json:"truncated"`
	BadChecksum int `json:"bad_checksum"`
}

// Summarize counts msgs.
func Summarize(msgs []Message) Summary {
	var s Summary
	for _, m := range msgs {
		s.Messages++
		if m.Protocol == "pim" {
			s.PIM++
		} else {
			s.MLD++
		}
		switch m.Status {
		case StatusMalformed:
			s.Malformed++
		case StatusUnsupported:
			s.Unsupported++
		case StatusTruncated:
			s.Truncated++
		}
		if m.Checksum == ChecksumBad {
			s.BadChecksum++
		}
	}
	return s
}
