// Package natsroom shares one class among several servers over NATS: it is
// the room's Transport when the server is started with --nats.
//
// Every operation a server authorises is published to the class's
// JetStream stream, which puts all servers' operations in one order and
// keeps them as the class's record. Each server process reads that stream
// through one ordered consumer (never one per student) and applies what it
// reads, in stream order, to its own room; the stream sequence is the
// operation's place in the order, so a duplicate or a redelivery changes
// nothing. The room as a whole is kept in a key-value bucket every few
// seconds, so a server that starts late or restarts loads it and applies
// only the operations after it.
package natsroom

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"charm.land/log/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/expedition-llm/expedition/session/room"
)

// Limits and pacing of the transport, each named once.
const (
	// MaxOutbox bounds the operations waiting for NATS while it is out of
	// reach; past it new ones are refused (an action is told to try again).
	MaxOutbox = 65536
	// MaxRecord bounds the operations the stream keeps as the class's
	// record (a day of 3,000 students is about 200,000).
	MaxRecord = 2_000_000
	// ImageEvery is how often a server keeps the room in the bucket when it
	// changed: a restarting server applies at most this much of the stream.
	ImageEvery = 5 * time.Second
	// HeartbeatEvery is how often a server says in the bucket that it is
	// alive, and looks for servers that stopped saying so.
	HeartbeatEvery = 10 * time.Second
	// GoneAfter is how long a server may be silent before the others end
	// the sessions the class still counts on it (it died and did not come
	// back; its students have reconnected elsewhere).
	GoneAfter = time.Minute
	// imageChunk bounds one value in the bucket (NATS's default largest
	// message is 1 MiB); a class's image is split into chunks of it.
	imageChunk = 512 << 10
	// publishWait bounds one attempt to publish; a failed one is retried.
	publishWait = 2 * time.Second
	// outageWait is how long an action waits for NATS when it is already
	// known to be away.
	outageWait = time.Second
	// purgeEvery is how many images are kept between two clean-ups of the
	// markers left by the chunks of replaced ones.
	purgeEvery = 360
	// connectWait is how long a starting server waits for NATS to answer.
	connectWait = 30 * time.Second
	// setupWait bounds connecting and finding the stream and bucket.
	setupWait = 10 * time.Second
)

// CheckRoom says whether name can name a class on NATS: it becomes part of
// subject, stream and bucket names, so it is 1 to 64 ASCII letters,
// digits, - or _.
func CheckRoom(name string) error {
	ok := len(name) >= 1 && len(name) <= 64
	for _, c := range name {
		ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
	}
	if !ok {
		return fmt.Errorf("room %q: use 1 to 64 letters, digits, - or _", name)
	}
	return nil
}

// Config is what a transport needs.
type Config struct {
	// URL is the NATS server, e.g. nats://10.0.0.5:4222 (several may be
	// given, comma-separated, for a cluster).
	URL string
	// Room names the class: servers with the same URL and Room are one
	// class.
	Room string
	// Server names this server among them, the same across its restarts.
	Server string
	// Replicas is how many NATS servers keep the stream and bucket (1 for
	// a single NATS server, 3 for a cluster of three).
	Replicas int
	Logger   *log.Logger
	// HeartbeatEvery and GoneAfter, when set, replace the constants of
	// the same names (for tests).
	HeartbeatEvery, GoneAfter time.Duration
}

// Transport carries one class's operations over NATS. It implements
// room.Transport.
type Transport struct {
	cfg     Config
	log     *log.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	kv      jetstream.KeyValue
	subject string

	out  chan *entry
	stop chan struct{}
	wg   sync.WaitGroup

	room *room.Room
	cons jetstream.ConsumeContext
	news chan struct{} // a slot: an operation was applied
	// imaged is the last image this server kept or found; mu serialises
	// keeping images.
	mu     sync.Mutex
	imaged uint64
	kept   int // images this server kept
}

// entry is one operation waiting in the outbox; acked is nil for a Post.
type entry struct {
	op    room.Op
	data  []byte
	ctx   context.Context
	acked chan error
}

