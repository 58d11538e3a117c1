package live

// Event pushes one event ([{"event": name, "data": data}], data already
// JSON) to every session at once, as StatusChanged does: an alert must not
// wait for the next flush. It never blocks on a browser; a session that is
// behind gets it after its snapshot is dropped, so clients reload the alert
// list on every snapshot.
func (h *Hub) Event(name string, data []byte) { h.event(name, data, false) }

// AdminEvent is Event for admins' sessions only (Peer.Admin): for what the
// REST API shows admins only, such as the relay's consumers and their
// addresses, which a viewer's dashboard socket must not carry.
func (h *Hub) AdminEvent(name string, data []byte) { h.event(name, data, true) }

func (h *Hub) event(name string, data []byte, adminsOnly bool) {
	if h.sessionCount() == 0 {
		return
	}
	frame := AppendEventFrame(make([]byte, 0, len(data)+len(name)+32), name, data)
	h.orderMu.Lock()
	defer h.orderMu.Unlock()
	if !adminsOnly {
		h.broadcast(frame)
		return
	}
	f := h.newFrame(frame)
	if f == nil {
		return
	}
	h.forEach(func(s *session) {
		if s.peer.Admin {
			s.enqueueUrgent(f)
		}
	})
}
