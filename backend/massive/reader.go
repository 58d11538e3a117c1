package massive

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/fasthttp/websocket"
)

// MaxFrameSize is the read limit for one server frame (the official Go
// client's). A bigger frame is an error and the connection is replaced.
const MaxFrameSize = 1_000_000

// Frame buffers that grew past this are not kept for reuse.
const maxPooledFrame = 256 << 10

// read is the link's reader: it only reads frames and queues them. A full
// queue drops the frame; the reader never waits on anyone.
func (c *Client) read(sess *session) {
	defer close(sess.done)
	conn := sess.conn
	extend := func() { _ = conn.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout)) }
	conn.SetPongHandler(func(string) error { extend(); return nil })
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	var lastWarn time.Time
	var droppedSinceWarn uint64
	for {
		extend()
		_, r, err := conn.NextReader()
		if err != nil {
			sess.readErr <- err
			return
		}
		buf, err := readFrame(r, c.getBuf())
		if err != nil {
			c.putBuf(buf)
			sess.readErr <- err
			return
		}
		c.frames.Add(1)
		select {
		case sess.queue <- buf:
		default:
			c.putBuf(buf)
			c.dropped.Add(1)
			droppedSinceWarn++
			if now := time.Now(); now.Sub(lastWarn) >= time.Second {
				c.log.Warn().Uint64("dropped", droppedSinceWarn).Uint64("dropped_total", c.dropped.Load()).
					Msg("frame queue full: consumer too slow, dropping frames")
				lastWarn, droppedSinceWarn = now, 0
			}
		}
	}
}

func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (c *Client) getBuf() []byte {
	select {
	case b := <-c.free:
		return b[:0]
	default:
		return make([]byte, 0, 4096)
	}
}

func (c *Client) putBuf(b []byte) {
	if cap(b) > maxPooledFrame {
		return
	}
	select {
	case c.free <- b:
	default:
	}
}

// describeReadError turns a reader error into a link-state reason.
func (c *Client) describeReadError(err error) string {
	if errors.Is(err, websocket.ErrReadLimit) {
		c.oversize.Add(1)
		return fmt.Sprintf("oversize frame: over the %d-byte read limit", MaxFrameSize)
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code == websocket.CloseAbnormalClosure {
			return "connection lost (1006): " + ce.Text
		}
		if ce.Text == "" {
			return fmt.Sprintf("closed by server: %d", ce.Code)
		}
		return fmt.Sprintf("closed by server: %d %s", ce.Code, ce.Text)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("read timeout: no frame or pong for %s", c.cfg.ReadTimeout)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection lost: EOF"
	}
	return "read: " + err.Error()
}
