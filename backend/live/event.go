package live

// Event pushes one event ([{"event": name, "data": data}], data already
// JSON) to every session at once, as StatusChanged does: an alert must not
// wait for the next flush. It never blocks on a browser; a session that is
// behind gets it after its snapshot is dropped, so clients reload the alert
// list on every snapshot.
func (h *Hub) Event(name string, data []byte) {
	if h.sessionCount() == 0 {
		return
	}
	frame := AppendEventFrame(make([]byte, 0, len(data)+len(name)+32), name, data)
	h.orderMu.Lock()
	defer h.orderMu.Unlock()
	h.broadcast(frame)
}
