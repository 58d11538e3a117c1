package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
)

// decodeBody reads a JSON request body into into (a pointer to a struct).
// strict refuses fields into does not have: a misspelt "expires" must not
// quietly make a token that never expires. A refusal is a 400 whose detail
// is form (the accepted shape) and the reason in a person's words
// ("name must be a string, not a number"), never the decoder's Go error
// chain with its struct and type names.
func decodeBody(body []byte, into any, strict bool, form string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(into); err != nil {
		return errBadRequest("invalid body", form+"; "+jsonReason(err, into))
	}
	return nil
}

// jsonReason words a decoding error for the person who sent the body.
func jsonReason(err error, into any) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return "the body must be a JSON object, not " + jsonKind(te.Value)
		}
		return fmt.Sprintf("%s must be %s, not %s", logsafe.Clip(te.Field), wantedType(into, te.Field, te.Type), jsonKind(te.Value))
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON (at byte %d)", se.Offset)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "not valid JSON (it ends early)"
	}
	// encoding/json has no type for an unknown field; its text is
	// `json: unknown field "name"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + logsafe.Clip(name)
	}
	return "not valid JSON"
}

// wantedType describes the Go type of the field named by path (the JSON
// name, "a.b" for nested) in into's struct. The decoder's own type is the
// fallback; it is the element type for a list element, which would make
// "allow_list must be a string" out of a list that holds a number.
func wantedType(into any, path string, fallback reflect.Type) string {
	t := reflect.TypeOf(into)
	for _, name := range strings.Split(path, ".") {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return typeWords(fallback)
		}
		var found reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == name || (tag == "" && strings.EqualFold(f.Name, name)) {
				found = f.Type
				break
			}
		}
		t = found
	}
	if t == nil {
		return typeWords(fallback)
	}
	return typeWords(t)
}

// typeWords names a Go type as JSON, with its article.
func typeWords(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if inner := typeWords(t.Elem()); inner != "another type" {
			return "a list of " + plural(inner)
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}

// plural turns "a string" into "strings", "an integer" into "integers".
func plural(words string) string {
	switch words {
	case "true or false":
		return "true/false values"
	case "a list":
		return "lists"
	}
	_, noun, _ := strings.Cut(words, " ")
	return noun + "s"
}

// jsonKind words the decoder's name for what was sent ("number", "string",
// "array", "object", "bool", or "number 2.5" for a fraction sent to an
// integer).
func jsonKind(v string) string {
	switch {
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "bool":
		return "true or false"
	case v == "string":
		return "a string"
	case strings.HasPrefix(v, "number"):
		if n := strings.TrimSpace(strings.TrimPrefix(v, "number")); n != "" {
			return logsafe.Clip(n)
		}
		return "a number"
	}
	return "that"
}
