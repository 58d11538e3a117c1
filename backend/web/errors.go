package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
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
