// Package relay serves Massive's WebSocket protocol to internal consumers, so
// that any program written for Massive (its official Go, Python or JS
// client, or our own massive.Client) can connect to Tickwatch by changing
// only its URL, and share the account's upstream connections instead of
// evicting them.
//
// A Hub is the whole relay. Serve runs one consumer connection: the
// `connected` greeting, auth with a consumer key (Keys; failures limited per
// (address, key prefix) and, more loosely, per address), subscribe/unsubscribe with one status per entry, and events as
// JSON arrays in upstream's shape. Ticks is the tap the manager calls with
// every decoded upstream batch: it routes the events to the consumers that
// subscribed them, encodes each distinct set of events once per batch and
// queues the frames without ever blocking. A frame is built once as the
// very bytes of a WebSocket frame (wsconn.Frame), shared by every consumer
// that gets it, and a consumer's writer sends all it has queued with one
// writev: at 100 consumers the relay's cost is mostly those system calls
// (BENCHMARKS.md, "Relay fan-out").
//
// Multiplexing: the Hub counts consumers per (channel, ticker) and calls
// Upstream.Acquire when the first consumer subscribes a pair and
// Upstream.Release when the last one leaves, once per message (or
// disconnect) with every such pair of it, never pair by pair. The Upstream side decides what
// that means: a pair a connection is configured (or admin-subscribed) to
// carry is already delivered, so Acquire is a no-op for it and Release never
// unsubscribes it; only pairs that exist because of consumers come and go.
//
// What cannot be relayed: the events are re-encoded from massive.Event
// (massive.AppendEvent), so the fields the decoder drops are missing (trade
// id and conditions, quote exchanges, conditions and indicators, the bars'
// average trade size and otc flag), and the channels it does not decode
// (LULD, NOI, FMV) are refused at subscribe.
//
// Backpressure like Massive: each consumer has a bounded frame queue and
// one writer goroutine. A consumer whose queue overflows (or whose socket
// stays blocked for WriteTimeout) gets the slow_consumer status and is
// disconnected; it is counted and logged, and neither Ticks nor the other
// consumers ever wait for it.
//
// Lock order: Hub.subMu (subscription counts and Upstream calls), then
// Hub.mu (consumers and routes; Ticks holds it for reading), then a
// consumer's mu (its queue). No lock is held across socket I/O.
package relay
