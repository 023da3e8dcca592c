package sshtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/charmbracelet/x/vt"
	"github.com/coder/websocket"
)

// NewWebKey is a page's key as the browser door's page makes one: 32
// random bytes, base64url.
func NewWebKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// WithWebKey has DialWeb present key, as a page that has been here before.
func WithWebKey(key string) Option { return func(o *options) { o.webKey = key } }

// WithWebToken has DialWeb log in as the instructor with token.
func WithWebToken(token string) Option { return func(o *options) { o.webToken = token } }

// WithOrigin has DialWeb send an Origin header, as a browser does.
func WithOrigin(origin string) Option { return func(o *options) { o.origin = origin } }

// CloseError is how a web session ended: the WebSocket close code.
type CloseError struct{ Code websocket.StatusCode }

func (e *CloseError) Error() string { return fmt.Sprintf("websocket closed: %d", e.Code) }

// DialWeb connects to the browser door's WebSocket at url
// (ws://host:port/ws) as its page does: a hello with the page's key (a new
// one unless WithWebKey), the size and any token, then keys as input
// messages and window changes as resize messages. The screen is read
// through the same terminal emulator as Dial's, and every Client method
// works the same. Wait's exit status is 0 for a normal close and the close
// code for one of the door's own (4000 and up).
func DialWeb(t testing.TB, url string, opts ...Option) *Client {
	t.Helper()
	o := buildOptions(opts)
	if o.webKey == "" {
		o.webKey = NewWebKey()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var h http.Header
	if o.origin != "" {
		h = http.Header{"Origin": {o.origin}}
	}
	// A transport of its own, so that WithDialer's dial opens the
	// connection (and no other test's idle connections are shared).
	client := &http.Client{Transport: &http.Transport{DialContext: o.dial}}
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h, HTTPClient: client})
	if err != nil {
		t.Fatalf("sshtest: dial %s: %v", url, err)
	}
	conn.SetReadLimit(-1)
	hello, _ := json.Marshal(map[string]any{"key": o.webKey, "cols": o.width, "rows": o.height, "token": o.webToken})
	if err := conn.Write(ctx, websocket.MessageBinary, append([]byte{0x01}, hello...)); err != nil {
		t.Fatalf("sshtest: hello to %s: %v", url, err)
	}
	ew, eh := o.width, o.height
	if o.screenW > 0 && o.screenH > 0 {
		ew, eh = o.screenW, o.screenH
	}
	if ew <= 0 || eh <= 0 {
		ew, eh = defaultWidth, defaultHeight
	}
	out, outW := io.Pipe()
	c := &Client{
		t:        t,
		timeout:  o.timeout,
		hk:       &hostKeyRecorder{},
		stdin:    &webInput{conn: conn},
		emu:      vt.NewSafeEmulator(ew, eh),
		stopRead: make(chan struct{}),
		done:     make(chan struct{}),
		windowChange: func(w, h int) error {
			msg := []byte{0x02, 0, 0, 0, 0}
			binary.BigEndian.PutUint16(msg[1:3], uint16(w))
			binary.BigEndian.PutUint16(msg[3:5], uint16(h))
			return conn.Write(context.Background(), websocket.MessageBinary, msg)
		},
		// Closing the pipe too frees the frame reader if StopReading left
		// it waiting on a pipe nobody reads.
		hangUp: func() { _ = conn.CloseNow(); _ = out.Close() },
		exitOf: webExit,
	}
	c.emu.SetScrollbackSize(0)
	c.wg.Add(3)
	c.readers.Add(1)
	go func() {
		defer c.wg.Done()
		// The server's frames, in order, into the emulator's reader.
		for {
			typ, data, err := conn.Read(context.Background())
			if err != nil {
				c.waitErr = err
				_ = outW.Close()
				return
			}
			if typ == websocket.MessageBinary {
				if _, err := outW.Write(data); err != nil {
					return
				}
			}
		}
	}()
	go func() { defer c.wg.Done(); defer c.readers.Done(); c.readLoop(out) }()
	go func() { defer c.wg.Done(); c.answerLoop() }()
	go func() {
		c.readers.Wait()
		close(c.done)
	}()
	t.Cleanup(c.Close)
	return c
}

// webInput sends what is typed as input messages.
type webInput struct{ conn *websocket.Conn }

func (w *webInput) Write(p []byte) (int, error) {
	if err := w.conn.Write(context.Background(), websocket.MessageBinary, append([]byte{0x00}, p...)); err != nil {
		return 0, fmt.Errorf("sshtest: web input: %w", err)
	}
	return len(p), nil
}

func (w *webInput) Close() error { return nil }

// webExit reads a web session's end as an exit status.
func webExit(err error) (int, error) {
	code := websocket.CloseStatus(err)
	switch {
	case code == websocket.StatusNormalClosure:
		return 0, nil
	case code >= 4000:
		return int(code), nil
	case err == nil:
		return -1, errors.New("sshtest: the web session has not ended")
	default:
		return -1, &CloseError{Code: code}
	}
}
