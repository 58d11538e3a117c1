package alert

// GroupSnap lets the external tests (webhooks against a real receiver)
// build the snapshots group_test.go uses.
var GroupSnap = groupSnap