// Dial connects to NATS and makes sure the class's stream and bucket
// exist. The room it serves is given to Start.
func Dial(cfg Config) (*Transport, error) {
	if err := CheckRoom(cfg.Room); err != nil {
		return nil, err
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard)
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = HeartbeatEvery
	}
	if cfg.GoneAfter <= 0 {
		cfg.GoneAfter = GoneAfter
	}
	t := &Transport{cfg: cfg, log: cfg.Logger, subject: "expedition." + cfg.Room + ".ops",
		out: make(chan *entry, MaxOutbox), stop: make(chan struct{}), news: make(chan struct{}, 1)}
	opts := []nats.Option{
		nats.Name("expedition " + cfg.Server),
		nats.MaxReconnects(-1), // a class outlives a NATS restart
		nats.ReconnectWait(250 * time.Millisecond),
		// No buffering while disconnected: a publish then fails at once
		// and the outbox retries it, or drops it when its member has been
		// told to try again; a buffered one would be applied later, after
		// the member was told it was not.
		nats.ReconnectBufSize(-1),
		nats.Timeout(setupWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			t.log.Warn("NATS: disconnected; actions wait until it is back", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { t.log.Info("NATS: reconnected", "url", c.ConnectedUrlRedacted()) }),
	}
	// NATS may be starting beside this server (compose starts both at
	// once): wait for it a while before giving up.
	var nc *nats.Conn
	var err error
	for start := time.Now(); ; {
		if nc, err = nats.Connect(cfg.URL, opts...); err == nil {
			break
		}
		if time.Since(start) > connectWait {
			return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.URL, err)
		}
		t.log.Info("NATS: waiting for it", "url", cfg.URL, "err", err)
		time.Sleep(time.Second)
	}
	t.nc = nc
	// JetStream may still be starting when NATS first answers.
	for start := time.Now(); ; {
		err := t.setup()
		if err == nil {
			return t, nil
		}
		if time.Since(start) > connectWait {
			nc.Close()
			return nil, err
		}
		t.log.Info("NATS: waiting for JetStream", "err", err)
		time.Sleep(time.Second)
	}
}

func (t *Transport) setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), setupWait)
	defer cancel()
	js, err := jetstream.New(t.nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	t.js = js
	t.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        "EXPEDITION_" + t.cfg.Room,
		Description: "Expedition class " + t.cfg.Room + ": every operation, in the class's order",
		Subjects:    []string{t.subject},
		Storage:     jetstream.FileStorage,
		Replicas:    t.cfg.Replicas,
		Duplicates:  2 * time.Minute,
		// The record of a long day, and no more: the oldest go first.
		// Servers keep the room's image every few seconds, so none ever
		// needs an operation this old.
		MaxMsgs: MaxRecord,
		Discard: jetstream.DiscardOld,
	})
	if err != nil {
		return fmt.Errorf("the class's stream (is JetStream on? nats-server -js): %w", err)
	}
	t.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      "expedition_" + t.cfg.Room,
		Description: "Expedition class " + t.cfg.Room + ": the room as it stands",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    t.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("the class's bucket: %w", err)
	}
	return nil
}

// Start loads the class into r (the room as kept in the bucket, then every
// operation after it), starts reading the stream and returns once r holds
// the class as it stood when Start was called; then it tells the class this
// server started. r must have t as its Transport and no one seated yet.
func (t *Transport) Start(r *room.Room) error {
	t.room = r
	ctx, cancel := context.WithTimeout(context.Background(), setupWait)
	defer cancel()
	info, err := t.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read the class's stream: %w", err)
	}
	last := info.State.LastSeq
	from, err := t.loadImage(ctx, last)
	if err != nil {
		return err
	}
	t.imaged = from
	cons, err := t.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from + 1,
	})
	if err != nil {
		return fmt.Errorf("read the class's stream: %w", err)
	}
	t.cons, err = cons.Consume(t.apply, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		t.log.Debug("NATS: reading the class", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("read the class's stream: %w", err)
	}
	for r.Applied() < last {
		select {
		case <-t.news:
		case <-ctx.Done():
			t.cons.Stop()
			return fmt.Errorf("catch up with the class (at %d of %d): %w", r.Applied(), last, ctx.Err())
		}
	}
	if _, err := t.beat(ctx); err != nil {
		t.cons.Stop()
		return err
	}
	t.wg.Add(3)
	go t.send()
	go t.keepImages()
	go t.heartbeat()
	if err := r.Started(); err != nil {
		return fmt.Errorf("tell the class this server started: %w", err)
	}
	t.log.Info("NATS: holding the class", "room", t.cfg.Room, "from_image", from, "applied", r.Applied())
	return nil
}

