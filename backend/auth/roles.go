package auth

import (
	"fmt"
	"strings"
)

// Role is what an authenticated user may do.
type Role string

const (
	// RoleAdmin sees everything and may act (reconnect, subscribe, ...).
	RoleAdmin Role = "admin"
	// RoleViewer sees the dashboard and the read-only API but may not act.
	RoleViewer Role = "viewer"
	// RoleUser is authenticated but has no access to the admin area, as in
	// the original application (403 everywhere).
	RoleUser Role = "user"
)

// ParseRole accepts a role name case-insensitively, ignoring surrounding
// spaces, so hand-written user files are forgiving.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleViewer, RoleUser:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want admin, viewer or user)", s)
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleViewer || r == RoleUser
}

// CanView reports whether r may read the dashboard and the admin API.
func (r Role) CanView() bool { return r == RoleAdmin || r == RoleViewer }

// CanAct reports whether r may perform admin actions.
func (r Role) CanAct() bool { return r == RoleAdmin }
