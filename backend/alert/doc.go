// Package alert says when data goes stale before anyone has to look: it
// runs the detectors (a silent connection, a silent ticker, subscription
// drift, reconnect storms, auth_failed and max_connections, dropped frames)
// in one place against a snapshot of the manager's health and the tick
// store's per-symbol timings, keeps the incidents (one firing and one
// resolved event each), and hands them to whoever listens: the live hub,
// the webhooks, /metrics and the store's history. The US equities market
// calendar lives here too, so silence at night or on a holiday is not an
// alert.
//
// A ticker counts as silent when it is far quieter than its own recent
// interval, or when it has not delivered an event since it was subscribed
// and acknowledged (a typo'd or unentitled ticker: the upstream
// acknowledges it all the same) for ALERT_TICKER_SILENCE_MIN.
//
// Many silent tickers of one connection at once (more than
// TickerSilenceGroup) are one ticker_silent incident for the connection,
// not one per ticker: see tickerSilent in detect.go.
package alert
