//go:build race

package auth

// raceEnabled lets CPU-bound checks at production bcrypt cost (seconds under
// the race detector on a shared 2-core box) run only in plain test runs.
const raceEnabled = true
