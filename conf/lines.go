package conf

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The toml package reports positions only for syntax errors, not for keys,
// so keyLines finds the line of every key by scanning the source itself.
// It runs only on documents the toml package has accepted, so it can be
// lenient: on anything unexpected it moves on, never loops and never panics.

// keyLines returns the line (from 1) of every key, table, array of tables
// and array element of a TOML document, by path: the key names from the
// root joined by dots, each array element written name[i] (from 0), and a
// name that is not a bare key quoted as by strconv.Quote (see child and
// elem). A table's line is that of its first header or key; an element of
// an array of tables is at its [[header]].
func keyLines(src []byte) map[string]int {
	s := &lineScanner{src: src, line: 1, lines: map[string]int{}, aot: map[string]int{}}
	s.document()
	return s.lines
}

// child is the path of key name in the table at path parent ("" is the root).
func child(parent, name string) string {
	if !isBare(name) {
		name = strconv.Quote(name)
	}
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// elem is the path of element i of the array at path p.
func elem(p string, i int) string {
	return p + "[" + strconv.Itoa(i) + "]"
}

// isBare reports whether name can be written as a bare TOML key.
func isBare(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isBareByte(name[i]) {
			return false
		}
	}
	return true
}

func isBareByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

type lineScanner struct {
	src   []byte
	pos   int
	line  int
	lines map[string]int
	// aot counts the elements of each array of tables so far, by its
	// resolved path ("interface", "a[1].b").
	aot map[string]int
}

func (s *lineScanner) eof() bool { return s.pos >= len(s.src) }

func (s *lineScanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func (s *lineScanner) hasPrefix(p string) bool {
	return !s.eof() && strings.HasPrefix(string(s.src[s.pos:min(len(s.src), s.pos+len(p))]), p)
}

// advance moves one byte on, counting lines.
func (s *lineScanner) advance() {
	if s.eof() {
		return
	}
	if s.src[s.pos] == '\n' {
		s.line++
	}
	s.pos++
}

// skipBlank skips spaces and tabs, and with newlines also line ends and
// comments.
func (s *lineScanner) skipBlank(newlines bool) {
	for !s.eof() {
		switch c := s.peek(); {
		case c == ' ' || c == '\t':
			s.pos++
		case newlines && (c == '\n' || c == '\r'):
			s.advance()
		case newlines && c == '#':
			s.skipLine()
		default:
			return
		}
	}
}

// skipLine skips to the end of the line (not past its newline).
func (s *lineScanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.pos++
	}
}

// document scans the top level: table headers and key/value pairs.
func (s *lineScanner) document() {
	cur := "" // the table that keys go into
	for {
		s.skipBlank(true)
		if s.eof() {
			return
		}
		line := s.line
		if s.peek() == '[' {
			s.pos++
			array := s.peek() == '['
			if array {
				s.pos++
			}
			keys := s.key()
			s.skipLine() // "]" or "]]" and any comment
			if len(keys) > 0 {
				cur = s.header(keys, array, line)
			}
			continue
		}
		keys := s.key()
		if len(keys) == 0 {
			s.skipLine() // not expected in a valid document
			continue
		}
		s.skipBlank(false)
		if s.peek() == '=' {
			s.pos++
		}
		s.value(s.define(cur, keys, line))
	}
}

// header handles [keys] or [[keys]] at line and returns the table's path.
func (s *lineScanner) header(keys []string, array bool, line int) string {
	p := ""
	for i, k := range keys {
		p = child(p, k)
		if _, ok := s.lines[p]; !ok {
			s.lines[p] = line
		}
		if i == len(keys)-1 && array {
			n := s.aot[p]
			s.aot[p] = n + 1
			p = elem(p, n)
			s.lines[p] = line
			return p
		}
		if n, ok := s.aot[p]; ok && n > 0 {
			// A header below an array of tables refers to its last
			// element.
			p = elem(p, n-1)
		}
	}
	return p
}

// define records the dotted key keys of the table at path table, found at
// line, and returns its path.
func (s *lineScanner) define(table string, keys []string, line int) string {
	p := table
	for _, k := range keys {
		p = child(p, k)
		if _, ok := s.lines[p]; !ok {
			s.lines[p] = line
		}
	}
	return p
}

// key reads a possibly dotted key: bare, "basic" or 'literal' parts
// separated by dots, with blanks around the dots. It returns nil if there is
// no key here.
func (s *lineScanner) key() []string {
	var parts []string
	for {
		s.skipBlank(false)
		var part string
		switch c := s.peek(); {
		case c == '"':
			part = s.basicString()
		case c == '\'':
			part = s.literalString()
		default:
			start := s.pos
			for !s.eof() && isBareByte(s.peek()) {
				s.pos++
			}
			if s.pos == start {
				return parts
			}
			part = string(s.src[start:s.pos])
		}
		parts = append(parts, part)
		s.skipBlank(false)
		if s.peek() != '.' {
			return parts
		}
		s.pos++
	}
}

