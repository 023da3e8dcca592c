package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// The browser door's wire (server/webdoor.go), as its page speaks it: binary
// messages both ways; to the server a kind byte and its body, from it the
// terminal's output as is.
const (
	kindInput = 0x00 // the bytes typed
	kindHello = 0x01 // first and once: JSON webHello
)

// webHello is the first message: who the page is and its terminal's size.
type webHello struct {
	Key  string `json:"key"`
	Cols int    `json:"cols"`
	Rows int    `json:"rows"`
}

// webDoor is how the class's students reach the browser door's WebSockets,
// each at the address its dialOptions give (already checked by
// parseWebURL).
type webDoor struct {
	client *http.Client
}

// newWebDoor is the door. Its HTTP client goes straight to the address it
// is given: no proxy from the environment, no redirect followed.
func newWebDoor(timeout time.Duration) *webDoor {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
		TLSHandshakeTimeout: timeout,
	}
	return &webDoor{client: &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("redirected to %s: the tool only connects to the address it is given", req.URL)
		},
	}}
}

// parseWebURL checks --web: a ws:// or wss:// address with a host.
func parseWebURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("--web: %w", err)
	}
	if (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("--web: %q is not a WebSocket address such as ws://127.0.0.1:8080/ws", s)
	}
	return u.String(), nil
}

// newWebKey is a page's key: 32 random bytes, base64url, a new member of
// the class each.
func newWebKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// dialWeb opens the WebSocket, says hello with a new key and the
// terminal's size, and starts reading: the same screen model and
// cross-check as an SSH student's, fed every binary message.
func dialWeb(ctx context.Context, o dialOptions) (*term, error) {
	hctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(hctx, o.addr, &websocket.DialOptions{HTTPClient: o.web.client})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s as %s: %s: %w", o.addr, o.user, resp.Status, err)
		}
		return nil, fmt.Errorf("dial %s as %s: %w", o.addr, o.user, err)
	}
	// The reads stream through a fixed buffer, so a message of any length
	// costs no more memory than a short one.
	conn.SetReadLimit(-1)
	key, err := newWebKey()
	if err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	hello, err := json.Marshal(webHello{Key: key, Cols: o.size.w, Rows: o.size.h})
	if err != nil {
		_ = conn.CloseNow()
		return nil, fmt.Errorf("hello: %w", err)
	}
	if err := conn.Write(hctx, websocket.MessageBinary, append([]byte{kindHello}, hello...)); err != nil {
		_ = conn.CloseNow()
		return nil, fmt.Errorf("hello as %s: %w", o.user, webEnd(err))
	}
	t := newTerm(o, &webInput{conn: conn, timeout: o.timeout}, func() {
		_ = conn.Close(websocket.StatusNormalClosure, "")
	})
	go t.readWeb(conn)
	return t, nil
}

// readWeb is the read loop of a web student: each binary message read in
// pieces of at most 16 KiB, as an SSH student's stream is, each timed as
// soon as it is read and then consumed.
func (t *term) readWeb(conn *websocket.Conn) {
	defer close(t.done)
	buf := make([]byte, 16<<10)
	for {
		typ, r, err := conn.Reader(context.Background())
		if err != nil {
			t.finish(webEnd(err))
			return
		}
		for {
			n, err := r.Read(buf)
			if n > 0 && typ == websocket.MessageBinary { // text messages carry nothing of the terminal's
				at := time.Since(t.epoch)
				t.bytes.Add(int64(n))
				t.consume(buf[:n], at)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.finish(webEnd(err))
				return
			}
		}
	}
}

// webInput sends what is typed as input messages.
type webInput struct {
	conn    *websocket.Conn
	timeout time.Duration
}

func (w *webInput) Write(p []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	msg := make([]byte, 1+len(p))
	msg[0] = kindInput
	copy(msg[1:], p)
	if err := w.conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
		return 0, webEnd(err)
	}
	return len(p), nil
}

// webClosed is a WebSocket the server closed, with its code and reason.
type webClosed struct {
	code   websocket.StatusCode
	reason string
}

func (e *webClosed) Error() string {
	s := fmt.Sprintf("the server closed the WebSocket with %d", int(e.code))
	switch {
	case e.code == websocket.StatusNormalClosure:
		s += " (normal closure)"
	case e.code >= 4000 && e.code <= 4099:
		s += " (refused for good)"
	case e.code >= 4100 && e.code <= 4199:
		s += " (try later)"
	default:
		s += " (" + e.code.String() + ")"
	}
	if e.reason != "" {
		s += ": " + e.reason
	}
	return s
}

// webEnd names a close frame's code and reason; other errors pass as they
// are. (The door writes why it refuses on the screen first: the errors of
// the waits that see it end show the screen too.)
func webEnd(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return &webClosed{code: ce.Code, reason: ce.Reason}
	}
	return err
}
