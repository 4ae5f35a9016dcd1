package engine

import "fmt"

// FieldError is one configuration value an engine refuses. The engine
// names the value by its Go path and writes the message with the other
// fields it mentions kept as data (FieldRef), so that a caller with other
// names for the fields (the configuration file's keys) can show the
// message in its own words without parsing it.
type FieldError struct {
	// Engine names the engine that refused the value ("pim", "mld").
	Engine string
	// Field is the value's Go path in the configuration validated, with
	// indices: "HelloHoldtime", "CandidateRP.Holdtime", "RPs[1].Groups[0]",
	// "SSMRange[2]".
	Field string
	// format and args make the message; an argument of type FieldRef
	// names another field (see Message).
	format string
	args   []any
}

// FieldRef is another field that a FieldError's message names, such as
// the period a holdtime must exceed: a Go path like FieldError.Field.
type FieldRef string

// NewFieldError says that the engine refuses field, for the reason
// format and args give (fmt's verbs; FieldRef arguments name other fields).
func NewFieldError(engine, field, format string, args ...any) *FieldError {
	return &FieldError{Engine: engine, Field: field, format: format, args: args}
}

// Refs returns the other fields the message names (Go paths): the values
// the rule compared Field with, in the order the message names them.
func (e *FieldError) Refs() []string {
	var out []string
	for _, a := range e.args {
		if r, ok := a.(FieldRef); ok {
			out = append(out, string(r))
		}
	}
	return out
}

// Message says what is wrong, beginning with the value. It names each
// field of Refs as name returns it, or by its Go path when name is nil.
func (e *FieldError) Message(name func(field string) string) string {
	args := make([]any, len(e.args))
	for i, a := range e.args {
		if r, ok := a.(FieldRef); ok {
			a = string(r)
			if name != nil {
				a = name(string(r))
			}
		}
		args[i] = a
	}
	return fmt.Sprintf(e.format, args...)
}

// Error returns "engine: Field: message".
func (e *FieldError) Error() string {
	return e.Engine + ": " + e.Field + ": " + e.Message(nil)
}
