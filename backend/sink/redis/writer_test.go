package redissink

import (
	"strconv"
	"testing"
)

func TestStreamTrim(t *testing.T) {
	type add struct {
		id    string
		ticks int
		minID string // after the add
	}
	cases := []struct {
		name string
		max  int64
		adds []add
	}{
		{"no trimming below the limit", 10, []add{{"1-0", 4, ""}, {"2-0", 5, ""}}},
		{"trim once newer entries hold the limit", 10, []add{
			{"1-0", 4, ""}, {"2-0", 5, ""}, {"3-0", 5, "2-0"}, {"4-0", 1, "2-0"}, {"5-0", 9, "4-0"}}},
		{"an entry larger than the limit keeps itself", 3, []add{{"1-0", 2, ""}, {"2-0", 8, "2-0"}, {"3-0", 1, "2-0"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s streamTrim
			for i, a := range c.adds {
				s.added(a.id, a.ticks, c.max)
				if got := s.minID(); got != a.minID {
					t.Fatalf("after add %d (%s): minID %q, want %q", i, a.id, got, a.minID)
				}
			}
		})
	}
	// Many adds: the kept window stays bounded and compaction keeps order.
	var s streamTrim
	for i := range 100_000 {
		s.added(strconv.Itoa(i)+"-0", 1, 50)
	}
	if s.minID() != "99950-0" || len(s.ids)-s.head != 50 || len(s.ids) > 2100 {
		t.Fatalf("after 100k adds: minID %s, kept %d, slice %d", s.minID(), len(s.ids)-s.head, len(s.ids))
	}
}
