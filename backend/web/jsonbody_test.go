package web

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeBodyWording: every way a body can be wrong is said in a
// person's words naming the field and the accepted type; no Go type, struct
// or package name reaches the detail.
func TestDecodeBodyWording(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		into       any
		strict     bool
		want       string
	}{
		{"token name number", `{"name":123}`, &createTokenRequest{}, true, "name must be a string, not a number"},
		{"token expires_in number", `{"name":"x","expires_in":30}`, &createTokenRequest{}, true, "expires_in must be a string, not a number"},
		{"key max_conns string", `{"name":"x","max_conns":"2"}`, &createKeyRequest{}, true, "max_conns must be an integer, not a string"},
		{"key max_conns fraction", `{"name":"x","max_conns":2.5}`, &createKeyRequest{}, true, "max_conns must be an integer, not 2.5"},
		{"key allow_list string", `{"name":"x","allow_list":"AAPL"}`, &createKeyRequest{}, true, "allow_list must be a list of strings, not a string"},
		{"key allow_list element", `{"name":"x","allow_list":["AAPL",7]}`, &createKeyRequest{}, true, "allow_list must be a list of strings, not a number"},
		{"subscribe tickers object", `{"tickers":{"a":1}}`, &subscribeRequest{}, false, "tickers must be a list of strings, not an object"},
		{"not an object", `[1,2]`, &createKeyRequest{}, true, "the body must be a JSON object, not a list"},
		{"unknown field", `{"name":"x","expires":"30d"}`, &createTokenRequest{}, true, `unknown field "expires"`},
		{"syntax", `{"name":}`, &createTokenRequest{}, true, "not valid JSON (at byte 9)"},
		{"cut short", `{"name":"x"`, &createTokenRequest{}, true, "not valid JSON (it ends early)"},
		{"empty", ``, &createTokenRequest{}, true, "the body is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeBody([]byte(tc.body), tc.into, tc.strict, "FORM")
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != "invalid body" {
				t.Fatalf("error %v, want a 400 invalid body", err)
			}
			if want := "FORM; " + tc.want; ae.Detail != want {
				t.Errorf("detail %q, want %q", ae.Detail, want)
			}
			for _, leak := range []string{"Go ", "struct", "unmarshal", "json:", "web.", "int64", "[]string"} {
				if strings.Contains(ae.Detail, leak) {
					t.Errorf("detail %q holds %q", ae.Detail, leak)
				}
			}
		})
	}
	var ok createKeyRequest
	if err := decodeBody([]byte(`{"name":"x","allow_list":["A"],"max_conns":2}`), &ok, true, "FORM"); err != nil || ok.MaxConns != 2 {
		t.Errorf("good body: %v %+v", err, ok)
	}
}
