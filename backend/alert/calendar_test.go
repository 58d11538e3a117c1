package alert

import (
	"testing"
	"time"
)

// The published NYSE holiday calendars (nyse.com/markets/hours-calendars).
var publishedHolidays = map[int][]string{
	2026: {"2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"},
	2027: {"2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24"},
}

// Early closes (13:00) in the same publications.
var publishedEarly = map[int][]string{
	2026: {"2026-11-27", "2026-12-24"},
	2027: {"2027-11-26"},
}

func TestHolidaysMatchPublishedCalendars(t *testing.T) {
	for year, want := range publishedHolidays {
		var got []string
		for d := date(year, 1, 1); d.Year() == year; d = d.AddDate(0, 0, 1) {
			if _, ok := Holiday(d.Date()); ok {
				got = append(got, d.Format(time.DateOnly))
			}
		}
		if !equal(got, want) {
			t.Errorf("%d holidays:\n got %v\nwant %v", year, got, want)
		}
		var early []string
		for d := date(year, 1, 1); d.Year() == year; d = d.AddDate(0, 0, 1) {
			if EarlyClose(d.Date()) {
				early = append(early, d.Format(time.DateOnly))
			}
		}
		if !equal(early, publishedEarly[year]) {
			t.Errorf("%d early closes:\n got %v\nwant %v", year, early, publishedEarly[year])
		}
	}
}

func TestHolidayRules(t *testing.T) {
	for _, tc := range []struct {
		day     string
		holiday bool
		early   bool
		why     string
	}{
		{"2027-12-31", false, false, "New Year 2028 is a Saturday: no Friday observance"},
		{"2022-01-01", false, false, "Saturday New Year: not observed the day before (2021-12-31 traded)"},
		{"2021-12-31", false, false, "Friday before a Saturday New Year trades"},
		{"2023-01-02", true, false, "Sunday New Year observed Monday"},
		{"2021-06-18", false, false, "Juneteenth was not an NYSE holiday before 2022"},
		{"2022-06-20", true, false, "Sunday Juneteenth observed Monday"},
		{"2025-07-03", false, true, "July 3 on a Thursday closes early"},
		{"2024-12-24", false, true, "Christmas Eve on a Tuesday closes early"},
		{"2021-12-24", true, false, "Saturday Christmas observed Friday Dec 24"},
		{"2024-03-29", true, false, "Good Friday 2024 (Easter March 31)"},
		{"2025-04-18", true, false, "Good Friday 2025 (Easter April 20)"},
		{"2019-04-19", true, false, "Good Friday 2019 (Easter April 21)"},
	} {
		d, err := time.Parse(time.DateOnly, tc.day)
		if err != nil {
			t.Fatal(err)
		}
		_, hol := Holiday(d.Date())
		if hol != tc.holiday || EarlyClose(d.Date()) != tc.early {
			t.Errorf("%s: holiday=%v early=%v, want %v/%v (%s)", tc.day, hol, EarlyClose(d.Date()), tc.holiday, tc.early, tc.why)
		}
	}
}

func TestCalendarOpen(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		mode string
		at   string
		open bool
	}{
		{HoursRegular, "2026-03-10 09:29", false},
		{HoursRegular, "2026-03-10 09:30", true},
		{HoursRegular, "2026-03-10 15:59", true},
		{HoursRegular, "2026-03-10 16:00", false},
		{HoursRegular, "2026-03-14 12:00", false}, // Saturday
		{HoursRegular, "2026-04-03 12:00", false}, // Good Friday
		{HoursRegular, "2026-11-27 12:59", true},  // early close day
		{HoursRegular, "2026-11-27 13:00", false},
		{HoursExtended, "2026-03-10 04:00", true},
		{HoursExtended, "2026-03-10 03:59", false},
		{HoursExtended, "2026-03-10 19:59", true},
		{HoursExtended, "2026-03-10 20:00", false},
		{HoursExtended, "2026-12-24 16:59", true},
		{HoursExtended, "2026-12-24 17:00", false},
		{HoursExtended, "2026-12-25 10:00", false},
		{HoursAlways, "2026-12-25 03:00", true},
		// DST: 09:30 New York is 13:30 UTC in summer, 14:30 in winter.
		{HoursRegular, "2026-07-06 09:30", true},
	}
	for _, tc := range cases {
		c, err := NewCalendar(tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Open(at(tc.at).UTC()); got != tc.open {
			t.Errorf("%s %s: open=%v, want %v", tc.mode, tc.at, got, tc.open)
		}
	}
	summer := at("2026-07-06 09:30").UTC()
	if summer.Hour() != 13 || summer.Minute() != 30 {
		t.Errorf("09:30 New York in July is %s UTC, want 13:30", summer.Format("15:04"))
	}
	if _, err := NewCalendar("weekdays"); err == nil {
		t.Error("NewCalendar accepted an unknown mode")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
