package web

import (
	"crypto/subtle"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickwatch/tickwatch/backend/buildinfo"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/status"
)

// metrics exposes Prometheus figures read at scrape time from the manager
// and the hub, so the hot paths keep their own cheap counters and pay
// nothing for Prometheus.
type metrics struct {
	d       *Deps
	handler fiber.Handler

	up, state, messages, errors, reconnects, dropped, rate, tickers                                 *prometheus.Desc
	sessions, sessionsTotal, refused, slowClosed, resyncs, frames, bytes, frameBytes, droppedFrames *prometheus.Desc

	sinkUp, sinkState, sinkPublished, sinkMessages, sinkDropped, sinkQueueFull, sinkRate        *prometheus.Desc
	sinkQueue, sinkQueueCap, sinkQueued, sinkQueuedCap, sinkStatusPub, sinkStatusDrop, sinkErrs *prometheus.Desc

	relayConsumers, relayConns, relayIn, relayOut, relaySlow, relayAuthFail, relayMaxConn, relayQueue, relaySubs *prometheus.Desc
	// Alerting (docs/alerts/prometheus-rules.yml reads these).
	lastMessage, tickersSilent, alertsFiring *prometheus.Desc
}

func newMetrics(d *Deps) *metrics {
	conn := []string{"connection_id", "name"}
	m := &metrics{
		d:             d,
		up:            prometheus.NewDesc("tickwatch_connection_up", "1 when the upstream connection is authenticated and streaming.", conn, nil),
		state:         prometheus.NewDesc("tickwatch_connection_state", "1 for the connection's current state.", []string{"connection_id", "name", "state"}, nil),
		messages:      prometheus.NewDesc("tickwatch_connection_messages_total", "Market events received.", conn, nil),
		errors:        prometheus.NewDesc("tickwatch_connection_errors_total", "Errors counted for the connection.", conn, nil),
		reconnects:    prometheus.NewDesc("tickwatch_connection_reconnects_total", "Reconnects of the connection.", conn, nil),
		dropped:       prometheus.NewDesc("tickwatch_connection_dropped_total", "Frames dropped because the processing queue was full.", conn, nil),
		rate:          prometheus.NewDesc("tickwatch_connection_messages_per_second", "Recent message rate.", conn, nil),
		tickers:       prometheus.NewDesc("tickwatch_connection_assigned_tickers", "Tickers assigned to the connection.", conn, nil),
		sessions:      prometheus.NewDesc("tickwatch_browser_sessions", "Open /admin-ws sessions.", nil, nil),
		sessionsTotal: prometheus.NewDesc("tickwatch_browser_sessions_total", "/admin-ws sessions opened.", nil, nil),
		refused:       prometheus.NewDesc("tickwatch_browser_sessions_refused_total", "/admin-ws sessions refused by ADMIN_WS_MAX_SESSIONS or ADMIN_WS_MAX_PER_USER (1013).", nil, nil),
		slowClosed:    prometheus.NewDesc("tickwatch_browser_slow_closed_total", "Sessions closed for staying behind (1013).", nil, nil),
		resyncs:       prometheus.NewDesc("tickwatch_browser_resyncs_total", "Snapshots re-sent to sessions that fell behind.", nil, nil),
		frames:        prometheus.NewDesc("tickwatch_live_frames_sent_total", "Frames written to browsers.", nil, nil),
		bytes:         prometheus.NewDesc("tickwatch_live_bytes_sent_total", "Bytes written to browsers.", nil, nil),
		frameBytes:    prometheus.NewDesc("tickwatch_live_last_frame_bytes", "Size of the last tick frame.", nil, nil),
		droppedFrames: prometheus.NewDesc("tickwatch_live_dropped_frames_total", "Frames discarded from slow sessions' queues.", nil, nil),
	}
	// The sinks' figures, one series per sink (label sink="redis"), as the
	// status document's sinks section shows them.
	sink := []string{"sink"}
	for _, d := range []struct {
		into       **prometheus.Desc
		name, help string
	}{
		{&m.sinkUp, "up", "1 when the sink's link is connected."},
		{&m.sinkPublished, "published_total", "Ticks published to the sink."},
		{&m.sinkMessages, "messages_total", "Messages those ticks were published in."},
		{&m.sinkDropped, "dropped_total", "Ticks that never reached the sink (queue full, sink away, failed write)."},
		{&m.sinkQueueFull, "queue_full_total", "Of the dropped ticks, those refused because the queue was full."},
		{&m.sinkRate, "published_per_second", "Ticks published over the last second."},
		{&m.sinkQueue, "queue_depth", "Batches waiting for the sink."},
		{&m.sinkQueueCap, "queue_capacity", "Most batches that may wait."},
		{&m.sinkQueued, "queued_ticks", "Ticks in the waiting batches."},
		{&m.sinkQueuedCap, "queued_ticks_capacity", "Most ticks that may wait."},
		{&m.sinkStatusPub, "status_published_total", "Status updates and health snapshots published."},
		{&m.sinkStatusDrop, "status_dropped_total", "Status updates and health snapshots dropped."},
		{&m.sinkErrs, "write_errors_total", "Commands the sink refused on a working link."},
	} {
		*d.into = prometheus.NewDesc("tickwatch_sink_"+d.name, d.help, sink, nil)
	}
	for _, d := range []struct {
		into       **prometheus.Desc
		name, help string
	}{
		{&m.relayConsumers, "consumers", "Relay consumer connections open now (authenticated or not)."},
		{&m.relayConns, "connections_total", "Relay consumer connections accepted."},
		{&m.relayIn, "events_in_total", "Upstream events handed to the relay."},
		{&m.relayOut, "events_out_total", "Events written to relay consumers (one per consumer that got it)."},
		{&m.relaySlow, "slow_disconnects_total", "Relay consumers cut off with slow_consumer."},
		{&m.relayAuthFail, "auth_failures_total", "Refused relay authentications."},
		{&m.relayMaxConn, "max_conn_refusals_total", "Relay connections refused over their key's connection cap."},
		{&m.relayQueue, "queue_depth", "Frames waiting for relay consumers, all connections; a consumer whose queue fills is cut off as slow."},
		{&m.relaySubs, "consumer_subscriptions", "Subscriptions of the connected relay consumers, summed over connections."},
	} {
		*d.into = prometheus.NewDesc("tickwatch_relay_"+d.name, d.help, nil, nil)
	}
	m.lastMessage = prometheus.NewDesc("tickwatch_connection_last_message_timestamp_seconds",
		"Unix time of the connection's last market message; 0 before the first. Enabled connections only.", []string{"connection"}, nil)
	m.tickersSilent = prometheus.NewDesc("tickwatch_tickers_silent",
		"Tickers of the connection silent for far longer than their usual interval at the last alert check.", []string{"connection"}, nil)
	m.alertsFiring = prometheus.NewDesc("tickwatch_alerts_firing", "Alert incidents firing now, by detector.", []string{"kind"}, nil)
	m.sinkState = prometheus.NewDesc("tickwatch_sink_state", "1 for the sink's current state.", []string{"sink", "state"}, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoGauge(buildinfo.Read(d.Version)))
	m.handler = adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return m
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.up, m.state, m.messages, m.errors, m.reconnects, m.dropped, m.rate, m.tickers,
		m.sessions, m.sessionsTotal, m.refused, m.slowClosed, m.resyncs, m.frames, m.bytes, m.frameBytes, m.droppedFrames,
		m.sinkUp, m.sinkState, m.sinkPublished, m.sinkMessages, m.sinkDropped, m.sinkQueueFull, m.sinkRate,
		m.sinkQueue, m.sinkQueueCap, m.sinkQueued, m.sinkQueuedCap, m.sinkStatusPub, m.sinkStatusDrop, m.sinkErrs,
		m.relayConsumers, m.relayConns, m.relayIn, m.relayOut, m.relaySlow, m.relayAuthFail, m.relayMaxConn, m.relayQueue, m.relaySubs,
		m.lastMessage, m.tickersSilent, m.alertsFiring} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	m.collectAlerts(ch)
	if m.d.Manager != nil {
		for _, sl := range m.d.Manager.SlotMetrics() {
			l := []string{sl.ConnectionID, sl.Name}
			ch <- prometheus.MustNewConstMetric(m.up, gauge, b2f(sl.Connected), l...)
			for _, st := range []massive.State{massive.StateDisconnected, massive.StateConnecting, massive.StateConnected, massive.StateError} {
				ch <- prometheus.MustNewConstMetric(m.state, gauge, b2f(sl.Status == st.String()), sl.ConnectionID, sl.Name, st.String())
			}
			ch <- prometheus.MustNewConstMetric(m.messages, counter, float64(sl.MessageCount), l...)
			ch <- prometheus.MustNewConstMetric(m.errors, counter, float64(sl.ErrorCount), l...)
			ch <- prometheus.MustNewConstMetric(m.reconnects, counter, float64(sl.Reconnects), l...)
			ch <- prometheus.MustNewConstMetric(m.dropped, counter, float64(sl.Dropped), l...)
			ch <- prometheus.MustNewConstMetric(m.rate, gauge, sl.Rate, l...)
			ch <- prometheus.MustNewConstMetric(m.tickers, gauge, float64(sl.TickerCount), l...)
		}
	}
	if m.d.Hub != nil {
		st := m.d.Hub.Stats()
		ch <- prometheus.MustNewConstMetric(m.sessions, gauge, float64(st.Sessions))
		ch <- prometheus.MustNewConstMetric(m.sessionsTotal, counter, float64(st.SessionsTotal))
		ch <- prometheus.MustNewConstMetric(m.refused, counter, float64(st.Refused))
		ch <- prometheus.MustNewConstMetric(m.slowClosed, counter, float64(st.SlowClosed))
		ch <- prometheus.MustNewConstMetric(m.resyncs, counter, float64(st.Resyncs))
		ch <- prometheus.MustNewConstMetric(m.frames, counter, float64(st.FramesSent))
		ch <- prometheus.MustNewConstMetric(m.bytes, counter, float64(st.BytesSent))
		ch <- prometheus.MustNewConstMetric(m.frameBytes, gauge, float64(st.LastFrameBytes))
		ch <- prometheus.MustNewConstMetric(m.droppedFrames, counter, float64(st.DroppedFrames))
	}
	if m.d.Relay != nil {
		st := m.d.Relay.Consumers()
		ch <- prometheus.MustNewConstMetric(m.relayConsumers, gauge, float64(len(st.Consumers)))
		queued, subs := 0, 0
		for _, c := range st.Consumers {
			queued += c.QueueDepth
			subs += c.Subscriptions
		}
		ch <- prometheus.MustNewConstMetric(m.relayQueue, gauge, float64(queued))
		ch <- prometheus.MustNewConstMetric(m.relaySubs, gauge, float64(subs))
		for _, v := range []struct {
			d   *prometheus.Desc
			val uint64
		}{
			{m.relayConns, st.ConnectionsTotal}, {m.relayIn, st.EventsIn}, {m.relayOut, st.EventsOut},
			{m.relaySlow, st.SlowDisconnects}, {m.relayAuthFail, st.AuthFailures}, {m.relayMaxConn, st.MaxConnRefusals},
		} {
			ch <- prometheus.MustNewConstMetric(v.d, counter, float64(v.val))
		}
	}
	if m.d.Status != nil {
		for _, sk := range m.d.Status.Sinks() {
			m.collectSink(ch, &sk)
		}
	}
}

