package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
)

// staticFile is one file of the SPA, compressed once at start-up: the build
// is a few hundred KB, so paying for brotli per request would be waste.
type staticFile struct {
	body, gzip, br []byte
	contentType    string
	etag           string
}

type staticFiles struct {
	files map[string]*staticFile // "/index.html", "/assets/app-3f2a.js"
}

func newStaticFiles(fsys fs.FS) (*staticFiles, error) {
	st := &staticFiles{files: map[string]*staticFile{}}
	if fsys == nil {
		return st, nil
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f := &staticFile{body: body, contentType: mime.TypeByExtension(path.Ext(p))}
		if f.contentType == "" {
			f.contentType = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		if compressible(f.contentType) && len(body) > 512 {
			f.gzip, f.br = gzipBytes(body), brotliBytes(body)
		}
		st.files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read embedded SPA: %w", err)
	}
	return st, nil
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") ||
		strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func brotliBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// send writes a file honouring If-None-Match and Accept-Encoding. Hashed
// assets are immutable; everything else (index.html) must be revalidated so
// a deploy is picked up at once.
func (st *staticFiles) send(c *fiber.Ctx, f *staticFile, immutable bool, status int) error {
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderETag, f.etag)
	if immutable {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if status == fiber.StatusOK && c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Status(status)
	ae := c.Get(fiber.HeaderAcceptEncoding)
	switch {
	case f.br != nil && strings.Contains(ae, "br"):
		c.Set(fiber.HeaderContentEncoding, "br")
		return c.Send(f.br)
	case f.gzip != nil && strings.Contains(ae, "gzip"):
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(f.gzip)
	}
	return c.Send(f.body)
}

// spa serves files of the build, and index.html for client routes, after the
// page-level auth rules: anonymous visitors of the dashboard are sent to the
// login page, users without the role get the SPA's "not allowed" view (403).
func (s *Server) spa(c *fiber.Ctx) error {
	p := c.Path()
	if f, ok := s.static.files[p]; ok && p != "/index.html" {
		return s.static.send(c, f, strings.HasPrefix(p, "/assets/"), fiber.StatusOK)
	}
	if path.Ext(p) != "" {
		return errNotFound("not found", p)
	}
	status := fiber.StatusOK
	if !isClientRoute(p) {
		status = fiber.StatusNotFound // the SPA renders its 404 view
	}
	if isDashboardPage(p) {
		if !bool(s.d.Config.DashboardEnabled) {
			return errNotFound("not found", "the dashboard is disabled (ADMIN_WEBSOCKET_DASHBOARD_ENABLED=false)")
		}
		cl, ok := claimsFrom(c)
		if p == "/" || p == "/admin" {
			p = "/admin/websockets"
			if ok {
				return c.Redirect(p, fiber.StatusFound)
			}
		}
		if !ok {
			return c.Redirect("/login?next="+url.QueryEscape(p), fiber.StatusFound)
		}
		if !cl.Role.CanView() || isAdminPage(p) && !cl.Role.CanAct() {
			status = fiber.StatusForbidden // the SPA renders its forbidden view
		}
	}
	index, ok := s.static.files["/index.html"]
	if !ok {
		return c.Status(fiber.StatusServiceUnavailable).SendString("tickwatch: the SPA was not built into this binary")
	}
	return s.static.send(c, index, false, status)
}

// isClientRoute lists the SPA's routes so unknown paths get a real 404 status.
func isClientRoute(p string) bool {
	return p == "/login" || p == "/" || p == "/admin" || p == "/admin/websockets" ||
		isAdminPage(p)
}

// isAdminPage: client routes only admins may see.
func isAdminPage(p string) bool {
	return p == "/admin/sessions" || p == "/admin/audit" || p == "/admin/tokens" || p == "/admin/consumers"
}
