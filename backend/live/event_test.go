package live

import (
	"testing"
	"time"
)

// TestAdminEventReachesAdminsOnly: an admin-only event goes to admins'
// sessions and never to a viewer's, while Event still goes to both.
func TestAdminEventReachesAdminsOnly(t *testing.T) {
	h := newHarness(t, harnessOpts{Options: Options{FlushInterval: time.Hour}})
	admin := h.dialAs(0, "user=root&admin")
	viewer := h.dialAs(0, "user=watcher")
	admin.readUntil("snapshot", 5*time.Second)
	viewer.readUntil("snapshot", 5*time.Second)

	h.hub.AdminEvent("secret", []byte(`{"remote":"10.0.0.5"}`))
	h.hub.Event("marker", []byte(`{}`))

	// Frames to one session keep their order: the viewer's next event after
	// its snapshot is the marker, so the admin-only event was never queued.
	if evs := admin.read(5 * time.Second); len(evs) != 1 || evs[0].Event != "secret" || string(evs[0].Data) != `{"remote":"10.0.0.5"}` {
		t.Fatalf("admin got %+v, want the secret event", evs)
	}
	if evs := admin.read(5 * time.Second); len(evs) != 1 || evs[0].Event != "marker" {
		t.Fatalf("admin got %+v, want the marker", evs)
	}
	if evs := viewer.read(5 * time.Second); len(evs) != 1 || evs[0].Event != "marker" {
		t.Fatalf("viewer got %+v, want the marker only", evs)
	}
}