func (m *metrics) collectSink(ch chan<- prometheus.Metric, sk *status.SinkDoc) {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	ch <- prometheus.MustNewConstMetric(m.sinkUp, gauge, b2f(sk.State == "connected"), sk.Name)
	for _, st := range status.SinkStates() {
		ch <- prometheus.MustNewConstMetric(m.sinkState, gauge, b2f(sk.State == st), sk.Name, st)
	}
	for _, v := range []struct {
		d   *prometheus.Desc
		t   prometheus.ValueType
		val float64
	}{
		{m.sinkPublished, counter, float64(sk.Published)},
		{m.sinkMessages, counter, float64(sk.Messages)},
		{m.sinkDropped, counter, float64(sk.Dropped)},
		{m.sinkQueueFull, counter, float64(sk.QueueFull)},
		{m.sinkRate, gauge, sk.PublishedPerSecond},
		{m.sinkQueue, gauge, float64(sk.QueueDepth)},
		{m.sinkQueueCap, gauge, float64(sk.QueueCapacity)},
		{m.sinkQueued, gauge, float64(sk.QueuedTicks)},
		{m.sinkQueuedCap, gauge, float64(sk.QueuedTicksCapacity)},
		{m.sinkStatusPub, counter, float64(sk.StatusPublished)},
		{m.sinkStatusDrop, counter, float64(sk.StatusDropped)},
		{m.sinkErrs, counter, float64(sk.WriteErrors)},
	} {
		ch <- prometheus.MustNewConstMetric(v.d, v.t, v.val, sk.Name)
	}
}

