package alert

import (
	"fmt"
	"time"

	// The calendar needs America/New_York. A scratch or distroless image has
	// no /usr/share/zoneinfo, and time.LoadLocation would then fail at start
	// (or, worse, an operator would "fix" it with UTC and alert at the wrong
	// hours). Embedding the tz database costs about 450 KB of binary.
	_ "time/tzdata"
)

// Market-hours modes (MARKET_HOURS).
const (
	HoursRegular  = "regular"  // 09:30-16:00 New York, trading days
	HoursExtended = "extended" // 04:00-20:00 New York, trading days
	HoursAlways   = "always"   // every minute counts (tests, 24x7 feeds)
)

// Calendar says when the US equities market is open, by the NYSE rules.
// Holidays are computed from their rules rather than listed, so the
// calendar does not expire; the tests pin it to the published 2026 and
// 2027 NYSE calendars.
type Calendar struct {
	mode string
	loc  *time.Location
}

// NewCalendar returns the calendar for mode (regular, extended or always).
func NewCalendar(mode string) (*Calendar, error) {
	switch mode {
	case HoursRegular, HoursExtended, HoursAlways:
	default:
		return nil, fmt.Errorf("market hours %q: want regular, extended or always", mode)
	}
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		return nil, fmt.Errorf("market calendar: %w", err)
	}
	return &Calendar{mode: mode, loc: loc}, nil
}

// Mode is the calendar's MARKET_HOURS mode.
func (c *Calendar) Mode() string { return c.mode }

// Open reports whether the market counts as open at t: alerts that depend
// on data flowing (silence) only fire then.
func (c *Calendar) Open(t time.Time) bool {
	if c.mode == HoursAlways {
		return true
	}
	open, close, ok := c.Session(t)
	return ok && !t.Before(open) && t.Before(close)
}

// Session returns the session of t's New York date under the calendar's
// mode; ok is false on weekends and holidays. Early-close days end at 13:00
// (regular) or 17:00 (extended, when the late session ends early too).
func (c *Calendar) Session(t time.Time) (open, close time.Time, ok bool) {
	t = t.In(c.loc)
	y, m, d := t.Date()
	if !TradingDay(y, m, d) {
		return time.Time{}, time.Time{}, false
	}
	at := func(h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, c.loc) }
	early := EarlyClose(y, m, d)
	switch c.mode {
	case HoursExtended:
		if early {
			return at(4, 0), at(17, 0), true
		}
		return at(4, 0), at(20, 0), true
	default:
		if early {
			return at(9, 30), at(13, 0), true
		}
		return at(9, 30), at(16, 0), true
	}
}

// TradingDay reports whether the NYSE trades on that date: a weekday that is
// not a holiday.
func TradingDay(y int, m time.Month, d int) bool {
	wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, hol := Holiday(y, m, d)
	return !hol
}

// Holiday returns the name of the NYSE holiday observed on that date.
func Holiday(y int, m time.Month, d int) (string, bool) {
	day := date(y, m, d)
	for _, h := range holidays(y) {
		if h.on.Equal(day) {
			return h.name, true
		}
	}
	// New Year's Day of the next year observed on Dec 31 never happens
	// (see holidays), so the year's own list is complete.
	return "", false
}

type holiday struct {
	name string
	on   time.Time
}

// holidays lists the NYSE holidays as observed in year y.
func holidays(y int) []holiday {
	out := []holiday{
		{"Martin Luther King Jr. Day", nthWeekday(y, time.January, time.Monday, 3)},
		{"Washington's Birthday", nthWeekday(y, time.February, time.Monday, 3)},
		{"Good Friday", easter(y).AddDate(0, 0, -2)},
		{"Memorial Day", lastWeekday(y, time.May, time.Monday)},
		{"Labor Day", nthWeekday(y, time.September, time.Monday, 1)},
		{"Thanksgiving Day", nthWeekday(y, time.November, time.Thursday, 4)},
	}
	// New Year's Day on a Saturday is not observed on the Friday before:
	// NYSE rule 7.2 keeps the last trading day of the year open.
	if ny := date(y, time.January, 1); ny.Weekday() != time.Saturday {
		out = append(out, holiday{"New Year's Day", observed(ny)})
	}
	if y >= 2022 { // Juneteenth became an NYSE holiday in 2022
		out = append(out, holiday{"Juneteenth National Independence Day", observed(date(y, time.June, 19))})
	}
	out = append(out,
		holiday{"Independence Day", observed(date(y, time.July, 4))},
		holiday{"Christmas Day", observed(date(y, time.December, 25))},
	)
	return out
}

// EarlyClose reports whether the NYSE closes at 13:00 that day: the day
// after Thanksgiving, and Christmas Eve and July 3 when they are trading
// days before a weekday holiday (Monday to Thursday).
func EarlyClose(y int, m time.Month, d int) bool {
	if !TradingDay(y, m, d) {
		return false
	}
	day := date(y, m, d)
	if day.Equal(nthWeekday(y, time.November, time.Thursday, 4).AddDate(0, 0, 1)) {
		return true
	}
	if (m == time.December && d == 24) || (m == time.July && d == 3) {
		return day.Weekday() >= time.Monday && day.Weekday() <= time.Thursday
	}
	return false
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// observed moves a Saturday holiday to Friday and a Sunday one to Monday.
func observed(t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		return t.AddDate(0, 0, -1)
	case time.Sunday:
		return t.AddDate(0, 0, 1)
	}
	return t
}

func nthWeekday(y int, m time.Month, wd time.Weekday, n int) time.Time {
	t := date(y, m, 1)
	t = t.AddDate(0, 0, (int(wd)-int(t.Weekday())+7)%7)
	return t.AddDate(0, 0, 7*(n-1))
}

func lastWeekday(y int, m time.Month, wd time.Weekday) time.Time {
	t := date(y, m+1, 1).AddDate(0, 0, -1)
	return t.AddDate(0, 0, -((int(t.Weekday()) - int(wd) + 7) % 7))
}

// easter is Western Easter Sunday by the anonymous Gregorian computus
// (Meeus/Jones/Butcher).
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return date(y, time.Month(month), day)
}
