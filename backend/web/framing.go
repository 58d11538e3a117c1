package web

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
)

// refuseAmbiguousLength refuses a request that carries both Content-Length
// and Transfer-Encoding: chunked, and closes the connection (RFC 9112 6.1).
// Such a request is the shape of request smuggling: a proxy in front that
// frames the body by Content-Length and this server, which frames it by the
// chunks, disagree on where the next request starts, so bytes the proxy
// thinks are body get answered here as a request of their own.
//
// fasthttp already parsed the request: it lets chunked win, drops
// Content-Length from the parsed headers and, once the body is read, sets
// the length it found, so the only trace left is the raw header block,
// which it keeps for the duration of the handler. Any Transfer-Encoding
// counts (the RFC lets a server refuse the pair whatever the coding).
func refuseAmbiguousLength(c *fiber.Ctx) error {
	raw := c.Request().Header.RawHeaders()
	if !hasHeader(raw, fiber.HeaderTransferEncoding) || !hasHeader(raw, fiber.HeaderContentLength) {
		return c.Next()
	}
	// Whatever follows on this connection may be a smuggled request.
	c.Context().SetConnectionClose()
	return errBadRequest("ambiguous message length",
		"Content-Length together with Transfer-Encoding: chunked is refused (RFC 9112 section 6.1)")
}

// hasHeader reports whether the raw header block (lines "Name: value",
// CRLF or LF terminated) has a field called name, in any case.
func hasHeader(raw []byte, name string) bool {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if i := bytes.IndexByte(line, ':'); i >= 0 && bytes.EqualFold(bytes.TrimSpace(line[:i]), []byte(name)) {
			return true
		}
	}
	return false
}