// collectAlerts: the last-message time of every enabled connection, and,
// with the alert engine, silent tickers per connection and firing
// incidents per kind (zeros included, so rules need no absent()).
func (m *metrics) collectAlerts(ch chan<- prometheus.Metric) {
	gauge := prometheus.GaugeValue
	var silent map[string]int
	if m.d.Alerts != nil {
		silent = m.d.Alerts.SilentTickers()
		for k, n := range m.d.Alerts.FiringByKind() {
			ch <- prometheus.MustNewConstMetric(m.alertsFiring, gauge, float64(n), string(k))
		}
	}
	if m.d.Manager == nil {
		return
	}
	for _, sl := range m.d.Manager.SlotMetrics() {
		if !sl.Enabled {
			continue
		}
		var last float64
		if !sl.LastMessage.IsZero() {
			last = float64(sl.LastMessage.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(m.lastMessage, gauge, last, sl.ConnectionID)
		if m.d.Alerts != nil {
			ch <- prometheus.MustNewConstMetric(m.tickersSilent, gauge, float64(silent[sl.ConnectionID]), sl.ConnectionID)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves /metrics, behind METRICS_TOKEN when it is set.
func (s *Server) metricsHandler(c *fiber.Ctx) error {
	if tok := s.d.Config.MetricsToken; tok != "" {
		got := c.Get(fiber.HeaderAuthorization)
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+tok)) != 1 {
			// Not the dashboard's "log in at /login": a scraper needs to
			// know which secret to send (never the secret itself).
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="tickwatch metrics"`)
			detail := "send Authorization: Bearer <the value of METRICS_TOKEN>"
			if got != "" {
				detail = "the bearer token does not match METRICS_TOKEN; send Authorization: Bearer <the value of METRICS_TOKEN>"
			}
			return &apiError{Status: fiber.StatusUnauthorized, Message: "authentication required", Detail: detail}
		}
	}
	return s.metrics.handler(c)
}

// buildInfoGauge is the usual *_build_info metric: always 1, the build in its
// labels, so dashboards can join on it and graph deploys.
func buildInfoGauge(b buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "tickwatch_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}
