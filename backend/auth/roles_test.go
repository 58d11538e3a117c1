package auth

import "testing"

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{"admin", RoleAdmin, false},
		{"viewer", RoleViewer, false},
		{"user", RoleUser, false},
		{" Admin ", RoleAdmin, false},
		{"VIEWER", RoleViewer, false},
		{"", "", true},
		{"root", "", true},
		{"admins", "", true},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRolePermissions(t *testing.T) {
	tests := []struct {
		role          Role
		view, act, ok bool
	}{
		{RoleAdmin, true, true, true},
		{RoleViewer, true, false, true},
		{RoleUser, false, false, true},
		{Role(""), false, false, false},
		{Role("Admin"), false, false, false}, // only ParseRole folds case
	}
	for _, tt := range tests {
		if got := tt.role.CanView(); got != tt.view {
			t.Errorf("%q.CanView() = %v", tt.role, got)
		}
		if got := tt.role.CanAct(); got != tt.act {
			t.Errorf("%q.CanAct() = %v", tt.role, got)
		}
		if got := tt.role.Valid(); got != tt.ok {
			t.Errorf("%q.Valid() = %v", tt.role, got)
		}
	}
}