// value skips the value at the current position, recording the elements of
// arrays and the keys of inline tables under path.
func (s *lineScanner) value(path string) {
	s.skipBlank(false)
	switch {
	case s.hasPrefix(`"""`):
		s.multiline('"')
	case s.hasPrefix(`'''`):
		s.multiline('\'')
	case s.peek() == '"':
		s.basicString()
	case s.peek() == '\'':
		s.literalString()
	case s.peek() == '[':
		s.pos++
		for i := 0; ; {
			s.skipBlank(true)
			switch s.peek() {
			case 0:
				return
			case ']':
				s.pos++
				return
			case ',':
				s.pos++
				continue
			}
			p := elem(path, i)
			s.lines[p] = s.line
			before := s.pos
			s.value(p)
			if s.pos == before {
				s.pos++ // not expected in a valid document
			}
			i++
		}
	case s.peek() == '{':
		s.pos++
		for {
			s.skipBlank(true)
			switch s.peek() {
			case 0:
				return
			case '}':
				s.pos++
				return
			case ',':
				s.pos++
				continue
			}
			line := s.line
			keys := s.key()
			if len(keys) == 0 {
				s.advance() // not expected in a valid document
				continue
			}
			s.skipBlank(false)
			if s.peek() == '=' {
				s.pos++
			}
			s.value(s.define(path, keys, line))
		}
	default:
		// A number, boolean or date-time.
		start := s.pos
		for !s.eof() && !strings.ContainsRune(" \t\r\n,]}#", rune(s.peek())) {
			s.pos++
		}
		// A date and a time may be separated by a space.
		if s.pos-start == 10 && s.src[start+4] == '-' && s.peek() == ' ' &&
			s.pos+1 < len(s.src) && s.src[s.pos+1] >= '0' && s.src[s.pos+1] <= '9' {
			s.pos++
			for !s.eof() && !strings.ContainsRune(" \t\r\n,]}#", rune(s.peek())) {
				s.pos++
			}
		}
	}
}

// basicString reads a "basic string" and returns its value.
func (s *lineScanner) basicString() string {
	s.pos++ // opening quote
	var b strings.Builder
	for !s.eof() {
		c := s.peek()
		switch {
		case c == '"':
			s.pos++
			return b.String()
		case c == '\n':
			return b.String() // not expected in a valid document
		case c == '\\':
			s.pos++
			s.escape(&b)
		default:
			b.WriteByte(c)
			s.pos++
		}
	}
	return b.String()
}

// escape decodes the escape sequence after a backslash.
func (s *lineScanner) escape(b *strings.Builder) {
	if s.eof() {
		return
	}
	c := s.peek()
	s.pos++
	hex := 0
	switch c {
	case 'b':
		b.WriteByte('\b')
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'f':
		b.WriteByte('\f')
	case 'r':
		b.WriteByte('\r')
	case 'e':
		b.WriteByte(0x1b)
	case 'x':
		hex = 2
	case 'u':
		hex = 4
	case 'U':
		hex = 8
	default: // '"', '\\'
		b.WriteByte(c)
	}
	if hex > 0 && s.pos+hex <= len(s.src) {
		r, err := strconv.ParseUint(string(s.src[s.pos:s.pos+hex]), 16, 32)
		if err == nil {
			b.WriteRune(rune(r))
			s.pos += hex
		}
	}
}

// literalString reads a 'literal string' and returns its value.
func (s *lineScanner) literalString() string {
	s.pos++
	start := s.pos
	for !s.eof() && s.peek() != '\'' && s.peek() != '\n' {
		s.pos++
	}
	v := string(s.src[start:s.pos])
	if s.peek() == '\'' {
		s.pos++
	}
	if !utf8.ValidString(v) {
		return strings.ToValidUTF8(v, "\uFFFD")
	}
	return v
}

// multiline skips a multi-line string delimited by three q.
func (s *lineScanner) multiline(q byte) {
	s.pos += 3
	for !s.eof() {
		c := s.peek()
		switch {
		case c == '\\' && q == '"':
			s.pos++
			s.advance()
		case c == q && s.hasPrefix(strings.Repeat(string(q), 3)):
			// The closing delimiter may follow one or two quotes
			// that belong to the string.
			for n := 0; n < 5 && s.peek() == q; n++ {
				s.pos++
			}
			return
		default:
			s.advance()
		}
	}
}
