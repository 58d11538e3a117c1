package simulator

import (
	"fmt"
	"testing"
)

// TestStartPricesSpread guards against a weak hash: synthetic tickers must
// open across the whole 10..900 range, not bunched at one price.
func TestStartPricesSpread(t *testing.T) {
	buckets := map[int]int{} // 0: <30, 1: <100, 2: <300, 3: >=300
	for i := 0; i < 400; i++ {
		p := startPrice(fmt.Sprintf("ZZ%03d", i), 1)
		if p < 10 || p > 900 {
			t.Fatalf("price %v out of 10..900", p)
		}
		switch {
		case p < 30:
			buckets[0]++
		case p < 100:
			buckets[1]++
		case p < 300:
			buckets[2]++
		default:
			buckets[3]++
		}
	}
	for b := 0; b < 4; b++ {
		if buckets[b] < 40 {
			t.Fatalf("prices bunched: %v", buckets)
		}
	}
	if startPrice("ZZ001", 1) != startPrice("ZZ001", 1) {
		t.Fatal("not deterministic")
	}
}
