package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
	"github.com/tickwatch/tickwatch/backend/manager"
)

// apiError is the one error shape of the API: {"error": ..., "detail": ...}.
type apiError struct {
	Status     int    `json:"-"`
	Message    string `json:"error"`
	Detail     string `json:"detail,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
}

func (e *apiError) Error() string { return e.Message + ": " + e.Detail }

func errBadRequest(msg, detail string) error {
	return &apiError{Status: fiber.StatusBadRequest, Message: msg, Detail: detail}
}

func errNotFound(msg, detail string) error {
	return &apiError{Status: fiber.StatusNotFound, Message: msg, Detail: detail}
}

func errConflict(msg, detail string) error {
	return &apiError{Status: fiber.StatusConflict, Message: msg, Detail: detail}
}

func errForbidden(detail string) error {
	return &apiError{Status: fiber.StatusForbidden, Message: "forbidden", Detail: detail}
}

func errUnauthorized() error {
	return &apiError{Status: fiber.StatusUnauthorized, Message: "authentication required", Detail: "log in at /login"}
}

// errorHandler turns every error into the JSON shape with the right status;
// Fiber's own errors (404 route, 413 body, 405) are mapped the same way so a
// client never sees an HTML or plain-text error from the API.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var ae *apiError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &fe):
		ae = &apiError{Status: fe.Code, Message: strings.ToLower(fiberMessage(fe))}
	default:
		s.d.Logger.Error().Err(err).Str("path", logsafe.Clip(c.Path())).Msg("request failed")
		ae = &apiError{Status: fiber.StatusInternalServerError, Message: "internal error"}
	}
	if ae.Status == fiber.StatusRequestEntityTooLarge {
		ae.Detail = "request bodies are limited to 64 KiB"
	}
	return c.Status(ae.Status).JSON(ae)
}

func fiberMessage(fe *fiber.Error) string {
	if fe.Message != "" {
		return fe.Message
	}
	return "error"
}

// managerErrors maps the manager's sentinel errors to HTTP answers.
var managerErrors = []struct {
	sentinel error
	status   int
	message  string
	// subject words a detail that starts with a bare name ("connection_3"), else "".
	subject string
}{
	{manager.ErrInvalidSymbol, fiber.StatusBadRequest, "invalid symbol", ""},
	{manager.ErrAlreadyAssigned, fiber.StatusConflict, "ticker already assigned", ""},
	{manager.ErrNotAssigned, fiber.StatusNotFound, "ticker not assigned", ""},
	{manager.ErrUnknownConnection, fiber.StatusNotFound, "unknown connection", ""},
	{manager.ErrDisabled, fiber.StatusConflict, "connection disabled", "%s is disabled"},
}

// managerOps are the operation names the manager puts in front of its
// errors ("subscribe: ..."): context for a log, noise for the person who
// just made that very request.
var managerOps = map[string]bool{"subscribe": true, "unsubscribe": true, "reconnect": true, "set enabled": true}

// managerError maps the manager's sentinel errors to API errors whose detail
// says it once, for a person: "AAPL is already on connection_1" rather than
// the Go chain "subscribe: AAPL is already on connection_1: ticker already
// assigned". The manager's error values stay as they are (the audit log and
// the server log keep the whole chain).
func managerError(err error) error {
	for _, m := range managerErrors {
		if errors.Is(err, m.sentinel) {
			return &apiError{Status: m.status, Message: m.message, Detail: personDetail(err, m.sentinel, m.subject)}
		}
	}
	return err
}

// personDetail strips the operation prefixes and the sentinel's own words
// (already in the "error" field) from err's message. A detail that is (or
// starts with) a bare name is worded with subject when one is given.
func personDetail(err, sentinel error, subject string) string {
	msg := err.Error()
	for {
		op, rest, ok := strings.Cut(msg, ": ")
		if !ok || !managerOps[op] {
			break
		}
		msg = rest
	}
	msg = strings.Replace(msg, ": "+sentinel.Error(), "", 1)
	if msg == sentinel.Error() {
		return ""
	}
	if subject != "" {
		// "connection_3" or "connection_2: single-connection mode (...)"
		name, rest, more := strings.Cut(msg, ": ")
		if !strings.Contains(name, " ") {
			msg = fmt.Sprintf(subject, name)
			if more {
				msg += ": " + rest
			}
		}
	}
	return msg
}
