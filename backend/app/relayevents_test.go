package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// wsConsumer is a consumer as the /admin-ws consumer events carry it.
type wsConsumer struct {
	ID            uint64  `json:"id"`
	Name          string  `json:"name"`
	KeyPrefix     string  `json:"key_prefix"`
	KeyID         int64   `json:"key_id"`
	Remote        string  `json:"remote"`
	Since         float64 `json:"since"`
	Authenticated bool    `json:"authenticated"`
	Subscriptions int     `json:"subscriptions"`
	Sent          uint64  `json:"sent"`
}

type wsConsumerChange struct {
	At       float64    `json:"at"`
	Reason   string     `json:"reason"`
	Consumer wsConsumer `json:"consumer"`
}

type wsConsumers struct {
	At               float64      `json:"at"`
	Consumers        []wsConsumer `json:"consumers"`
	ConnectionsTotal uint64       `json:"connections_total"`
}

// consumerChangeOf matches a consumer_connected/_disconnected event for
// the consumer named name, decoding it into into.
func consumerChangeOf(name string, into *wsConsumerChange) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var c wsConsumerChange
		if json.Unmarshal(d, &c) != nil || c.Consumer.Name != name {
			return false
		}
		*into = c
		return true
	}
}

// TestAdminWSConsumerEvents: an admin's dashboard socket hears a real relay
// consumer authenticate, sees its figures every second, and hears it leave
// with why (disconnected by an admin, its key revoked); the last one gone,
// one empty consumers document ends the stream. A viewer's socket carries
// none of it (the REST side is admin-only too).
func TestAdminWSConsumerEvents(t *testing.T) {
	e := relayStack(t)
	admin := streamAdminWS(t, e, "admin")
	viewer := streamAdminWS(t, e, "viewer")
	next(t, admin, "snapshot", relayPatience, nil)
	next(t, viewer, "snapshot", relayPatience, nil)
	notebook := createKey(t, e, `{"name":"notebook"}`)
	recorder := createKey(t, e, `{"name":"recorder"}`)

	a := authedConsumer(t, e, notebook.Key)
	var conn wsConsumerChange
	next(t, admin, "consumer_connected", relayPatience, consumerChangeOf("notebook", &conn))
	if c := conn.Consumer; !c.Authenticated || c.KeyID != notebook.ID || c.KeyPrefix != notebook.Prefix || c.Remote == "" || c.Since <= 0 || conn.At < c.Since || conn.Reason != "" {
		t.Errorf("consumer_connected: %+v", conn)
	}
	a.send(massive.ActionSubscribe, "T.AAPL,Q.XOM")
	a.expect(massive.StatusSuccess, "subscribed to: T.AAPL")
	a.expect(massive.StatusSuccess, "subscribed to: Q.XOM")

	// The per-second document shows its subscriptions and what it is sent.
	var doc wsConsumers
	next(t, admin, "consumers", relayPatience, func(d json.RawMessage) bool {
		return json.Unmarshal(d, &doc) == nil && len(doc.Consumers) == 1 && doc.Consumers[0].Subscriptions == 2 && doc.Consumers[0].Sent > 0
	})
	if doc.Consumers[0].ID != conn.Consumer.ID || doc.At <= 0 || doc.ConnectionsTotal != 1 {
		t.Errorf("consumers: %+v", doc)
	}

	// Disconnected by an admin.
	if resp := e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("/api/admin/consumers/%d", conn.Consumer.ID), Role: "admin"}); resp.Status != 200 {
		t.Fatalf("disconnect: %d %s", resp.Status, resp.Body)
	}
	var gone wsConsumerChange
	next(t, admin, "consumer_disconnected", relayPatience, consumerChangeOf("notebook", &gone))
	if gone.Reason != "admin" || gone.Consumer.ID != conn.Consumer.ID || gone.Consumer.Sent == 0 {
		t.Errorf("consumer_disconnected: %+v, want reason admin", gone)
	}

	// Its key revoked.
	authedConsumer(t, e, recorder.Key)
	next(t, admin, "consumer_connected", relayPatience, consumerChangeOf("recorder", &conn))
	if resp := e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("/api/admin/consumer-keys/%d", recorder.ID), Role: "admin"}); resp.Status != 200 {
		t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
	}
	next(t, admin, "consumer_disconnected", relayPatience, consumerChangeOf("recorder", &gone))
	if gone.Reason != "revoked" {
		t.Errorf("consumer_disconnected: %+v, want reason revoked", gone)
	}
	next(t, admin, "consumers", relayPatience, func(d json.RawMessage) bool {
		return json.Unmarshal(d, &doc) == nil && len(doc.Consumers) == 0
	})

	// The viewer: every frame up to one built after the last event above
	// (a metrics_update stamped later; one socket's frames keep their
	// order) carried no consumer event.
	deadline := time.After(relayPatience)
	for {
		select {
		case f, ok := <-viewer:
			if !ok {
				t.Fatal("the viewer's socket closed")
			}
			for _, ev := range f.events {
				if strings.HasPrefix(ev.Event, "consumer") {
					t.Fatalf("a viewer got %s: %s", ev.Event, ev.Data)
				}
				var m struct {
					ServerTime float64 `json:"server_time"`
				}
				if ev.Event == "metrics_update" && json.Unmarshal(ev.Data, &m) == nil && m.ServerTime > doc.At {
					return
				}
			}
		case <-deadline:
			t.Fatal("no metrics_update on the viewer's socket after the events")
		}
	}
}