// apply is the one reader of the stream: each operation is applied to the
// room in stream order.
func (t *Transport) apply(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		t.log.Warn("NATS: an operation without its place in the order", "err", err)
		return
	}
	if err := t.room.Deliver(md.Sequence.Stream, msg.Data()); err != nil {
		t.log.Warn("NATS: skipped an operation", "err", err)
	}
	select {
	case t.news <- struct{}{}:
	default:
	}
}

// Send implements room.Transport: o goes to the outbox, and Send returns
// once JetStream has stored it, or ctx ends.
func (t *Transport) Send(ctx context.Context, o room.Op) error {
	if !t.nc.IsConnected() {
		// NATS is away: wait a moment for it to come back (a restart
		// takes about that), not the room's whole SendTimeout, so a
		// member's screen is not held up while the class cannot move.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, outageWait)
		defer cancel()
	}
	e, err := t.enqueue(ctx, o, true)
	if err != nil {
		return err
	}
	select {
	case err := <-e.acked:
		return err
	case <-ctx.Done():
		return fmt.Errorf("send to the class: %w", ctx.Err())
	}
}

// Post implements room.Transport: o goes to the outbox, to be published
// however long NATS takes to come back.
func (t *Transport) Post(o room.Op) {
	if _, err := t.enqueue(context.Background(), o, false); err != nil {
		t.log.Warn("NATS: an operation was lost", "err", err)
	}
}

func (t *Transport) enqueue(ctx context.Context, o room.Op, wait bool) (*entry, error) {
	data, err := o.Encode()
	if err != nil {
		return nil, err
	}
	e := &entry{op: o, data: data, ctx: ctx}
	if wait {
		e.acked = make(chan error, 1)
	}
	select {
	case t.out <- e:
		return e, nil
	default:
		return nil, errors.New("the outbox to NATS is full")
	}
}

// send publishes the outbox in order, one operation at a time, retrying
// each until JetStream stores it: a session's operations reach the class in
// the order it made them. A Send whose caller stopped waiting is dropped
// rather than retried (the member was told to try again).
func (t *Transport) send() {
	defer t.wg.Done()
	for {
		var e *entry
		select {
		case e = <-t.out:
		case <-t.stop:
			return
		}
		for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
			if e.acked != nil && e.ctx.Err() != nil {
				break
			}
			ctx, cancel := context.WithTimeout(context.Background(), publishWait)
			_, err := t.js.Publish(ctx, t.subject, e.data, jetstream.WithMsgID(e.op.ID()))
			cancel()
			if err == nil {
				if e.acked != nil {
					e.acked <- nil
				}
				break
			}
			if errors.Is(err, nats.ErrMaxPayload) {
				// Never accepted however often it is tried.
				t.log.Error("NATS: an operation is larger than NATS takes; dropped", "bytes", len(e.data))
				if e.acked != nil {
					e.acked <- err
				}
				break
			}
			t.log.Debug("NATS: publish failed, retrying", "err", err)
			select {
			case <-time.After(wait):
			case <-t.stop:
				return
			}
		}
	}
}

// aliveKey is where server says it is alive: its name in base64url, as
// bucket keys take only letters, digits and a few signs.
func aliveKey(server string) string {
	return "alive." + base64.RawURLEncoding.EncodeToString([]byte(server))
}

