package redissink

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
)

// urlForm is what an error about the URL shows as the accepted form.
const urlForm = "redis://[user:password@]host[:port][/db] or rediss://... for TLS"

// urlError is a rejected URL: what is wrong with it, without the password.
// New's error adds the accepted form; CheckURL's does not, because the
// configuration quotes the accepted form itself and once is enough.
type urlError struct{ reason string }

func (e *urlError) Error() string { return "redis url: " + e.reason + ": want " + urlForm }

func badURL(format string, args ...any) *urlError {
	return &urlError{reason: fmt.Sprintf(format, args...)}
}

// parseURL turns the sink's URL into go-redis options, a redactor for its
// password and the URL as it may be logged. No error it returns contains
// the password: net/url puts the whole input into its errors, so those are
// never passed on as they are.
func parseURL(raw string) (*redis.Options, redactor, string, error) {
	red := newRedactor(raw)
	if strings.TrimSpace(raw) == "" {
		return nil, red, "", &urlError{reason: "empty"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		detail := "not a URL"
		var uerr *url.Error
		// The inner error names the offending part (a bad port, a bad
		// escape); that part may be the password itself, so it is shown
		// only for a URL without credentials.
		if errors.As(err, &uerr) && !strings.Contains(raw, "@") {
			detail = uerr.Err.Error()
		}
		return nil, red, "", badURL("%s", detail)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, red, "", badURL("scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, red, "", badURL("no host")
	}
	// net/url checks only that a port is digits; 0 or 99999 would pass
	// start-up and then fail every dial, retried forever.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, red, "", badURL("port %s is out of range (use 1 to 65535, or leave it out for 6379)", logsafe.Clip(p))
		}
	}
	if pw, ok := u.User.Password(); ok {
		red.add(pw)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, red, "", badURL("%s", red.String(strings.TrimPrefix(err.Error(), "redis: ")))
	}
	return opts, red, u.Redacted(), nil
}

// redactor removes a password from text that may contain it: errors from
// the network or the client, which could echo the URL or the AUTH
// arguments one day even if they do not today.
type redactor struct{ secrets []string }

// newRedactor takes the password as it is written in the URL (still
// %-escaped) and, when the URL parses, as decoded, so either spelling is
// caught. It works on the raw text too, so a URL that does not parse is
// covered.
func newRedactor(raw string) redactor {
	var r redactor
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
			r.add(pw)
			if dec, err := url.PathUnescape(pw); err == nil {
				r.add(dec)
			}
		}
	}
	return r
}

func (r *redactor) add(s string) {
	if s == "" {
		return
	}
	for _, have := range r.secrets {
		if have == s {
			return
		}
	}
	r.secrets = append(r.secrets, s)
}

const redacted = "xxxxx" // what url.URL.Redacted writes

// String returns s with every secret replaced.
func (r redactor) String(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}

// CheckURL reports whether raw is a URL New accepts, and returns it with
// the password replaced. The configuration calls it so that a bad REDIS_URL
// is a start-up error like any other bad variable. Its error says what is
// wrong ("redis url: port 99999 is out of range ...") but not the accepted
// form, which the caller shows once (config's accept tag); it never
// contains the password.
func CheckURL(raw string) (target string, err error) {
	_, _, target, err = parseURL(raw)
	var ue *urlError
	if errors.As(err, &ue) {
		return "", errors.New("redis url: " + ue.reason)
	}
	return target, err
}

// RedactURL returns raw with its password replaced, whether or not raw
// parses: for showing a rejected value to the operator.
func RedactURL(raw string) string { return newRedactor(raw).String(raw) }
