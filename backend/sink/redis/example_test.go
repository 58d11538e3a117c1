package redissink_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// The Go consumer of docs/redis.md, line for line, compiled here so that
// the snippet keeps building against the go-redis the project uses. It has
// no Output line because it would wait for a live feed.
func Example_consumer() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	for msg := range rdb.Subscribe(ctx, "tickwatch:ticks").Channel() {
		var ticks []map[string]any // one element per tick, fields as above
		if json.Unmarshal([]byte(msg.Payload), &ticks) == nil {
			for _, t := range ticks {
				fmt.Println(t["ev"], t["symbol"], t["price"], t["timestamp"])
			}
		}
	}
}