// beat says this server is alive, and returns when NATS stored that.
func (t *Transport) beat(ctx context.Context) (time.Time, error) {
	rev, err := t.kv.Put(ctx, aliveKey(t.cfg.Server), []byte(t.cfg.Server))
	if err != nil {
		return time.Time{}, fmt.Errorf("say this server is alive: %w", err)
	}
	e, err := t.kv.GetRevision(ctx, aliveKey(t.cfg.Server), rev)
	if err != nil {
		return time.Time{}, fmt.Errorf("say this server is alive: %w", err)
	}
	return e.Created(), nil
}

// heartbeat says every HeartbeatEvery that this server is alive, and gives
// up the servers the class counts sessions on that have not said so for
// GoneAfter. Times are NATS's own (when it stored each beat), so servers'
// clocks need not agree.
func (t *Transport) heartbeat() {
	defer t.wg.Done()
	tick := time.NewTicker(t.cfg.HeartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-t.stop:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), setupWait)
		now, err := t.beat(ctx)
		if err != nil {
			cancel()
			continue // NATS is away; nobody is given up meanwhile
		}
		for _, server := range t.room.Servers() {
			e, err := t.kv.Get(ctx, aliveKey(server))
			if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			if err == nil && now.Sub(e.Created()) < t.cfg.GoneAfter {
				continue
			}
			t.log.Warn("NATS: a server has not been heard from; ending its sessions in the class", "server", server)
			t.room.ServerGone(server)
		}
		cancel()
	}
}

// imageHead is the bucket's pointer to the newest image: its place in the
// order and how many chunks hold it.
type imageHead struct {
	Seq    uint64 `json:"seq"`
	Chunks int    `json:"chunks"`
}

const headKey = "image"

func chunkKey(seq uint64, i int) string {
	return "image." + strconv.FormatUint(seq, 10) + "." + strconv.Itoa(i)
}

// loadImage loads the newest image into the room and returns its place in
// the order (0 with none). An image past the stream's end belongs to a
// stream that was lost; the stream is the class, so it is left out.
func (t *Transport) loadImage(ctx context.Context, last uint64) (uint64, error) {
	for attempt := 0; attempt < 3; attempt++ {
		head, _, err := t.head(ctx)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read the class's image: %w", err)
		}
		if head.Seq > last {
			t.log.Warn("NATS: the kept image is ahead of the class's stream; starting from the stream", "image", head.Seq, "stream", last)
			return 0, nil
		}
		var zipped bytes.Buffer
		missing := false
		for i := range head.Chunks {
			e, err := t.kv.Get(ctx, chunkKey(head.Seq, i))
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				missing = true // replaced while read: read the newer one
				break
			}
			if err != nil {
				return 0, fmt.Errorf("read the class's image: %w", err)
			}
			zipped.Write(e.Value())
		}
		if missing {
			continue
		}
		zr, err := gzip.NewReader(&zipped)
		if err != nil {
			return 0, fmt.Errorf("read the class's image: %w", err)
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			return 0, fmt.Errorf("read the class's image: %w", err)
		}
		seq, err := t.room.LoadImage(data)
		if err != nil {
			return 0, err
		}
		return seq, nil
	}
	return 0, errors.New("read the class's image: it kept changing")
}

func (t *Transport) head(ctx context.Context) (imageHead, uint64, error) {
	var h imageHead
	e, err := t.kv.Get(ctx, headKey)
	if err != nil {
		return h, 0, err
	}
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return h, 0, fmt.Errorf("the image's head: %w", err)
	}
	return h, e.Revision(), nil
}

// keepImages keeps the room in the bucket every ImageEvery when it changed.
// Every server does it; a server whose room is not newer than the bucket's
// leaves it, so the bucket only moves forward.
func (t *Transport) keepImages() {
	defer t.wg.Done()
	tick := time.NewTicker(ImageEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if err := t.KeepImage(); err != nil {
				t.log.Warn("NATS: could not keep the class's image", "err", err)
			}
		case <-t.stop:
			return
		}
	}
}

