package conf

import (
	"strconv"
	"strings"
)

// Error is one problem in a configuration file.
type Error struct {
	// File is the file name given to Parse or Load.
	File string
	// Line is the line of the key (from 1); 0 if unknown.
	Line int
	// Key is the key's path: table and key names joined by dots, the
	// elements of arrays counted from 0 ("pim.dr-priority",
	// "interface[1].mld.query-interval", "global.ssm-range[2]"). For a
	// syntax error it is the toml package's last key, maybe empty.
	Key string
	Msg string
}

// Error returns "file:line: key: message", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration file, sorted by line.
// Parse returns it (never empty) as its error.
type Errors []*Error

// Error returns one problem per line.
func (l Errors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the problems, for errors.As and errors.Is.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
