// Package auth holds everything the web layer needs to decide who a request
// comes from and what it may do: users and roles, bcrypt password hashes,
// signed session tokens, the CSRF origin check, login rate limiting and the
// audit log of admin actions.
//
// It deliberately knows nothing about HTTP frameworks: backend/web adapts
// these primitives to Fiber. Nothing here logs or returns a password, a hash,
// a session secret or a token.
package auth
