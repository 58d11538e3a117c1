package web

import (
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// parseProxies reads TRUSTED_PROXIES (IPs or CIDRs, validated by config).
func parseProxies(list []string) []*net.IPNet {
	var out []*net.IPNet
	for _, p := range list {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil {
				bits := 8 * len(ip.To16())
				if ip.To4() != nil {
					ip, bits = ip.To4(), 32
				}
				out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			}
			continue
		}
		if _, n, err := net.ParseCIDR(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (s *Server) trusted(ip net.IP) bool {
	for _, n := range s.proxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the address the login limiter and the logs use. Behind a
// trusted proxy it is the rightmost X-Forwarded-For entry that is not itself
// a trusted proxy: everything left of that was written by the client and
// proves nothing.
func (s *Server) clientIP(c *fiber.Ctx) string {
	remote := c.Context().RemoteIP()
	if !s.trusted(remote) {
		return remote.String()
	}
	ips := c.IPs()
	for i := len(ips) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(ips[i]))
		if ip == nil {
			break
		}
		if !s.trusted(ip) {
			return ip.String()
		}
	}
	return remote.String()
}
