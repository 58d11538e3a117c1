package relay

import (
	"encoding/binary"

	"github.com/tickwatch/tickwatch/backend/internal/wsconn"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// Ticks is the tap the manager calls with every decoded upstream batch of
// connection connID. It routes each event to the consumers subscribed to
// its (channel, symbol) or to the channel's wildcard, and queues one frame
// list per consumer. Every event is encoded at most once per batch, and
// consumers that get the same events share the same frames (the common case:
// several programs on the same tickers). It never blocks on a consumer and
// keeps nothing of batch: the frames are new bytes (symbols are immutable
// strings), so the caller may reuse batch when Ticks returns.
func (h *Hub) Ticks(connID string, batch []massive.Event) {
	if len(batch) == 0 {
		return
	}
	h.eventsIn.Add(uint64(len(batch)))
	h.tickMu.Lock()
	defer h.tickMu.Unlock()
	// Held while queueing, so that subscribe's acks (queued under the write
	// lock) are never overtaken by data for the new subscription.
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.consumers) == 0 {
		return
	}
	f := &h.fan
	f.reset(len(batch))
	for i := range batch {
		ev := &batch[i]
		if ev.Kind == 0 || int(ev.Kind) >= len(h.wild) {
			continue
		}
		set := h.routes[route{kind: ev.Kind, sym: ev.Symbol}]
		if set != nil {
			for _, c := range set.list {
				f.add(c, i)
			}
		}
		for _, c := range h.wild[ev.Kind].list {
			if set == nil || !set.has(c) {
				f.add(c, i)
			}
		}
	}
	for _, c := range f.touched {
		c.enqueueData(f.framesFor(c.pending, batch))
		c.pending = c.pending[:0]
	}
	clear(f.touched)
	f.touched = f.touched[:0]
}

// fanout is Ticks' scratch, reused from batch to batch (guarded by
// Hub.tickMu, as is every consumer's pending list), so that steady-state
// routing allocates only the frames it hands out.
type fanout struct {
	enc     []byte     // this batch's routed events, each encoded once
	span    [][2]int32 // per batch index: [start, end) in enc; start -1 = not encoded yet
	touched []*consumer
	key     []byte         // a consumer's event list as bytes, to find a set already built
	sets    map[string]int // event list -> index in built
	built   [][]outItem    // frames for one set of events, shared by every consumer that gets exactly that set
}

func (f *fanout) reset(n int) {
	f.enc = f.enc[:0]
	if cap(f.span) < n {
		f.span = make([][2]int32, n)
	}
	f.span = f.span[:n]
	for i := range f.span {
		f.span[i][0] = -1
	}
	clear(f.sets)
	clear(f.built) // the frames now belong to the consumers' queues
	f.built = f.built[:0]
}

func (f *fanout) add(c *consumer, i int) {
	if len(c.pending) == 0 {
		f.touched = append(f.touched, c)
	}
	c.pending = append(c.pending, int32(i))
}

// framesFor returns the frames carrying batch's events at idx (ascending),
// building them unless a consumer before had the same list.
func (f *fanout) framesFor(idx []int32, batch []massive.Event) []outItem {
	f.key = f.key[:0]
	for _, i := range idx {
		f.key = binary.LittleEndian.AppendUint32(f.key, uint32(i))
	}
	if j, ok := f.sets[string(f.key)]; ok {
		return f.built[j]
	}
	// Encode first (each event once per batch, whoever asks), so that
	// every frame is allocated at its final size: growing a frame event
	// by event copied it several times over.
	left := 0 // bytes of the events not yet in a frame, each with its comma
	for _, i := range idx {
		sp := &f.span[i]
		if sp[0] < 0 {
			sp[0] = int32(len(f.enc))
			f.enc = massive.AppendEvent(f.enc, &batch[i])
			sp[1] = int32(len(f.enc))
		}
		left += int(sp[1]-sp[0]) + 1
	}
	var set []outItem
	var frame []byte
	n := 0 // events in frame
	for _, i := range idx {
		obj := f.enc[f.span[i][0]:f.span[i][1]]
		if frame != nil && len(frame)+len(obj)+1 >= maxFrameBytes {
			set = append(set, outItem{data: wsconn.Frame(append(frame, ']')), events: n})
			frame, n = nil, 0
		}
		if frame == nil {
			// Room for the WebSocket header in front: the frame goes to
			// every consumer's socket as these very bytes.
			frame = make([]byte, wsconn.FrameRoom, min(maxFrameBytes, wsconn.FrameRoom+1+left))
			frame = append(frame, '[')
		} else {
			frame = append(frame, ',')
		}
		frame = append(frame, obj...)
		left -= len(obj) + 1
		n++
	}
	if frame != nil {
		set = append(set, outItem{data: wsconn.Frame(append(frame, ']')), events: n})
	}
	f.sets[string(f.key)] = len(f.built)
	f.built = append(f.built, set)
	return set
}
