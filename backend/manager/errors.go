package manager

import "errors"

// Sentinel errors; callers (the REST API) map them to HTTP codes with errors.Is.
var (
	ErrInvalidSymbol     = errors.New("invalid symbol")
	ErrAlreadyAssigned   = errors.New("ticker already assigned")
	ErrNotAssigned       = errors.New("ticker not assigned")
	ErrUnknownConnection = errors.New("unknown connection")
	ErrDisabled          = errors.New("connection disabled")
)
