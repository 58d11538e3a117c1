package simulator

import "net/http"

func (s *Server) controlHandler() http.Handler { return http.NotFoundHandler() }