// KeepImage writes the room to the bucket now if it is newer than the
// image there.
func (t *Transport) KeepImage() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.room.Applied() <= t.imaged {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupWait)
	defer cancel()
	old, rev, err := t.head(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	seq, data, err := t.room.Image()
	if err != nil {
		return err
	}
	if seq <= old.Seq {
		t.imaged = old.Seq
		return nil
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("compress the image: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress the image: %w", err)
	}
	z := zipped.Bytes()
	head := imageHead{Seq: seq, Chunks: (len(z) + imageChunk - 1) / imageChunk}
	for i := range head.Chunks {
		part := z[i*imageChunk : min(len(z), (i+1)*imageChunk)]
		if _, err := t.kv.Put(ctx, chunkKey(seq, i), part); err != nil {
			return fmt.Errorf("write the image: %w", err)
		}
	}
	hb, _ := json.Marshal(head)
	if rev == 0 {
		_, err = t.kv.Create(ctx, headKey, hb)
	} else {
		_, err = t.kv.Update(ctx, headKey, hb, rev)
	}
	if err != nil {
		// Another server kept a newer one first: ours is not needed.
		for i := range head.Chunks {
			_ = t.kv.Purge(ctx, chunkKey(seq, i))
		}
		return nil
	}
	for i := range old.Chunks {
		_ = t.kv.Purge(ctx, chunkKey(old.Seq, i))
	}
	t.imaged = seq
	if t.kept++; t.kept%purgeEvery == 0 {
		// Each replaced chunk leaves a purge marker; every half hour or so
		// the old ones go, so the bucket stays the size of one image.
		if err := t.kv.PurgeDeletes(ctx); err != nil {
			t.log.Debug("NATS: clearing old image markers", "err", err)
		}
	}
	return nil
}

// Close publishes what is left in the outbox (for up to grace: the
// sessions that just ended), stops reading and disconnects.
func (t *Transport) Close(grace time.Duration) {
	deadline := time.Now().Add(grace)
	for len(t.out) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(t.stop)
	t.wg.Wait()
	if t.cons != nil {
		t.cons.Stop()
	}
	if err := t.KeepImage(); err != nil {
		t.log.Warn("NATS: could not keep the class's image", "err", err)
	}
	t.nc.Close()
}

// Read loads the class kept on NATS into r (an empty room of its own, not
// shared) as it stands now, and returns its place in the class's order:
// the shared record, for a report. It only reads: it creates nothing,
// publishes nothing and is not counted as a server of the class.
func Read(cfg Config, r *room.Room) (uint64, error) {
	if err := CheckRoom(cfg.Room); err != nil {
		return 0, err
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard)
	}
	nc, err := nats.Connect(cfg.URL, nats.Name("expedition report"), nats.Timeout(setupWait))
	if err != nil {
		return 0, fmt.Errorf("connect to NATS at %s: %w", cfg.URL, err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*setupWait)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, fmt.Errorf("JetStream: %w", err)
	}
	t := &Transport{cfg: cfg, log: cfg.Logger, nc: nc, js: js, room: r, news: make(chan struct{}, 1)}
	if t.stream, err = js.Stream(ctx, "EXPEDITION_"+cfg.Room); err != nil {
		return 0, fmt.Errorf("no class %q on NATS at %s: %w", cfg.Room, cfg.URL, err)
	}
	if t.kv, err = js.KeyValue(ctx, "expedition_"+cfg.Room); err != nil {
		return 0, fmt.Errorf("no class %q on NATS at %s: %w", cfg.Room, cfg.URL, err)
	}
	info, err := t.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the class's stream: %w", err)
	}
	last := info.State.LastSeq
	from, err := t.loadImage(ctx, last)
	if err != nil {
		return 0, err
	}
	if from >= last {
		return from, nil
	}
	cons, err := t.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from + 1,
	})
	if err != nil {
		return 0, fmt.Errorf("read the class's stream: %w", err)
	}
	cc, err := cons.Consume(t.apply)
	if err != nil {
		return 0, fmt.Errorf("read the class's stream: %w", err)
	}
	defer cc.Stop()
	for r.Applied() < last {
		select {
		case <-t.news:
		case <-ctx.Done():
			return 0, fmt.Errorf("read the class (at %d of %d): %w", r.Applied(), last, ctx.Err())
		}
	}
	return r.Applied(), nil
}
